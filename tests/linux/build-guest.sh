#!/bin/sh
# The Linux guest of the tests: Debian's own cloud kernel and a small
# busybox initramfs, both fetched from Debian's mirror and cached.
#
#   tests/linux/build-guest.sh        (as root; BUILD=dir overrides build/)
#
# Produces, under $BUILD/linux/:
#   vmlinuz               the bzImage of the package linux-image-cloud-amd64
#                         depends on today (resolved, never pinned)
#   initramfs.cpio.gz     busybox-static, the kernel's virtio modules with
#                         their modules.dep, and the /init below
#   kernel.version        the kernel release, e.g. 6.1.0-50-cloud-amd64
#
# The /init mounts proc, sys and devtmpfs, prints "hv-linux: init
# started", loads the modules of the PCI and virtio devices it finds, and
# then either runs the command given as hv.cmd="..." (or hv.cmd='...')
# on the kernel command line, prints "hv-linux: command done rc=N" and
# powers off, or prints "hv-linux: interactive shell ..." and starts a
# login shell with job control and the prompt root@hv-linux:~#, again
# each time it exits: on hvc0 when the VM has a virtio console, else on
# the console.
#
# Packages are fetched with apt-get download and unpacked with dpkg -x:
# neither the kernel nor busybox-static is installed on this machine
# (busybox-static would conflict with an installed busybox). cpio and
# kmod (depmod) are installed when missing. Downloads are kept per
# version; a second run with nothing new takes a few seconds. Runs that
# overlap wait for each other (flock).
set -eu

die() { echo "build-guest.sh: $*" >&2; exit 1; }
say() { echo "build-guest.sh: $*" >&2; }

KMETA=linux-image-cloud-amd64
BBPKG="busybox-static"
TOOLS="cpio kmod"
# Module paths below lib/modules/VERSION/kernel/ (a file or a directory);
# their dependencies come along through the kernel's own modules.dep.
MODULES="drivers/virtio drivers/block/virtio_blk.ko drivers/net/virtio_net.ko
drivers/net/net_failover.ko net/core/failover.ko drivers/char/virtio_console.ko
drivers/char/hw_random/virtio-rng.ko"

