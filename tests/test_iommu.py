"""VT-d tests (issue 6): the hypervisor takes every DMA remapping unit,
reports what it can do, confines a device's DMA and interrupts, logs each
fault once with its source and reason, and says clearly when a machine
has no IOMMU.

QEMU TCG q35 with `-device intel-iommu,intremap=on,caching-mode=on`
(caching mode is what QEMU needs for assigned devices, and it makes the
hypervisor invalidate on not-present -> present changes) and QEMU's
`edu` DMA test device for the self-test (iommu_selftest=edu).
"""

import re

import pytest

from machine import TS

VTD = ["-device", "intel-iommu,intremap=on,caching-mode=on"]
EDU = ["-device", "edu"]
BASE = "console=com1 loglevel=info"


def errors(m):
    return [l for l in m.hv_lines() if l.startswith("ERROR:")]


def test_unit_found_enabled_with_capabilities(iso, machine):
    m = machine("qemu", iso(BASE), cpus=2, mem=256, extra_args=VTD)
    m.expect(rf"^{TS}iommu: DMAR: 1 unit, 0 RMRRs, 0 ATSRs, host address width \d+, "
             r"interrupt remapping offered")
    m.expect(rf"^{TS}iommu: dmar0 at 0x[0-9a-f]+ \(segment 0, \d+ device scopes?"
             r"( \+ all other devices)?\): VT-d \d\.\d")
    m.expect(rf"^{TS}iommu: dmar0: address widths .*39-bit.*large pages 2M (yes|no) 1G (yes|no)")
    caps = m.expect(rf"^{TS}iommu: dmar0: queued-inval (\w+), intr-remap (\w+) .*"
                    r"caching-mode (\w+), coherent \w+, scalable-mode \w+")
    assert caps.group(1) == "yes" and caps.group(2) == "yes", caps.group(0)
    assert caps.group(3) == "on", "QEMU's caching-mode=on must show: " + caps.group(0)
    m.expect(rf"^{TS}iommu: dmar0: interrupt remapping on: \d+ entries, xAPIC destinations, "
             r"source-id checked, compatibility format blocked")
    m.expect(rf"^{TS}iommu: 1 unit enabled: DMA remapping on")
    s = m.expect_summary()
    assert s.group(4) == "1", s.group(0)
    assert not errors(m), errors(m)


def test_edu_selftest(iso, machine):
    """Data through DMA, faults on unmapped IOVAs with edu's source id and
    the right reason, the MSI through a remapping entry, and a blocked
    device's DMA logged once."""
    m = machine("qemu", iso(BASE + " iommu_selftest=edu"), cpus=2, mem=256,
                extra_args=VTD + EDU)
    assert m.expect_summary().group(4) == "1"
    dev = m.expect(rf"^{TS}iommu: selftest edu: device at 00:([0-9a-f]{{2}})\.(\d)").groups()
    bdf = f"0000:00:{dev[0]}.{dev[1]}"
    m.expect(rf"^{TS}iommu: selftest edu: DMA through the test domain: \d+ bytes in and out, ok")
    m.expect(rf"^{TS}WARNING: iommu: dmar0: DMA write fault from {re.escape(bdf)} at 0x200000: "
             r"reason 0x05 \(write to a page not mapped writable\)")
    m.expect(rf"^{TS}WARNING: iommu: dmar0: DMA read fault from {re.escape(bdf)} at 0x200000: "
             r"reason 0x06 \(read from a page not mapped readable\)")
    m.expect(rf"^{TS}iommu: selftest edu: DMA to unmapped 0x200000 faulted .*ok")
    vec = m.expect(rf"^{TS}iommu: selftest edu: MSI arrived through remapping entry at "
                   r"vector (0x[0-9a-f]+), ok").group(1)
    assert 0x30 <= int(vec, 16) <= 0xfe, vec
    m.expect(rf"^{TS}iommu: selftest edu: MSI with the wrong source blocked")
    m.expect(rf"^{TS}iommu: selftest edu: deassigned edu is blocked")
    m.expect(rf"^{TS}iommu: selftest edu: PASS", timeout=60)
    blocked = [l for l in m.hv_lines() if "reason 0x02" in l]
    assert len(blocked) == 1, f"the blocked device's one DMA logged {len(blocked)} times"
    assert f"DMA write fault from {bdf} at 0x100000" in blocked[0], blocked[0]
    assert "context entry not present" in blocked[0], blocked[0]
    assert not errors(m), errors(m)


def test_selftest_skipped_without_edu(iso, machine):
    m = machine("qemu", iso(BASE + " iommu_selftest=edu"), cpus=1, mem=256, extra_args=VTD)
    m.expect_summary()
    m.expect(rf"^{TS}iommu: selftest edu: no edu device .*skipped")


def test_selftest_skipped_without_iommu(iso, machine):
    m = machine("qemu", iso(BASE + " iommu_selftest=edu"), cpus=1, mem=256, extra_args=EDU)
    assert m.expect_summary().group(4) == "none"
    m.expect(rf"^{TS}iommu: selftest edu: no IOMMU enabled; skipped")


@pytest.mark.parametrize("backend", ["qemu", pytest.param("bochs", marks=pytest.mark.slow)])
def test_no_iommu_boots_with_warning(iso, machine, backend):
    m = machine(backend, iso(BASE), cpus=1, mem=256)
    m.expect(rf"^{TS}WARNING: iommu: no DMAR table: .*devices can DMA anywhere")
    s = m.expect_summary()
    assert s.group(4) == "none", s.group(0)
    assert not errors(m), errors(m)


def test_iommu_off_on_command_line(iso, machine):
    m = machine("qemu", iso(BASE + " iommu=off"), cpus=1, mem=256, extra_args=VTD)
    m.expect(rf"^{TS}WARNING: iommu: off \(iommu=off on the command line\)")
    assert m.expect_summary().group(4) == "none"
