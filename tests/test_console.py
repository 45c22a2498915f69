"""Console input: what is typed on the hypervisor's serial console goes to
the VM with the console focus; Ctrl-] then a key moves the focus
(core/console_input.c).

The focus tests use the echo guest (tests/guests/echo.c) in QEMU on the
SVM back-end, which takes seconds. The Linux test types into Debian's
kernel with the busybox shell of tests/linux/build-guest.sh on ttyS0, in
QEMU (SVM) and nested KVM; typing into Linux in Bochs (VT-x) is covered by
the hvc0 shell test (test_virtio_console.py), and the UART is the same
code on every back-end."""

import re

import pytest

from linuxrig import LINUX_TIMEOUT, QUICK_BACKENDS
from vmrig import vm_exit, vm_iso, vm_line, vm_section

ESC = "\x1d"   # Ctrl-]


def focus_line(vm):
    return rf"hv: console input to vm {re.escape(vm)}$"


def echo_pair(machine, backend="qemu-svm"):
    cfg = vm_section("left", "0", "echo") + vm_section("right", "1", "echo")
    m = machine(backend, vm_iso(cfg, ["echo"]), cpus=2, console_input=True)
    m.expect(focus_line("left"))
    m.expect(r"hv: console keys: Ctrl-\] n next VM", 10)
    m.expect(vm_line("left", "echo: left ready"), 60, pos=0)
    m.expect(vm_line("right", "echo: right ready"), 60, pos=0)
    return m


def test_input_goes_to_the_focus_vm_and_the_escape_moves_it(machine):
    m = echo_pair(machine)
    m.send("one\r")
    m.expect(vm_line("left", "echo: left got 'one'$"), 30)
    m.send(ESC + "n")
    m.expect(focus_line("right"), 10)
    m.send("two\r")
    m.expect(vm_line("right", "echo: right got 'two'$"), 30)
    # Ctrl-] twice is one Ctrl-] for the VM.
    m.send(ESC + ESC + "x\r")
    m.expect(vm_line("right", r"echo: right got '\\x1dx'$"), 30)
    # Ctrl-] and a number; Ctrl-] and another key lists the keys.
    m.send(ESC + "0")
    m.expect(focus_line("left"), 10)
    m.send(ESC + "7")
    m.expect(r"hv: console input: no running vm 7 with a console", 10)
    m.send(ESC + "?")
    m.expect(r"hv: console keys:", 10)
    m.send("three\r")
    m.expect(vm_line("left", "echo: left got 'three'$"), 30)
    text = m.output
    assert "right got 'one'" not in text and "left got 'two'" not in text
    assert "got 'three'" not in text.replace("left got 'three'", "")
    assert "got 'n'" not in text and "got '0" not in text, "an escape key reached a VM"


def test_a_full_fifo_overruns_and_a_stopped_vm_hands_the_focus_on(machine):
    m = echo_pair(machine)
    m.send("overrun\r")
    m.expect(vm_line("left", "echo: left not reading"), 30)
    m.send("0123456789abcdefX")       # one more than the FIFO holds
    m.expect(vm_line("left", r"echo: left overrun after 16 bytes"), 30)
    m.send("quit\r")
    m.expect(vm_line("left", "echo: left bye"), 30)
    m.expect(vm_exit("left", 0), 10)
    m.expect(focus_line("right"), 10)
    m.send("after\r")
    m.expect(vm_line("right", "echo: right got 'after'$"), 30)
    m.send("quit\r")
    m.expect(vm_exit("right", 0), 30)
    m.expect(r"hv: console input: no running VM has a console", 10)


@pytest.mark.parametrize("backend", QUICK_BACKENDS)
def test_linux_shell_takes_typed_commands(machine, linux_guest, backend):
    """Debian's kernel boots to the initramfs's interactive shell on
    ttyS0 (no hv.cmd), the 8250 driver takes a 16550A with FIFOs and
    interrupts, a typed command runs, and the focus moves to a test guest
    beside it and back."""
    cfg = (f"[vm linux]\ncpus = 0\nmemory = 128M\nkernel = vmlinuz\n"
           f"initrd = initramfs.cpio.gz\ncmdline = \"console=ttyS0\"\n" +
           vm_section("echo", "1", "echo"))
    m = machine(backend, vm_iso(cfg, list(linux_guest) + ["echo"]), cpus=2, mem=256,
                console_input=True)
    m.expect_summary()
    m.expect(focus_line("linux"), 10, pos=0)
    m.expect(vm_line("linux", r".*ttyS0 at I/O 0x3f8 \(irq = 4, base_baud = 115200\) "
                              r"is a 16550A"), LINUX_TIMEOUT)
    m.expect(vm_line("linux", r"hv-linux: interactive shell"), LINUX_TIMEOUT)
    m.expect(r"\[linux\] root@hv-linux:~# $", 120, partial=True)
    m.send("echo $((6*7))\r")
    m.expect(vm_line("linux", r"42$"), 60)
    m.send(ESC + "n")
    m.expect(focus_line("echo"), 10)
    m.send("hi\r")
    m.expect(vm_line("echo", "echo: echo got 'hi'$"), 60)
    m.send(ESC + "n")
    m.expect(focus_line("linux"), 10)
    m.send("echo x$((1+1))y; poweroff -f\r")
    m.expect(vm_line("linux", r"x2y$"), 60)
    m.expect(r"vm linux: ACPI power-off \(S5\), exit status 0", 60)
    text = m.output
    assert "crashed" not in text and "PANIC" not in text