top=$(cd "$(dirname "$0")/../.." && pwd)
build=${BUILD:-build}
case "$build" in /*) ;; *) build=$top/$build ;; esac
out=$build/linux
debs=$out/debs

[ "$(id -u)" -eq 0 ] || die "run as root (it may call apt-get)"
command -v apt-get >/dev/null 2>&1 || die "apt-get not found: this script knows only Debian"
export DEBIAN_FRONTEND=noninteractive LC_ALL=C

mkdir -p "$debs"
exec 9>"$out/.lock"
flock 9

updated=no
apt_update() {
	[ $updated = yes ] && return 0
	say "apt-get update"
	apt-get update -q >&2 || die "apt-get update failed"
	updated=yes
}

is_installed() {
	[ "$(dpkg-query -W -f='${db:Status-Status}' "$1" 2>/dev/null || true)" = installed ]
}

install_tools() {
	missing=
	for p in $TOOLS; do
		is_installed "$p" || missing="$missing $p"
	done
	[ -n "$missing" ] || return 0
	say "installing:$missing"
	apt_update
	# shellcheck disable=SC2086 # the package list splits on purpose
	apt-get install -y -q --no-install-recommends $missing >&2 ||
		die "apt-get install failed for:$missing"
}

# The versioned kernel package the metapackage depends on today.
resolve_kernel() {
	apt-cache depends "$KMETA" 2>/dev/null |
		sed -n 's/^ *Depends: \(linux-image-[0-9][^ ]*\)$/\1/p' | head -n 1
}

candidate() {
	apt-cache show --no-all-versions "$1" 2>/dev/null | sed -n 's/^Version: //p' | head -n 1
}

# fetch PKG: print the path of PKG's candidate .deb, downloading it once.
fetch() {
	ver=$(candidate "$1")
	[ -n "$ver" ] || { apt_update; ver=$(candidate "$1"); }
	[ -n "$ver" ] || die "no package $1 in the apt lists"
	# apt-get download names files NAME_VERSION_ARCH.deb, ':' as %3a.
	deb=$debs/$1_$(printf '%s' "$ver" | sed 's/:/%3a/g')_amd64.deb
	if [ ! -s "$deb" ]; then
		say "downloading $1 $ver"
		if ! (cd "$debs" && apt-get download -q -o APT::Sandbox::User=root "$1=$ver" >&2); then
			# A stale list names a version the mirror dropped.
			apt_update
			ver=$(candidate "$1")
			deb=$debs/$1_$(printf '%s' "$ver" | sed 's/:/%3a/g')_amd64.deb
			(cd "$debs" && apt-get download -q -o APT::Sandbox::User=root "$1=$ver" >&2) ||
				die "apt-get download $1 failed"
		fi
	fi
	[ -s "$deb" ] || die "apt-get download left no $deb"
	echo "$deb"
}

# unpack DEB DIR: dpkg -x into DIR unless DIR already holds that DEB.
unpack() {
	if [ "$(cat "$2.from" 2>/dev/null || true)" != "$(basename "$1")" ]; then
		rm -rf "$2" "$2.from"
		dpkg -x "$1" "$2"
		basename "$1" > "$2.from"
	fi
}

install_tools

kpkg=$(resolve_kernel)
[ -n "$kpkg" ] || { apt_update; kpkg=$(resolve_kernel); }
[ -n "$kpkg" ] || die "cannot resolve what $KMETA depends on (apt-cache depends $KMETA)"
kdeb=$(fetch "$kpkg")
bdeb=$(fetch "$BBPKG")
unpack "$kdeb" "$out/kernel-root"
unpack "$bdeb" "$out/busybox-root"

# Debian 12 ships /lib/modules; later releases /usr/lib/modules.
kr=$out/kernel-root
moddir=
for d in "$kr/lib/modules" "$kr/usr/lib/modules"; do
	[ -d "$d" ] && moddir=$d
done
[ -n "$moddir" ] || die "$kdeb holds no lib/modules"
kver=
for d in "$moddir"/*; do
	[ -d "$d" ] && kver=${d##*/}
done
[ -f "$kr/boot/vmlinuz-$kver" ] || die "$kdeb holds no boot/vmlinuz-$kver"
busybox=$out/busybox-root/bin/busybox
[ -x "$busybox" ] || die "$bdeb holds no bin/busybox"

cmp -s "$kr/boot/vmlinuz-$kver" "$out/vmlinuz" 2>/dev/null ||
	cp "$kr/boot/vmlinuz-$kver" "$out/vmlinuz"
echo "$kver" > "$out/kernel.version"

# The initramfs is rebuilt when the packages or this script change.
stamp="$(basename "$kdeb") $(basename "$bdeb") $(cksum < "$0")"
if [ -s "$out/initramfs.cpio.gz" ] && [ "$(cat "$out/initramfs.stamp" 2>/dev/null || true)" = "$stamp" ]; then
	say "cached: $kver"
