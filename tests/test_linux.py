"""Unmodified Linux guests: Debian's own cloud kernel (fetched and cached
by tests/linux/build-guest.sh) with a busybox initramfs.

Each test runs on every CPU back-end the host has: VT-x in Bochs (the
issue's reference), SVM in QEMU's TCG, and nested VT-x under KVM where
the host offers it (skipped with the reason otherwise)."""

import re

import pytest

from linuxrig import BACKENDS, LINUX_TIMEOUT, linux_section
from vmrig import vm_exit, vm_iso, vm_line, vm_section

TIMING_CMD = ("grep LOC /proc/interrupts; cat /proc/uptime; sleep 5; cat /proc/uptime; "
              "grep LOC /proc/interrupts; nproc")
TS = r"^\[\s*(\d+\.\d+)\] "


def loc_counts(line):
    """Per-CPU counts of the local timer row of /proc/interrupts."""
    return [int(x) for x in line.split("LOC:", 1)[1].split() if x.isdigit()]


@pytest.mark.parametrize("backend", BACKENDS)
def test_linux_boots_to_init_on_two_vcpus_beside_a_test_guest(machine, linux_guest, backend):
    cfg = linux_section("linux", "1-2", TIMING_CMD) + vm_section("hello", "0", "hello")
    m = machine(backend, vm_iso(cfg, list(linux_guest) + ["hello"]), cpus=3, mem=384)
    m.expect_summary()
    m.expect(vm_line("linux", r"hv-linux: init started"), LINUX_TIMEOUT)
    m.expect(vm_line("linux", r"hv-linux: command done rc=0"), 120)
    m.expect(r"vm linux: ACPI power-off \(S5\), exit status 0", 120)
    text = m.output
    assert re.search(vm_line("linux", r"2\s*$"), text, re.M), "nproc did not print 2"
    assert re.search(vm_line("linux", r".*smp: Brought up 1 node, 2 CPUs"), text)
    # sleep 5: five seconds of guest uptime, and of the hypervisor's clock.
    up = re.findall(TS + r"\[linux\] (\d+\.\d+) \d+\.\d+\s*$", text, re.M)
    assert len(up) == 2, up
    guest_s = float(up[1][1]) - float(up[0][1])
    host_s = float(up[1][0]) - float(up[0][0])
    assert 4.9 <= guest_s <= 6.0, f"sleep 5 took {guest_s:.2f} s of guest time"
    assert 4.9 <= host_s <= 6.5, f"sleep 5 took {host_s:.2f} s of the hypervisor's clock"
    # Local timer interrupts rise on both vCPUs.
    loc = [loc_counts(line) for line in re.findall(r"\[linux\]\s+LOC:.*$", text, re.M)]
    assert len(loc) == 2 and len(loc[0]) == 2, loc
    assert all(b > a for a, b in zip(loc[0], loc[1])), f"LOC did not rise on both vCPUs: {loc}"
    assert re.search(vm_exit("hello", 0), text), "the test guest beside Linux failed"
    assert "crashed" not in text and "PANIC" not in text


