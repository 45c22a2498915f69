#!/bin/bash
# Boot an ISO in an emulator with the serial console on this terminal,
# both ways: what is typed goes to the hypervisor's console input.
#   tools/run.sh ISO EMU CPUS MEM
# EMU: qemu (TCG, q35, legacy BIOS), qemu-uefi (same with OVMF), qemu-svm
# (TCG with an AMD CPU model: guests run on the SVM back-end), kvm (nested
# VT-x), bochs (emulates VMX), or empty for the best available: kvm when
# the host shows VT-x to us, else qemu-svm (QEMU is many times faster
# than Bochs), else bochs.
# Ctrl-A x quits, in QEMU and in Bochs alike; Ctrl-C goes to the guest.
# Bochs is interactive through tools/serial-relay.py when this is a
# terminal; otherwise its serial output is only shown, and Ctrl-C quits.
set -eu

die() { echo "run.sh: $*" >&2; exit 1; }

[ $# -eq 4 ] || die "usage: tools/run.sh ISO EMU CPUS MEM"
iso=$1 emu=$2 cpus=$3 mem=$4
[ -f "$iso" ] || die "$iso: no such file (make iso)"
case "$cpus" in '' | *[!0-9]*) die "CPUS='$cpus' is not a number" ;; esac
case "$mem" in '' | *[!0-9]*) die "MEM='$mem' is not a number of MiB" ;; esac

# Nested VT-x works only when the host CPU shows vmx to us and kvm_intel
# is loaded; /dev/kvm alone proves nothing (see shared TEST-RIG.md).
have_kvm_vmx() {
	grep -qw vmx /proc/cpuinfo 2>/dev/null && [ -d /sys/module/kvm_intel ] &&
		[ -w /dev/kvm ]
}

if [ -z "$emu" ]; then
	if have_kvm_vmx; then
		emu=kvm
	elif command -v qemu-system-x86_64 >/dev/null 2>&1; then
		emu=qemu-svm
	else
		emu=bochs
	fi
	echo "run.sh: EMU=$emu" >&2
fi

qemu_run() {
	command -v qemu-system-x86_64 >/dev/null 2>&1 ||
		die "qemu-system-x86_64 not found (tools/deps.sh run)"
	# The serial line and QEMU's monitor share the terminal (Ctrl-A c
	# switches); signal=off sends Ctrl-C to the guest instead of ending QEMU.
	exec qemu-system-x86_64 -M q35 -smp "$cpus" -m "$mem" \
		-display none -no-reboot \
		-chardev stdio,id=con0,mux=on,signal=off \
		-serial chardev:con0 -mon chardev=con0,mode=readline \
		-device isa-debug-exit,iobase=0xf4,iosize=0x04 \
		-cdrom "$iso" "$@"
}

bochs_run() {
	command -v bochs >/dev/null 2>&1 || die "bochs not found (tools/deps.sh run)"
	dir=$(cd "$(dirname "$iso")" && pwd)
	rc=$dir/bochsrc serial=$dir/bochs-serial.txt
	out=$dir/bochs-stdout.txt log=$dir/bochs.log
	# On a terminal the relay gives Bochs's COM1 a pseudo-terminal (term
	# mode) and this terminal to it; else COM1 writes to a file we follow.
	if [ -t 0 ] && [ -t 1 ] && [ -x /usr/bin/python3 ]; then
		relay=yes com1="mode=term, dev=@PTY@"
	else
		relay=no com1="mode=file, dev=$serial"
	fi
	# ips: with sync=none emulated time is instructions / ips, and the
	# BIOS waits ~3.1 emulated seconds before booting the CD.
	cat >"$rc" <<-RC
		cpu: model=corei7_skylake_x, count=$cpus, ips=${BOCHS_IPS:-50000000}, reset_on_triple_fault=0
		memory: guest=$mem, host=$mem
		romimage: file=/usr/share/bochs/BIOS-bochs-latest
		vgaromimage: file=/usr/share/vgabios/vgabios.bin
		ata0-master: type=cdrom, path="$(cd "$(dirname "$iso")" && pwd)/$(basename "$iso")", status=inserted
		boot: cdrom
		com1: enabled=1, $com1
		clock: sync=none, time0=946684800
		display_library: rfb, options="timeout=0"
		sound: driver=dummy
		speaker: enabled=0
		mouse: enabled=0
		port_e9_hack: enabled=1
		log: $log
		panic: action=fatal
		error: action=report
		info: action=report
		debug: action=ignore
	RC
	: >"$serial"
	# The debugger build stops at a prompt first: "c" starts the machine;
	# EOF afterwards makes the debugger quit if it ever gets control back.
	if [ "$relay" = yes ]; then
		st=0
		/usr/bin/python3 "$(dirname "$0")/serial-relay.py" --subst "$rc" --log "$serial" \
			--out "$out" --stdin 'c\n' -- bochs -q -f "$rc" || st=$?
		echo "run.sh: Bochs exited with status $st (log: $log, output: $out)" >&2
		[ "$st" -le 1 ] || exit "$st"
		return 0
	fi
	printf 'c\n' | bochs -q -f "$rc" >"$out" 2>&1 &
	bpid=$!
	tail -n +1 -f --pid="$bpid" "$serial" &
	tpid=$!
	trap 'kill "$bpid" "$tpid" 2>/dev/null; wait; echo; echo "run.sh: stopped (Bochs log: $log)" >&2; exit 130' INT TERM
	st=0
	wait "$bpid" || st=$?
	wait "$tpid" 2>/dev/null || true
	trap - INT TERM
	echo
	echo "run.sh: Bochs exited with status $st (log: $log, output: $out)" >&2
	# Bochs exits with 1 after an ACPI power-off; that is a normal end.
	[ "$st" -le 1 ] || exit "$st"
}

# TCG's "max" model shows SVM with nested paging on AMD hosts; the EPYC
# model does everywhere (TEST-RIG.md).
svm_cpu() {
	if grep -q AuthenticAMD /proc/cpuinfo 2>/dev/null; then echo max; else echo EPYC; fi
}

case "$emu" in
qemu) qemu_run -cpu max ;;
qemu-svm) qemu_run -cpu "$(svm_cpu)" ;;
qemu-uefi)
	[ -f /usr/share/ovmf/OVMF.fd ] || die "/usr/share/ovmf/OVMF.fd missing (package ovmf)"
	qemu_run -cpu max -bios /usr/share/ovmf/OVMF.fd ;;
kvm)
	have_kvm_vmx ||
		die "EMU=kvm needs the vmx CPU flag, kvm_intel loaded and /dev/kvm writable"
	qemu_run -accel kvm -cpu host ;;
bochs) bochs_run ;;
*) die "unknown EMU '$emu' (want qemu, qemu-uefi, qemu-svm, kvm or bochs)" ;;
esac
