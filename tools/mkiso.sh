#!/bin/sh
# Build a GRUB rescue ISO that boots the hypervisor with legacy BIOS and
# with UEFI (hybrid El Torito images from grub-pc-bin and
# grub-efi-amd64-bin).
#   tools/mkiso.sh OUT.iso HV.elf "CMDLINE" [MODULE...]
# Each MODULE is PATH or PATH=NAME: loaded with module2, with NAME (by
# default the file's basename) as the module's string, which is how the
# hypervisor finds it. GRUB stays silent: no menu, no wait.
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
n=0
for arg in "$@"; do
	# PATH=NAME gives the module the string NAME; plain PATH uses its basename.
	case "$arg" in
	*=*) m=${arg%%=*} name=${arg#*=} ;;
	*) m=$arg name=$(basename "$arg") ;;
	esac
	[ -f "$m" ] || die "module $m: no such file"
	n=$((n + 1))
	b="m$n-$(basename "$m")"
	cp "$m" "$tmp/iso/boot/$b"
	mods="$mods	module2 /boot/$(grub_quote "$b") $(grub_quote "$name")
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
