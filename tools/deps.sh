#!/bin/sh
# Make sure the Debian packages needed for one purpose are installed.
#   tools/deps.sh build|iso|run|test
# Quiet when nothing is missing. As root, installs what is missing
# (apt-get update once, then install); otherwise prints the apt-get
# line to run and exits 1.
set -eu

die() { echo "deps.sh: $*" >&2; exit 1; }

build="gcc make binutils"
iso="$build grub-pc-bin grub-efi-amd64-bin grub-common xorriso mtools"
run="$iso qemu-system-x86 ovmf bochs bochsbios vgabios"
# libclang-rt-dev holds libFuzzer and clang's sanitizer runtimes (only
# recommended by clang, so --no-install-recommends would skip it).
test="$run python3-pytest python3-pytest-xdist clang libclang-rt-dev"

[ $# -eq 1 ] || die "usage: tools/deps.sh build|iso|run|test"
case "$1" in
build) want=$build ;;
iso) want=$iso ;;
run) want=$run ;;
test) want=$test ;;
*) die "unknown purpose '$1' (want build, iso, run or test)" ;;
esac

command -v dpkg-query >/dev/null 2>&1 ||
	die "dpkg-query not found: this script knows only Debian; install by hand: $want"

missing=
for p in $want; do
	st=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)
	[ "$st" = installed ] || missing="$missing $p"
done
[ -n "$missing" ] || exit 0
missing=${missing# }

line="DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends $missing"
if [ "$(id -u)" -ne 0 ]; then
	echo "deps.sh: missing Debian packages for '$1': $missing" >&2
	echo "deps.sh: as root, run: apt-get update && $line" >&2
	exit 1
fi

echo "deps.sh: installing for '$1': $missing" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -q >&2 || die "apt-get update failed"
# shellcheck disable=SC2086 # word splitting of the package list is wanted
apt-get install -y -q --no-install-recommends $missing >&2 ||
	die "apt-get install failed for: $missing"
