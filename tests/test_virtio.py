"""The built-in virtio devices, seen by Debian's own drivers (virtio_pci
and the device drivers, loaded by the test initramfs for the PCI devices
it finds). Run on every CPU back-end the host has."""

import re

import pytest

from linuxrig import BACKENDS, LINUX_TIMEOUT, linux_section
from vmrig import vm_iso, vm_line

RNG = "/sys/bus/virtio/drivers/virtio_rng"
# Read 32 bytes, then unbind the driver: it resets the device, which says
# what its queue did.
RNG_CMD = ("cat /sys/class/misc/hw_random/rng_current; head -c 32 /dev/hwrng | od -An -tx1; "
           f"for d in {RNG}/virtio*; do echo ${{d##*/}} > {RNG}/unbind; done")


@pytest.mark.parametrize("backend", BACKENDS)
def test_virtio_rng_feeds_dev_hwrng(machine, linux_guest, backend):
    """virtio_rng = yes: Linux binds virtio_rng.0 as its hardware RNG and
    /dev/hwrng reads random bytes (from the host CPU's RDRAND)."""
    cfg = linux_section("linux", "0", RNG_CMD, virtio_rng="yes")
    m = machine(backend, vm_iso(cfg, list(linux_guest)), cpus=1, mem=256)
    m.expect_summary()
    if re.search(r"the CPU has no RDRAND", m.output):
        pytest.skip(f"{backend}: the emulated CPU has no RDRAND, so the VM gets no virtio-rng")
    m.expect(vm_line("linux", r"hv-linux: init started"), LINUX_TIMEOUT)
    m.expect(vm_line("linux", r"hv-linux: command done rc=0"), 120)
    text = m.output
    assert re.search(vm_line("linux", r"virtio_rng\.0\s*$"), text, re.M), "no virtio_rng.0"
    rows = re.findall(vm_line("linux", r"\s*((?:[0-9a-f]{2} ){15}[0-9a-f]{2})\s*$"), text, re.M)
    data = bytes.fromhex("".join(rows).replace(" ", ""))
    assert len(data) == 32, rows
    assert len(set(data)) > 8, f"32 bytes from /dev/hwrng do not look random: {data.hex()}"
    assert not re.search(r"virtio: .*needs reset", text)
    # The driver's reset at unbind: the device served what was read.
    st = re.search(r"virtio: VM linux dev virtio-rng queue 0: (\d+) buffers used, (\d+) "
                   r"notifications, (\d+) interrupts", text)
    assert st, "no queue statistics at the driver's reset"
    used, kicks, irqs = map(int, st.groups())
    assert used >= 1 and kicks >= 1 and irqs >= 1, st.group(0)
    assert "crashed" not in text and "PANIC" not in text
