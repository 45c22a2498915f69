"""The Linux guest of the tests: Debian's own cloud kernel and a busybox
initramfs, fetched and cached under build/linux by
tests/linux/build-guest.sh. The `linux_guest` fixture (in conftest.py)
builds it once per session; linux_section() writes a VM section that boots
it and runs one shell command (hv.cmd), then powers off."""

import fcntl
import subprocess

import pytest

import machine as rig

LINUX = rig.REPO / "build" / "linux"
LINUX_TIMEOUT = 600
# Every CPU back-end: Bochs (VT-x, the issues' reference; slow), QEMU's
# TCG (SVM) and nested KVM where the host has it.
BACKENDS = [pytest.param("bochs", marks=pytest.mark.slow), "qemu-svm", "kvm"]
# For checks that do not depend on the CPU back-end once the same device
# has been seen working on Bochs by a BACKENDS test: the suite's time
# budget (30 minutes on 2 cores) has no room for every Linux test in
# Bochs, where one Linux boot costs a minute or more.
QUICK_BACKENDS = ["qemu-svm", "kvm"]


def build_linux_guest():
    """Build (or reuse) build/linux/vmlinuz and initramfs.cpio.gz."""
    lock = rig.BUILD / "linux-build.lock"
    lock.parent.mkdir(parents=True, exist_ok=True)
    with open(lock, "w") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        r = subprocess.run(["sh", str(rig.REPO / "tests/linux/build-guest.sh")],
                           capture_output=True, text=True, timeout=900)
    assert r.returncode == 0, f"build-guest.sh failed:\n{r.stdout}\n{r.stderr}"
    return LINUX / "vmlinuz", LINUX / "initramfs.cpio.gz"


def linux_section(name, cpus, cmd, memory="128M", **keys):
    return (f"[vm {name}]\ncpus = {cpus}\nmemory = {memory}\nkernel = vmlinuz\n"
            f"initrd = initramfs.cpio.gz\n"
            f"cmdline = \"console=ttyS0 hv.cmd='{cmd}'\"\n" +
            "".join(f"{k} = {v}\n" for k, v in keys.items()))