@pytest.mark.parametrize("backend", [pytest.param("bochs", marks=pytest.mark.slow), "qemu-svm"])
def test_truncated_kernel_is_refused_and_other_vm_runs(machine, linux_guest, backend, tmp_path):
    bad = tmp_path / "vmlinuz"
    data = linux_guest[0].read_bytes()
    bad.write_bytes(data[:len(data) // 2])
    cfg = linux_section("broken", "1", "true") + vm_section("hello", "0", "hello")
    m = machine(backend, vm_iso(cfg, [bad, linux_guest[1], "hello"]), cpus=2)
    m.expect_summary()
    text = m.output
    assert re.search(r"ERROR: loader: vmlinuz: .*truncated", text), m.tail(30)
    assert "vm broken: not started" in text
    m.expect(vm_exit("hello", 0), 240)


@pytest.mark.parametrize("backend", BACKENDS)
def test_linux_reboot_restarts_the_vm(machine, linux_guest, backend):
    """`reboot` in the guest resets the VM through the FADT reset register
    (0xCF9): both vCPUs stop, the VM boots again from the start and brings
    up its second vCPU again, while the test guest beside it runs on."""
    cfg = (linux_section("linux", "1-2", "reboot -f") +
           vm_section("hello", "0", "hello"))
    m = machine(backend, vm_iso(cfg, list(linux_guest) + ["hello"]), cpus=3, mem=384)
    m.expect_summary()
    m.expect(vm_line("linux", r"hv-linux: init started"), LINUX_TIMEOUT)
    m.expect(r"vm linux: reset through port 0xcf9: rebooting", 120)
    m.expect(r"vm linux: restarting \(1\)", 30)
    m.expect(vm_line("linux", r".*Linux version"), 120)
    m.expect(vm_line("linux", r".*smp: Brought up 1 node, 2 CPUs"), LINUX_TIMEOUT)
    m.expect(vm_line("linux", r"hv-linux: init started"), LINUX_TIMEOUT)
    text = m.output
    assert len(re.findall(r"smp: Brought up 1 node, 2 CPUs", text)) == 2
    assert re.search(vm_exit("hello", 0), text), "the test guest beside Linux failed"
    assert "crashed" not in text and "PANIC" not in text


@pytest.mark.parametrize("backend", ["qemu-svm", "kvm"])
def test_linux_reboot_with_on_reboot_stop_stops_the_vm(machine, linux_guest, backend):
    """on_reboot = stop: a guest reset stops the VM instead. Bochs runs the
    restart above; this choice is back-end independent and checked where
    Linux boots fast."""
    cfg = linux_section("linux", "0-1", "reboot -f", on_reboot="stop")
    m = machine(backend, vm_iso(cfg, list(linux_guest)), cpus=2, mem=256)
    m.expect_summary()
    m.expect(vm_line("linux", r"hv-linux: init started"), LINUX_TIMEOUT)
    m.expect(r"vm linux: reset through port 0xcf9: stopping \(on_reboot = stop\)", 120)
    m.expect(r"vm linux: stopped", 30)
    m.expect(r"hv: all VMs have stopped", 30)
    assert "restarting" not in m.output


# Config space of 00:00.0 through sysfs: the first 256 bytes come through
# ports 0xCF8/0xCFC, the rest through ECAM (Linux uses MMCONFIG only for
# extended registers). A host bridge gets 4096 bytes when 0x100 reads as
# no extended capability rather than all-ones. Few words: each one is an
# argument of init, and the kernel takes at most 32.
PCI_CMD = ("cd /sys/bus/pci/devices/0000:00:00.0; cat vendor device class; wc -c config; "
           "od -tx4 -N16 config; od -tx4 -j256 -N16 config")


@pytest.mark.parametrize("backend", BACKENDS)
def test_linux_finds_the_pci_host_bridge_through_acpi_and_ecam(machine, linux_guest, backend):
    """The VM's PCI bus: Linux takes the ECAM window from the MCFG (reserved
    in the e820 map), finds the root bridge \\_SB.PCI0 with its BAR window
    in the DSDT, and enumerates the host bridge 1b36:0008 at 00:00.0."""
    cfg = linux_section("linux", "0", PCI_CMD)
    m = machine(backend, vm_iso(cfg, list(linux_guest)), cpus=1, mem=256)
    m.expect_summary()
    m.expect(vm_line("linux", r".*BIOS-e820: \[mem 0x00000000e0000000-0x00000000e00fffff\] "
                     r"reserved"), LINUX_TIMEOUT)
    m.expect(vm_line("linux", r".*PCI: MMCONFIG at \[mem 0xe0000000-0xe00fffff\] "
                     r"reserved in E820"), LINUX_TIMEOUT)
    m.expect(vm_line("linux", r".*ACPI: PCI Root Bridge \[PCI0\] \(domain 0000 \[bus 00\]\)"),
             120)
    m.expect(vm_line("linux", r".*root bus resource \[mem 0xc0000000-0xdfffffff window\]"), 60)
    m.expect(vm_line("linux", r".*pci 0000:00:00.0: \[1b36:0008\] type 00 class 0x060000"), 60)
    m.expect(vm_line("linux", r"hv-linux: init started"), LINUX_TIMEOUT)
    m.expect(vm_line("linux", r"hv-linux: command done rc=0"), 120)
    m.expect(r"vm linux: ACPI power-off \(S5\), exit status 0", 120)
    text = m.output
    assert re.search(r"\[linux\] 0x1b36\s*\n.*\[linux\] 0x0008\s*\n.*\[linux\] 0x060000\s*$",
                     text, re.M)
    assert re.search(vm_line("linux", r"4096 config\s*$"), text, re.M)
    # Vendor/device and class/revision through the ports; zeros past 0x100 (od
    # counts in octal) through ECAM.
    assert re.search(vm_line("linux", r"0000000 00081b36 [0-9a-f]{8} 06000000 00000000\s*$"),
                     text, re.M)
    assert re.search(vm_line("linux", r"0000400 00000000 00000000 00000000 00000000\s*$"),
                     text, re.M)
    assert "crashed" not in text and "PANIC" not in text
    assert not re.search(vm_line("linux", r".*(MMCONFIG.*not reserved|BIOS Bug|Not using MMCONFIG)"),
                         text)
