# Shared by bench/fig5/run.sh and nic.sh (sourced, from the project's root,
# after scripts/lib.sh): their options and their build.

# fig5_args ARGS...: --smoke --sizes --caps --runs --steps --out --nic into
# SMOKE SIZES CAPS RUNS STEPS OUT NICDEV (the caller's defaults stay where
# not given; --nic only means something to nic.sh)
fig5_args() {
	while [ $# -gt 0 ]; do
		case "$1" in
		--smoke) SMOKE=1 ;;
		--sizes) SIZES=$2; shift ;;
		--caps) CAPS=$2; shift ;;
		--runs) RUNS=$2; shift ;;
		--steps) STEPS=$2; shift ;;
		--out) OUT=$2; shift ;;
		--nic) NICDEV=$2; shift ;;
		*) echo "usage: $0 [--smoke] [--sizes LIST] [--caps LIST] [--runs N] [--steps N] [--out DIR] [--nic e1000|rtl8139]" >&2
		   exit 2 ;;
		esac
		shift
	done
}

# fig5_build DIR: what the run needs is there (the VM's kernel included),
# the project and its VM programs built, bench/pcap_count.c into DIR;
# a TAP failure and finish otherwise
fig5_build() {
	sh scripts/install-deps.sh --check build vm fig5 2>"$1/deps.log" ||
		{ not_ok "what it needs is installed (make deps)"; sed 's/^/# /' "$1/deps.log"; finish; }
	make -s all vm-bins >"$1/make.log" 2>&1 ||
		{ not_ok "make all vm-bins"; tail -20 "$1/make.log"; finish; }
	cc -O2 -Wall -o "$1/pcap_count" bench/pcap_count.c -lpcap || { not_ok "build pcap_count"; finish; }
}
