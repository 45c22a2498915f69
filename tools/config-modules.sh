#!/bin/sh
# Print the mkiso.sh module arguments for a VM configuration: the file
# itself (as NAME.conf) and every image its `kernel =`, `initrd =` and
# `disk =` lines name by path (not `disk = empty:SIZE`),
# each given the module string written in the file so the hypervisor
# finds it. A path is looked up from the current directory, then from
# the configuration's own directory.
#   tools/config-modules.sh CONFIG
set -eu

die() { echo "config-modules.sh: $*" >&2; exit 1; }

[ $# -eq 1 ] || die "usage: tools/config-modules.sh CONFIG"
conf=$1
[ -f "$conf" ] || die "$conf: no such file"
dir=$(dirname "$conf")

printf '%s=%s\n' "$conf" "$(basename "$conf")"
# kernel = VALUE, initrd = VALUE or disk = VALUE[, readonly] (value may be
# quoted; a comment may follow)
sed -n 's/^[[:space:]]*\(kernel\|initrd\|disk\)[[:space:]]*=[[:space:]]*"\{0,1\}\([^",#[:space:]]*\).*/\2/p' "$conf" |
	grep -v '^empty:' | sort -u | while read -r k; do
		if [ -f "$k" ]; then
			printf '%s=%s\n' "$k" "$k"
		elif [ -f "$dir/$k" ]; then
			printf '%s=%s\n' "$dir/$k" "$k"
		else
			line=$(grep -n "=.*$k" "$conf" | head -1 | cut -d: -f1)
			die "$conf:$line: $k: no such file (from $(pwd) or $dir)"
		fi
	done
