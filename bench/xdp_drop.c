/* xdp_drop: the benchmark's ceiling. Counts every frame in a per-CPU array
 * (for inspection with bpftool, if present) and drops it.
 *   clang -O2 -g -target bpf -c xdp_drop.c -o xdp_drop.o
 *   ip link set dev IF xdp obj xdp_drop.o sec xdp
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} xdp_drop_count SEC(".maps");

SEC("xdp")
int xdp_drop_all(struct xdp_md *ctx)
{
	__u32 k = 0;
	__u64 *v = bpf_map_lookup_elem(&xdp_drop_count, &k);

	(void)ctx;
	if (v)
		(*v)++;
	return XDP_DROP;
}

char _license[] SEC("license") = "GPL";
