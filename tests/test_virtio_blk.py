"""virtio-blk (`disk =` in the configuration) seen by Debian's own
virtio_blk driver: a disk image module reads back with the right
checksum, data written survives a guest reboot while the hypervisor
runs, a read-only disk refuses writes; and the configuration mistakes a
disk can make. Run on every CPU back-end the host has."""

import hashlib
import re

import pytest

import machine as rig
from linuxrig import BACKENDS, QUICK_BACKENDS, LINUX_TIMEOUT
from vmrig import CONFIGS, guest, vm_exit, vm_section

MIB = 1 << 20


def pattern(size, seed):
    """@size deterministic bytes that differ in every 32-byte block."""
    blocks = (hashlib.sha256(f"{seed}:{i}".encode()).digest() for i in range(size // 32))
    return b"".join(blocks)


def blk_iso(cfg, modules):
    """ISO with @cfg as vms.conf and @modules: paths or (name, bytes)."""
    d = CONFIGS / hashlib.sha256(cfg.encode()).hexdigest()[:16]
    d.mkdir(parents=True, exist_ok=True)
    (d / "vms.conf").write_text(cfg)
    return rig.build_iso("console=com1 on_idle=poweroff", [d / "vms.conf", *modules])


def linux_disk_section(name, cpus, cmd, disks, memory="128M", **keys):
    """A Linux VM running @cmd (no double quotes in it: hv.cmd is put in
    double quotes, so the kernel keeps it one parameter whatever its
    words) with a `disk =` line for each of @disks."""
    assert '"' not in cmd and len(cmd) < 220, cmd
    return (f"[vm {name}]\ncpus = {cpus}\nmemory = {memory}\nkernel = vmlinuz\n"
            f"initrd = initramfs.cpio.gz\n"
            f"cmdline = \"console=ttyS0 hv.cmd=\\\"{cmd}\\\"\"\n" +
            "".join(f"disk = {d}\n" for d in disks) +
            "".join(f"{k} = {v}\n" for k, v in keys.items()))


def run_linux(machine, backend, cfg, modules):
    m = machine(backend, blk_iso(cfg, modules), cpus=1, mem=256)
    m.expect_summary()
    m.expect(r"hv-linux: init started", LINUX_TIMEOUT)
    return m


def guest_lines(m, vm="linux"):
    return re.findall(rf"\[{vm}\] (.*?)\s*$", m.output, re.M)


def check_clean(text):
    assert not re.search(r"virtio: .*needs reset", text), "a virtio device was reset"
    assert "crashed" not in text and "PANIC" not in text


@pytest.mark.parametrize("backend", BACKENDS)
def test_virtio_blk_module_reads_back(machine, linux_guest, backend):
    """A 2 MiB image module with a known pattern: Linux sees vda with the
    right size, writable, with our serial, and reads the same bytes."""
    img = pattern(2 * MIB, "module")
    cfg = linux_disk_section(
        "linux", "0",
        "cat /sys/block/vda/size /sys/block/vda/ro; echo serial=$(cat /sys/block/vda/serial); "
        "sha256sum /dev/vda",
        ["disk.img"])
    m = run_linux(machine, backend, cfg, [*linux_guest, ("disk.img", img)])
    m.expect(r"vm linux: virtio-blk vda: module disk\.img, 4096 sectors \(2048K\)\s*$", 1, pos=0)
    m.expect(r"\[linux\] hv-linux: command done rc=0", 120)
    lines = guest_lines(m)
    assert "4096" in lines, "capacity: /sys/block/vda/size is not 4096"
    assert "0" in lines, "/sys/block/vda/ro is not 0"
    assert "serial=hv-linux-vda" in lines, "GET_ID: no serial hv-linux-vda"
    want = hashlib.sha256(img).hexdigest()
    assert f"{want}  /dev/vda" in lines, f"sha256 of /dev/vda is not {want}"
    check_clean(m.output)


# First boot (no marker): write the marker and a pattern, then reboot -f;
# second boot (marker found): read back what the first boot wrote.
REBOOT_CMD = ("if [ x$(head -c 6 /dev/vda) = xHVBLK1 ]; then echo boot=2; "
              "head -c 1048576 /dev/vda | sha256sum; else echo boot=1; "
              "(printf HVBLK1; seq 200000) | head -c 1048576 >/dev/vda; sync; reboot -f; fi")


def reboot_pattern():
    data = b"HVBLK1" + "".join(f"{i}\n" for i in range(1, 200001)).encode()
    return data[:MIB]


@pytest.mark.parametrize("backend", QUICK_BACKENDS)
def test_virtio_blk_data_survives_reboot(machine, linux_guest, backend):
    """An empty disk written in the first boot, then `reboot -f`: the VM
    restarts (on_reboot = restart) and the second boot reads the same
    data back: the disk outlives the VM reset, the device does not."""
    cfg = linux_disk_section("linux", "0", REBOOT_CMD, ["empty:4M"], on_reboot="restart")
    m = run_linux(machine, backend, cfg, linux_guest)
    m.expect(r"vm linux: virtio-blk vda: empty, 8192 sectors \(4096K\)\s*$", 1, pos=0)
    m.expect(r"\[linux\] boot=1", 120)
    m.expect(r"vm linux: .*: rebooting", 120)
    m.expect(r"\[linux\] boot=2", LINUX_TIMEOUT)
    m.expect(r"\[linux\] hv-linux: command done rc=0", 120)
    want = hashlib.sha256(reboot_pattern()).hexdigest()
    assert f"{want}  -" in guest_lines(m), f"second boot did not read back sha256 {want}"
    check_clean(m.output)


@pytest.mark.parametrize("backend", BACKENDS)
def test_virtio_blk_readonly_refuses_writes(machine, linux_guest, backend):
    """disk = NAME, readonly: VIRTIO_BLK_F_RO makes Linux mark vda
    read-only, a write fails, and the content is unchanged."""
    img = pattern(MIB, "readonly")
    cfg = linux_disk_section(
        "linux", "0",
        "cat /sys/block/vda/ro; dd if=/dev/zero of=/dev/vda bs=512 count=1 conv=fsync; "
        "echo dd=$?; sha256sum /dev/vda",
        ["ro.img, readonly"])
    m = run_linux(machine, backend, cfg, [*linux_guest, ("ro.img", img)])
    m.expect(r"vm linux: virtio-blk vda: module ro\.img, 2048 sectors \(1024K\), read-only", 1, pos=0)
    m.expect(r"\[linux\] hv-linux: command done rc=0", 120)
    lines = guest_lines(m)
    assert "1" in lines, "/sys/block/vda/ro is not 1"
    dd = [l for l in lines if l.startswith("dd=")]
    assert dd and dd[0] != "dd=0", f"dd to the read-only disk did not fail: {dd}"
    assert re.search(r"\[linux\] .*(Read-only|Permission denied|Operation not permitted|I/O error)", m.output), \
        "dd gave no read-only or I/O error"
    want = hashlib.sha256(img).hexdigest()
    assert f"{want}  /dev/vda" in lines, "the read-only disk's content changed"
    check_clean(m.output)


@pytest.mark.parametrize("backend", QUICK_BACKENDS)
def test_virtio_blk_discard_zeroes_the_range(machine, linux_guest, backend):
    """blkdiscard sends VIRTIO_BLK_T_DISCARD (the driver sees
    VIRTIO_BLK_F_DISCARD and its limits); the RAM disk zeroes exactly that
    range, and the rest keeps its pattern."""
    img = pattern(MIB, "discard")
    cfg = linux_disk_section(
        "linux", "0",
        "cat /sys/block/vda/queue/discard_max_bytes; blkdiscard -o 4096 -l 8192 /dev/vda; "
        "echo discard=$?; sha256sum /dev/vda",
        ["d.img"])
    m = run_linux(machine, backend, cfg, [*linux_guest, ("d.img", img)])
    m.expect(r"\[linux\] hv-linux: command done rc=0", 120)
    lines = guest_lines(m)
    assert str(65536 * 512) in lines, "discard_max_bytes is not max_discard_sectors * 512"
    assert "discard=0" in lines, "blkdiscard failed"
    want = hashlib.sha256(img[:4096] + bytes(8192) + img[12288:]).hexdigest()
    assert f"{want}  /dev/vda" in lines, "the discarded range is not zero, or more changed"
    check_clean(m.output)


def test_virtio_blk_config_errors(machine):
    """Disk mistakes name their line and leave out only their VM: a module
    that is another VM's disk, or a kernel; a missing module; a module
    that is not whole sectors; an empty disk larger than free memory; a
    bad size or option. The VM with the good disk runs."""
    cfg = (vm_section("a", "0", "hello", disk="d.img") +             # 1-6: runs
           vm_section("b", "1", "hello", disk="d.img") +             # 7-12: line 12
           vm_section("c", "2", "hello", disk="hello.elf") +         # line 18
           vm_section("d", "3", "hello", disk="nosuch.img") +        # line 24
           vm_section("e", "4", "hello", disk="odd.img") +           # line 30
           vm_section("f", "5", "hello", disk="empty:64G") +         # line 36
           vm_section("g", "6", "hello", disk="empty:1000") +        # line 42
           vm_section("h", "7", "hello", disk="empty:1M, rw"))       # line 48
    mods = [guest("hello"), ("d.img", pattern(64 * 1024, "d")), ("odd.img", b"x" * 1000)]
    m = machine("qemu-svm", blk_iso(cfg, mods), cpus=8, mem=256)
    m.expect(vm_exit("a"), 120)
    text = m.output
    errors = [
        r"vms\.conf:12: disk: module 'd\.img' is already a disk of VM 'a' \(line 6\)",
        r"vms\.conf:18: disk: module 'hello\.elf' is the kernel of VM 'a' \(line 4\)",
        r"vms\.conf:24: disk: no boot module named 'nosuch\.img'",
        r"vms\.conf:30: disk: module 'odd\.img' is 1000 bytes, not a non-zero multiple of 512",
        r"vms\.conf:36: disk: empty:64G exceeds the maximum of 64G|"
        r"vms\.conf:36: disk: empty disk of 67108864K exceeds the \d+K free",
        r"vms\.conf:42: disk: empty:1000 is not a multiple of 512 bytes",
        r"vms\.conf:48: disk: 'rw' is not an option \(only readonly is\)",
    ]
    for e in errors:
        assert re.search(e, text), f"no error matching {e}"
    assert re.search(r"vm a: virtio-blk vda: module d\.img, 128 sectors \(64K\)", text)
    for vm in "bcdefgh":
        assert not re.search(rf"vm {vm}: created", text), f"vm {vm} started"
