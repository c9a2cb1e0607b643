#!/bin/sh
# Installs the Debian packages of scripts/packages.txt that are missing, and
# with the vm group the kernel the VM tests boot (scripts/vm-deps.sh fetches
# it into .cache/kernel). The only script that installs anything: make deps,
# make demo, make bench and .ci/run call it.
#
#   sh scripts/install-deps.sh [GROUP...]          install (as root) what the
#                                                  groups need (without one,
#                                                  every group but the opt-in
#                                                  debug group)
#   sh scripts/install-deps.sh --check [GROUP...]  install nothing: say what is
#                                                  missing and how to install
#                                                  it, and exit 1 (make check)
#
# Idempotent: when everything is present it only runs dpkg-query (well under
# a second).
set -eu
ROOT=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=scripts/lib.sh
. "$ROOT/scripts/lib.sh"

check_only=0 me=install-deps
if [ "${1:-}" = --check ]; then
	check_only=1 me="install-deps --check"
	shift
fi
say() { echo "$me: $*" >&2; }

# No group named: every group of packages.txt but the opt-in ones (the
# debug kernel's source is big and its build takes long: only on request).
OPT_IN=" debug "
if [ $# -eq 0 ]; then
	# shellcheck disable=SC2046
	set -- $(awk '/^[ \t]*(#|$)/ { next } { for (i = 2; i <= NF; i++) print $i }' \
		"$ROOT/scripts/packages.txt" | sort -u | while read -r g; do
			case "$OPT_IN" in *" $g "*) ;; *) echo "$g" ;; esac
		done)
fi

# shellcheck disable=SC2046
missing=$(missing_packages $(packages "$@"))
kernel=ok
case " ${*:-vm} " in
*" vm "*) sh "$ROOT/scripts/vm-deps.sh" --check >/dev/null 2>&1 || kernel= ;;
esac

if [ $check_only = 1 ]; then
	[ -z "$missing" ] && [ -n "$kernel" ] && exit 0
	[ -z "$missing" ] || say "missing Debian packages:$missing"
	[ -n "$kernel" ] || say "missing the VM's kernel in .cache/kernel (scripts/vm-deps.sh fetches it)"
	say "nothing was installed; to install what is missing, run as root: make deps"
	exit 1
fi

if [ -n "$missing" ]; then
	is_root || { say "missing packages:$missing (run as root to install them)"; exit 1; }
	say "installing$missing"
	export DEBIAN_FRONTEND=noninteractive
	# tshark's postinst asks whether non-root users may capture; answer no.
	echo "wireshark-common wireshark-common/install-setuid boolean false" |
		debconf-set-selections 2>/dev/null || true
	apt-get -o DPkg::Lock::Timeout=600 update -qq >/dev/null ||
		apt-get -o DPkg::Lock::Timeout=600 update
	# shellcheck disable=SC2086
	apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends \
		$missing >/dev/null
fi
[ -n "$kernel" ] || sh "$ROOT/scripts/vm-deps.sh" >/dev/null
