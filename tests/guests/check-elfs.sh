#!/bin/sh
# Check the test guest images: the entry point lies inside a PT_LOAD,
# every PT_LOAD sits at or above 1 MiB (clear of the hypervisor's boot
# area, core/guest_abi.h), and the multiboot guests carry headers GRUB
# accepts (skipped without grub-file).
#   tests/guests/check-elfs.sh ELF...
set -eu

die() { echo "check-elfs.sh: $*" >&2; exit 1; }
[ $# -ge 1 ] || die "usage: tests/guests/check-elfs.sh ELF..."

# Shell arithmetic takes readelf's 0x... numbers; mawk's awk would not.
check_loads() {
	entry=$(readelf -hW "$1" | sed -n 's/^ *Entry point address: *//p')
	[ -n "$entry" ] || { echo "$1: no ELF header"; return 1; }
	hit=0 n=0
	readelf -lW "$1" | grep '^ *LOAD ' >"$tmp" || true
	while read -r _ _ va pa _ msz _; do
		n=$((n + 1))
		if [ $((pa)) -lt $((0x100000)) ]; then
			echo "$1: PT_LOAD at paddr $pa below 1 MiB"
			return 1
		fi
		if [ $((entry)) -ge $((va)) ] && [ $((entry)) -lt $((va + msz)) ]; then
			hit=1
		fi
	done <"$tmp"
	[ "$n" -gt 0 ] || { echo "$1: no PT_LOAD"; return 1; }
	[ "$hit" -eq 1 ] || { echo "$1: entry $entry is in no PT_LOAD"; return 1; }
}

tmp=$(mktemp "${TMPDIR:-/tmp}/check-elfs.XXXXXX")
trap 'rm -f "$tmp"' EXIT

for elf in "$@"; do
	[ -f "$elf" ] || die "$elf: no such file"
	check_loads "$elf" || die "$elf: bad program headers"
	kind=
	case "$(basename "$elf")" in
	*-mb1.elf) kind=--is-x86-multiboot ;;
	*-mb2.elf) kind=--is-x86-multiboot2 ;;
	esac
	if [ -n "$kind" ] && command -v grub-file >/dev/null 2>&1; then
		grub-file "$kind" "$elf" || die "$elf: grub-file $kind rejects it"
	fi
done
echo "check-elfs.sh: $# images ok"
