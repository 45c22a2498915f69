#!/bin/sh
# Build a GRUB rescue ISO that boots the hypervisor with legacy BIOS and
# with UEFI (hybrid El Torito images from grub-pc-bin and
# grub-efi-amd64-bin).
#   tools/mkiso.sh OUT.iso HV.elf "CMDLINE" [MODULE...]
# Each MODULE is loaded with module2 as /boot/<basename>, with its
# basename as the module's string. GRUB stays silent: no menu, no wait.
set -eu

die() { echo "mkiso.sh: $*" >&2; exit 1; }

[ $# -ge 3 ] || die "usage: tools/mkiso.sh OUT.iso HV.elf \"CMDLINE\" [MODULE...]"
out=$1 elf=$2 cmdline=$3
shift 3

[ -f "$elf" ] || die "$elf: no such file (build it with make first)"
for t in grub-mkrescue xorriso mformat; do
	command -v "$t" >/dev/null 2>&1 ||
		die "$t not found: run tools/deps.sh iso (packages grub-common xorriso mtools)"
done
for d in /usr/lib/grub/i386-pc /usr/lib/grub/x86_64-efi; do
	[ -d "$d" ] ||
		die "$d missing: install grub-pc-bin and grub-efi-amd64-bin (tools/deps.sh iso)"
done

# Quote one word for grub.cfg: single quotes keep it literal in GRUB's
# shell-like script language; an embedded ' becomes '\''.
grub_quote() {
	printf "'%s'" "$(printf '%s' "$1" | sed "s/'/'\\\\''/g")"
}

tmp=$(mktemp -d "${TMPDIR:-/tmp}/mkiso.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
trap 'exit 130' INT TERM
mkdir -p "$tmp/iso/boot/grub"
cp "$elf" "$tmp/iso/boot/hv.elf"

args=
set -f # the command line's words must not glob
for w in $cmdline; do
	args="$args $(grub_quote "$w")"
done
set +f

mods=
for m in "$@"; do
	[ -f "$m" ] || die "module $m: no such file"
	b=$(basename "$m")
	case "$b" in
	hv.elf | grub) die "module $m: the name '$b' is taken in /boot" ;;
	esac
	[ ! -e "$tmp/iso/boot/$b" ] || die "module $m: two modules named '$b'"
	cp "$m" "$tmp/iso/boot/$b"
	mods="$mods	module2 /boot/$(grub_quote "$b") $(grub_quote "$b")
"
done

cat >"$tmp/iso/boot/grub/grub.cfg" <<CFG
set timeout=0
set timeout_style=hidden
set default=0
menuentry "hv" {
	multiboot2 /boot/hv.elf$args
$mods	boot
}
CFG

mkdir -p "$(dirname "$out")"
# The ISO is written beside OUT and renamed, so a reader never sees half.
part="$out.part.$$"
if ! grub-mkrescue --locales= --fonts= --themes= -o "$part" "$tmp/iso" \
	>"$tmp/log" 2>&1; then
	cat "$tmp/log" >&2
	rm -f "$part"
	die "grub-mkrescue failed for $out"
fi
mv -f "$part" "$out"