else
	say "building the initramfs for $kver"
	# The kernel's modules.dep, so each chosen module brings what it needs.
	[ -f "$moddir/$kver/modules.dep" ] || depmod -b "$kr" "$kver" 2>/dev/null ||
		depmod -b "$kr/usr" "$kver"
	root=$out/initramfs-root
	rm -rf "$root"
	mkdir -p "$root/bin" "$root/sbin" "$root/usr/bin" "$root/usr/sbin" "$root/dev" \
		"$root/proc" "$root/sys" "$root/tmp" "$root/run" "$root/root" "$root/etc" \
		"$root/lib/modules/$kver"
	cp "$busybox" "$root/bin/busybox"
	for a in $("$busybox" --list-full); do
		[ -e "$root/$a" ] || ln -s /bin/busybox "$root/$a"
	done
	# The first console, in case the kernel's built-in initramfs lacks it.
	mknod -m 600 "$root/dev/console" c 5 1
	# Who root is, for the shell's prompt (\u, and ~ for \w) and for id.
	echo "root:x:0:0:root:/root:/bin/sh" > "$root/etc/passwd"
	echo "root:x:0:" > "$root/etc/group"

	want=
	for m in $MODULES; do
		[ -e "$moddir/$kver/kernel/$m" ] || die "$kpkg has no module kernel/$m"
		want="$want $(cd "$moddir/$kver" && find "kernel/$m" -name '*.ko*' | sort)"
	done
	all=$(for m in $want; do
		echo "$m"
		sed -n "s|^$m:||p" "$moddir/$kver/modules.dep" | tr ' ' '\n'
	done | sed '/^$/d' | sort -u)
	for m in $all; do
		mkdir -p "$root/lib/modules/$kver/$(dirname "$m")"
		cp "$moddir/$kver/$m" "$root/lib/modules/$kver/$m"
	done
	for f in modules.order modules.builtin modules.builtin.modinfo; do
		if [ -f "$moddir/$kver/$f" ]; then
			cp "$moddir/$kver/$f" "$root/lib/modules/$kver/"
		fi
	done
	depmod -b "$root" "$kver"

	cat > "$root/init" <<'EOF'
#!/bin/sh
# The test guest's init (tests/linux/build-guest.sh).
export PATH=/sbin:/bin:/usr/sbin:/usr/bin HOME=/root
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
exec </dev/console >/dev/console 2>&1
echo "hv-linux: init started"

# No udev: load the driver of each PCI device, then of each virtio device
# those drivers found.
for bus in pci virtio; do
	for a in /sys/bus/$bus/devices/*/modalias; do
		[ -r "$a" ] && modprobe -q "$(cat "$a")" 2>/dev/null
	done
done

# hv.cmd="..." or hv.cmd='...' or hv.cmd=word. The kernel keeps dotted
# parameters from init's arguments, so read /proc/cmdline.
cmdline=" $(cat /proc/cmdline)"
case "$cmdline" in
*" hv.cmd="*)
	rest=${cmdline#*" hv.cmd="}
	case "$rest" in
	\"*) rest=${rest#?}; cmd=${rest%%\"*} ;;
	\'*) rest=${rest#?}; cmd=${rest%%\'*} ;;
	*) cmd=${rest%% *} ;;
	esac
	sh -c "$cmd"
	echo "hv-linux: command done rc=$?"
	poweroff -f
	;;
esac

# No hv.cmd: an interactive shell, started again when it exits, on hvc0
# when the VM has a virtio console (its driver, loaded above, registered
# it; the wait is for a devtmpfs node that would come late), else on the
# console (ttyS0). setsid, and cttyhack or the shell's own open of hvc0, give it
# its terminal as the controlling one, for job control and Ctrl-C.
hostname hv-linux
cd /root
export PS1='\u@\h:\w\$ '
if [ -e /sys/class/tty/hvc0 ]; then
	i=0
	while [ ! -c /dev/hvc0 ] && [ $i -lt 50 ]; do
		sleep 0.1
		i=$((i + 1))
	done
fi
if [ -c /dev/hvc0 ]; then
	echo "hv-linux: interactive shell on hvc0 (poweroff ends the VM)"
	while :; do
		setsid sh -c 'exec sh -l <>/dev/hvc0 >&0 2>&1'
	done
fi
echo "hv-linux: interactive shell on the console (poweroff ends the VM)"
while :; do
	setsid cttyhack sh -l
done
EOF
	chmod 755 "$root/init"

	# Reproducible: fixed times and order, owner root.
	find "$root" -exec touch -h -d @0 {} +
	(cd "$root" && find . | sort | cpio -o -H newc -R 0:0 --reproducible --quiet) |
		gzip -9 -n > "$out/initramfs.cpio.gz.tmp"
	mv "$out/initramfs.cpio.gz.tmp" "$out/initramfs.cpio.gz"
	echo "$stamp" > "$out/initramfs.stamp"
fi

echo "kernel:    $out/vmlinuz ($kver, from $kpkg)"
echo "initramfs: $out/initramfs.cpio.gz"
