"""The configuration `make run` boots (configs/default.conf), as a user
gets it: Debian's Linux reaches a shell on its virtio console that takes
typed commands, with its virtio disk and network there, beside the echo
guest. Run where Linux boots in seconds (QEMU-SVM, nested KVM); each
device is also tested on its own, in Bochs too."""

import re

import pytest

import machine as rig
from linuxrig import LINUX_TIMEOUT, QUICK_BACKENDS
from vmrig import vm_iso, vm_line

DEFAULT_CONF = rig.REPO / "configs" / "default.conf"


def default_config_as_modules():
    """default.conf with its image paths turned into the module names
    vm_iso() gives (file names); everything else as written."""
    text = DEFAULT_CONF.read_text()
    paths = re.findall(r"^\s*(?:kernel|initrd|disk)\s*=\s*([^\s,#]+)", text, re.M)
    images = [p for p in paths if not p.startswith("empty:")]
    for p in images:
        text = text.replace(p, p.rsplit("/", 1)[-1])
    return text, [rig.REPO / p for p in images]


@pytest.mark.parametrize("backend", QUICK_BACKENDS)
def test_make_run_config_gives_linux_a_shell_and_virtio_devices(machine, linux_guest, backend):
    text, images = default_config_as_modules()
    cpus = max(int(c) for c in re.findall(r"^cpus = .*?(\d+)\s*$", text, re.M)) + 1
    m = machine(backend, vm_iso(text, images), cpus=cpus, mem=512, console_input=True)
    m.expect_summary()
    m.expect(r"hv: console input to vm linux", 10, pos=0)
    m.expect(vm_line("linux", r"hv-linux: interactive shell on hvc0"), LINUX_TIMEOUT)
    m.expect(r"\[linux\] root@hv-linux:~# $", 120, partial=True)
    m.send("tty; cat /sys/block/vda/size; echo done-$((6*7))\r")
    m.expect(vm_line("linux", r"done-42$"), 60)
    out = m.output
    assert re.search(vm_line("linux", r"/dev/hvc0$"), out, re.M), "the shell is not on hvc0"
    assert re.search(vm_line("linux", r"131072$"), out, re.M), "no 64 MiB /dev/vda"
    assert re.search(vm_line("echo", r".*"), out), "the echo guest said nothing"
    assert "crashed" not in out and "PANIC" not in out
