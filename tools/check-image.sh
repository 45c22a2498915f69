#!/bin/sh
# Check that an ELF carries a valid multiboot2 header, using GRUB's own
# grub-file when it is installed. The build does not need GRUB: without
# grub-file the check is skipped silently.
set -eu
[ $# -eq 1 ] || { echo "usage: tools/check-image.sh ELF" >&2; exit 2; }
[ -f "$1" ] || { echo "check-image.sh: $1: no such file" >&2; exit 1; }
command -v grub-file >/dev/null 2>&1 || exit 0
if ! grub-file --is-x86-multiboot2 "$1"; then
	echo "check-image.sh: $1: GRUB rejects it as an x86 multiboot2 image" \
		"(header missing, outside the first 32 KiB, or bad checksum/tags)" >&2
	exit 1
fi
