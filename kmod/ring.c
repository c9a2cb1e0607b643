// SPDX-License-Identifier: GPL-2.0
/*
 * PF_ZEROCOPY: descriptor rings in kernel memory, mapped through the socket.
 */
#include <linux/mm.h>
#include <linux/poll.h>
#include <linux/vmalloc.h>

#include "pfzc.h"

static void pfzc_ring_free_pages(struct page **pages, unsigned long n)
{
	while (n)
		__free_page(pages[--n]);
	kvfree(pages);
}

/*
 * Ring memory is charged to the creator's memory cgroup (__GFP_ACCOUNT),
 * as the umem's pins are charged to its user: a container's rings count
 * against its own memory.max, not the host's. vmalloc_user() cannot be
 * asked for that, so the pages are allocated here and mapped, with
 * VM_USERMAP for remap_vmalloc_range(), as BPF's ring buffer does.
 */
int pfzc_ring_create(struct pfzc_kring *kr, u32 entries)
{
	size_t size = PAGE_ALIGN(pfzc_ring_map_size(entries));
	unsigned long i, n = size >> PAGE_SHIFT;
	struct page **pages;
	void *map;

	pages = kvcalloc(n, sizeof(*pages), GFP_KERNEL_ACCOUNT);
	if (!pages)
		return -ENOMEM;
	for (i = 0; i < n; i++) {
		pages[i] = alloc_page(GFP_KERNEL_ACCOUNT | __GFP_ZERO |
				      __GFP_NOWARN | __GFP_RETRY_MAYFAIL);
		if (!pages[i]) {
			pfzc_ring_free_pages(pages, i);
			return -ENOMEM;
		}
	}
	map = vmap(pages, n, VM_MAP | VM_USERMAP, PAGE_KERNEL);
	if (!map) {
		pfzc_ring_free_pages(pages, n);
		return -ENOMEM;
	}
	pfzc_ring_format(map, entries);
	if (pfzc_ring_init(&kr->r, map, entries)) {
		vunmap(map);
		pfzc_ring_free_pages(pages, n);
		return -EINVAL;
	}
	kr->pages = pages;
	kr->map_size = size;
	kr->entries = entries;
	/* poll() and recvmsg() look at map without the socket lock */
	smp_store_release(&kr->map, map);
	return 0;
}

/*
 * Only from release: every vma of the ring holds a reference to the
 * socket's file, so no mapping of it is left by then.
 */
void pfzc_ring_destroy(struct pfzc_kring *kr)
{
	if (!kr->map)
		return;
	vunmap(kr->map);
	pfzc_ring_free_pages(kr->pages, kr->map_size >> PAGE_SHIFT);
	kr->map = NULL;
	kr->pages = NULL;
}

static void pfzc_vm_open(struct vm_area_struct *vma)
{
	struct pfzc_sock *po = vma->vm_private_data;

	atomic_inc(&po->mapped);
}

static void pfzc_vm_close(struct vm_area_struct *vma)
{
	struct pfzc_sock *po = vma->vm_private_data;

	atomic_dec(&po->mapped);
}

static const struct vm_operations_struct pfzc_vm_ops = {
	.open	= pfzc_vm_open,
	.close	= pfzc_vm_close,
};

int pfzc_mmap(struct file *file, struct socket *sock,
	      struct vm_area_struct *vma)
{
	struct pfzc_sock *po = pfzc_sk(sock->sk);
	unsigned long size = vma->vm_end - vma->vm_start;
	struct pfzc_kring *kr;
	int err = -EINVAL;

	/* a private mapping would copy on write and hide the consumer index */
	if (!(vma->vm_flags & VM_SHARED))
		return -EINVAL;

	mutex_lock(&po->lock);
	if (vma->vm_pgoff == PFZC_PGOFF_RX_RING)
		kr = &po->rx;
	else if (vma->vm_pgoff == PFZC_PGOFF_TX_RING)
		kr = &po->tx;
	else
		kr = NULL;
	if (kr && (!kr->map || size > kr->map_size))
		goto out;

	err = kr ? remap_vmalloc_range(vma, kr->map, 0) :
		   pfzc_cring_mmap(po, vma);
	if (err)
		goto out;
	vma->vm_private_data = po;
	vma->vm_ops = &pfzc_vm_ops;
	atomic_inc(&po->mapped);
out:
	mutex_unlock(&po->lock);
	return err;
}

/*
 * rx: the kernel produces. Its producer index is the one it published; the
 * consumer index comes from user space and counts only when it is sane.
 */
static bool pfzc_rx_readable(struct pfzc_kring *kr)
{
	u32 prod, cons;

	if (!smp_load_acquire(&kr->map))
		return false;
	prod = READ_ONCE(*kr->r.producer);
	cons = READ_ONCE(*kr->r.consumer);
	return prod != cons && prod - cons <= kr->entries;
}

/* tx: user space produces, the kernel consumes on each kick. */
static bool pfzc_tx_writable(struct pfzc_kring *kr)
{
	u32 prod, cons;

	prod = READ_ONCE(*kr->r.producer);
	cons = READ_ONCE(*kr->r.consumer);
	return prod - cons < kr->entries;
}

__poll_t pfzc_poll(struct file *file, struct socket *sock,
		   struct poll_table_struct *wait)
{
	struct sock *sk = sock->sk;
	struct pfzc_sock *po = pfzc_sk(sk);
	enum pfzc_state state;
	__poll_t mask = 0;

	sock_poll_wait(file, sock, wait);

	if (READ_ONCE(sk->sk_err))
		mask |= EPOLLERR;
	state = READ_ONCE(po->state);
	if (state == PFZC_DEAD)
		mask |= EPOLLHUP;

	if (!skb_queue_empty_lockless(&sk->sk_receive_queue) ||
	    pfzc_rx_readable(&po->rx) || pfzc_cring_readable(po))
		mask |= EPOLLIN | EPOLLRDNORM;
	else if (state == PFZC_BOUND && pfzc_sock_rx_shared(po))
		pfzc_rx_kick(po);	/* before the reader sleeps */

	if (state == PFZC_BOUND) {
		if (!smp_load_acquire(&po->tx.map) || pfzc_tx_writable(&po->tx))
			mask |= EPOLLOUT | EPOLLWRNORM;
	}
	return mask;
}
