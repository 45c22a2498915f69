"""virtio-console (vdev/virtio_console.c), seen by Debian's own driver:
Linux makes port 0 its hvc0; what it writes there appears on the
hypervisor console prefixed with the VM's name, and what is typed for
the VM reaches hvc0 rather than the virtual UART once the driver is
ready. Run on every CPU back-end the host has."""

import re
import time

import pytest

from linuxrig import BACKENDS, QUICK_BACKENDS, LINUX_TIMEOUT, linux_section
from vmrig import vm_iso, vm_line

LINES = 300
PROMPT = r"\[linux\] root@hv-linux:~# $"


def assert_healthy(text):
    assert not re.search(r"virtio: .*needs reset", text)
    assert "typed input dropped" not in text
    assert "crashed" not in text and "PANIC" not in text


@pytest.mark.parametrize("backend", BACKENDS)
def test_hvc0_carries_the_interactive_shell(machine, linux_guest, backend):
    """Without hv.cmd the initramfs starts its shell on hvc0; a typed
    command runs there (tty says /dev/hvc0), its output comes back
    prefixed [linux], and no typed byte went through the UART (ttyS0
    counts rx 0)."""
    cfg = (f"[vm linux]\ncpus = 0\nmemory = 128M\nkernel = vmlinuz\n"
           f"initrd = initramfs.cpio.gz\ncmdline = \"console=ttyS0\"\n"
           f"virtio_console = yes\n")
    m = machine(backend, vm_iso(cfg, list(linux_guest)), cpus=1, mem=256,
                console_input=True)
    m.expect_summary()
    m.expect(r"hv: console input to vm linux$", 10, pos=0)
    m.expect(vm_line("linux", r"hv-linux: interactive shell on hvc0"), LINUX_TIMEOUT)
    m.expect(PROMPT, 120, partial=True)
    m.send("tty; echo $((6*7)); "
           "sed -n 's/^0:.* rx:\\([0-9]*\\).*/ttyS0 rx \\1/p' /proc/tty/driver/serial\r")
    m.expect(vm_line("linux", r"/dev/hvc0$"), 60)
    m.expect(vm_line("linux", r"42$"), 60)
    m.expect(vm_line("linux", r"ttyS0 rx 0$"), 60)
    m.expect(PROMPT, 60, partial=True)
    # Job control: Ctrl-C reaches the foreground job through hvc0.
    m.send("echo started; sleep 600; echo slept\r")
    m.expect(vm_line("linux", r"started$"), 60)
    time.sleep(1)
    m.send("\x03")
    m.expect(PROMPT, 60, partial=True)
    m.send("echo after-$((1+1)); poweroff -f\r")
    m.expect(vm_line("linux", r"after-2$"), 60)
    m.expect(r"vm linux: ACPI power-off \(S5\), exit status 0", 60)
    text = m.output
    assert "slept" not in text.replace("echo slept", ""), "Ctrl-C did not stop the job"
    assert_healthy(text)


@pytest.mark.parametrize("backend", QUICK_BACKENDS)
def test_output_to_hvc0_appears_prefixed(machine, linux_guest, backend):
    """hv.cmd writes to /dev/hvc0 only: a line, then LINES numbered lines
    in many writes; every one appears, whole, in order, prefixed [linux]."""
    cmd = (f"echo hvc0 says $((6*7)) >/dev/hvc0; "
           f"for i in $(seq 1 {LINES}); do echo line $i; done >/dev/hvc0")
    cfg = linux_section("linux", "0", cmd, virtio_console="yes")
    m = machine(backend, vm_iso(cfg, list(linux_guest)), cpus=1, mem=256)
    m.expect_summary()
    m.expect(vm_line("linux", r"hv-linux: init started"), LINUX_TIMEOUT)
    m.expect(vm_line("linux", r"hvc0 says 42$"), 120)
    m.expect(vm_line("linux", rf"line {LINES}$"), 120)
    m.expect(vm_line("linux", r"hv-linux: command done rc=0"), 120)
    text = m.output
    got = [int(n) for n in re.findall(vm_line("linux", r"line (\d+)\s*$"), text, re.M)]
    assert got == list(range(1, LINES + 1)), got
    assert_healthy(text)


@pytest.mark.parametrize("backend", QUICK_BACKENDS)
def test_a_vm_whose_only_console_is_virtio_takes_the_focus(machine, linux_guest, backend):
    """console = none with virtio_console = yes: the VM is still one with
    a console, so it gets the console focus, and its shell on hvc0 (all
    there is to see of it: no UART for the kernel's messages) takes
    typed commands."""
    cfg = (f"[vm linux]\ncpus = 0\nmemory = 128M\nkernel = vmlinuz\n"
           f"initrd = initramfs.cpio.gz\nconsole = none\nvirtio_console = yes\n")
    m = machine(backend, vm_iso(cfg, list(linux_guest)), cpus=1, mem=256,
                console_input=True)
    m.expect(r"hv: console input to vm linux$")
    m.expect(PROMPT, LINUX_TIMEOUT, partial=True)
    m.send("tty; echo $((6*7)); poweroff -f\r")
    m.expect(vm_line("linux", r"/dev/hvc0$"), 60)
    m.expect(vm_line("linux", r"42$"), 60)
    m.expect(r"vm linux: ACPI power-off \(S5\), exit status 0", 60)
    assert_healthy(m.output)
