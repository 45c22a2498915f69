"""Foundation boot tests: the hypervisor comes up in each emulator, brings
every CPU online, accounts for memory, honours its command line and
reports exceptions, power-off and reboot on the serial console.

The serial contract: every hypervisor line is "[    s.uuuuuu] message";
warnings carry "WARNING:" and errors "ERROR:" right after the prefix.
"""

import re

import pytest

from machine import BANNER, TS

# backend -> (cpus, mem MiB, expected vmx, expected ept)
BOOT_CASES = {
    "qemu": (2, 256, "no", "no"),        # TCG has no VMX (TEST-RIG)
    "qemu-uefi": (2, 256, "no", "no"),
    "bochs": (4, 256, "yes", "yes"),     # corei7_skylake_x: VMX, EPT
    "kvm": (2, 256, "yes", "yes"),       # nested VT-x
}


def boot_to_summary(m):
    """Expect the banner, then the summary; return the summary match."""
    m.expect_banner()
    return m.expect_summary()


@pytest.mark.parametrize("backend", [
    "qemu", "qemu-uefi", pytest.param("bochs", marks=pytest.mark.slow), "kvm"])
def test_boot_banner_and_summary(iso, machine, backend):
    cpus, mem, vmx, ept = BOOT_CASES[backend]
    m = machine(backend, iso("console=com1 loglevel=info"), cpus=cpus, mem=mem)
    s = boot_to_summary(m)
    print(f"{backend}: {cpus} CPUs to summary in {m.elapsed:.1f} s")
    assert s.group(1) == str(cpus), s.group(0)
    assert s.group(2) == vmx, s.group(0)
    assert s.group(3) == ept, s.group(0)

    out = m.output
    start = re.search(rf"^{TS}{BANNER}", out, re.M).start()
    # Whole lines only: the machine may be writing the next one right now.
    hv = out[start:out.rfind("\n")].splitlines()
    unprefixed = [l for l in hv if l and not re.match(TS, l)]
    assert not unprefixed, f"lines without the timestamp prefix: {unprefixed[:5]}"
    errors = [l for l in hv if re.match(rf"{TS}ERROR:", l)]
    assert not errors, "errors on a clean boot:\n" + "\n".join(errors)


@pytest.mark.parametrize("cpus", [1, 2, 4])
def test_all_cpus_online(iso, machine, cpus):
    m = machine("qemu", iso("console=com1"), cpus=cpus, mem=256)
    s = boot_to_summary(m)
    assert int(s.group(1)) == cpus, s.group(0)


@pytest.mark.parametrize("mem", [256, 1024])
def test_mem_free_matches_machine(iso, machine, mem):
    m = machine("qemu", iso("console=com1"), cpus=1, mem=mem)
    free = int(boot_to_summary(m).group(5))
    # The hypervisor's image, page tables and per-CPU data take a few MiB;
    # firmware keeps a little more.
    assert 0.8 * mem - 16 < free < mem, f"mem_free_mib={free} with {mem} MiB"


@pytest.mark.parametrize("name,mnemonic,vector", [
    ("ud", "UD", 6), ("de", "DE", 0), ("gp", "GP", 13), ("pf", "PF", 14)])
def test_selftest_exception_dump(iso, machine, name, mnemonic, vector):
    m = machine("qemu", iso(f"console=com1 selftest={name}"), cpus=1, mem=128)
    boot_to_summary(m)
    exc = m.expect(rf"EXCEPTION #{mnemonic} \(vector {vector}\)", timeout=30)
    stop = m.expect(r"cpu0 stopped", timeout=30)
    dump = m.output[exc.start():stop.start()]
    for field in ("error=0x", "rip=0x", "cr2=0x", "stack trace:"):
        assert field in dump, f"{field!r} missing from the dump:\n{dump}"
    assert re.search(r"r[a-z0-9]{1,2}=0x[0-9a-f]+", dump.replace("rip=", "")), \
        f"no general registers in the dump:\n{dump}"


def test_selftest_panic(iso, machine):
    m = machine("qemu", iso("console=com1 selftest=panic"), cpus=2, mem=128)
    boot_to_summary(m)
    m.expect(r"PANIC", timeout=30)
    m.expect(r"all CPUs stopped", timeout=30)


@pytest.mark.parametrize("backend", [
    "qemu", "qemu-uefi", pytest.param("bochs", marks=pytest.mark.slow)])
def test_poweroff_ends_emulator(iso, machine, backend):
    m = machine(backend, iso("console=com1 on_idle=poweroff"), cpus=1, mem=128)
    boot_to_summary(m)
    m.expect(r"hv: powering off \(ACPI S5\)", timeout=30)
    rc = m.wait_exit(timeout=60)
    print(f"{backend}: powered off after {m.elapsed:.1f} s, status {rc}")
    if backend != "bochs":
        # Bochs exits with 1 after an ACPI power-off (TEST-RIG); QEMU with 0.
        assert rc == 0, f"QEMU exit status {rc} after power-off"


def test_reboot_exits_with_no_reboot(iso, machine):
    m = machine("qemu", iso("console=com1 on_idle=reboot"), cpus=1, mem=128)
    boot_to_summary(m)
    m.expect(r"hv: rebooting", timeout=30)
    rc = m.wait_exit(timeout=60)
    assert rc == 0, f"QEMU exit status {rc} after a reset with -no-reboot"


def test_reboot_boots_again(iso, machine):
    m = machine("qemu", iso("console=com1 on_idle=reboot"), cpus=1, mem=128,
                no_reboot=False)
    boot_to_summary(m)
    m.expect(r"hv: rebooting", timeout=30)
    m.expect_banner()


def test_unknown_option_warns_and_boots(iso, machine):
    m = machine("qemu", iso("console=com1 foo loglevel=info"), cpus=1, mem=128)
    s = boot_to_summary(m)
    # The command line may be parsed before the banner is printed.
    w = m.expect(rf"^{TS}WARNING: .*cmdline: unknown option 'foo'", timeout=1, pos=0)
    assert w.start() < s.start(), "the warning came after the summary"


def test_loglevel_debug_boots(iso, machine):
    m = machine("qemu", iso("console=com1 loglevel=debug"), cpus=1, mem=128)
    boot_to_summary(m)
    assert not re.search(rf"^{TS}WARNING: .*cmdline", m.output, re.M), m.tail()


def test_empty_module_ignored(iso, machine):
    m = machine("qemu", iso("console=com1", modules=[("empty.bin", b"")]),
                cpus=1, mem=128)
    s = boot_to_summary(m)
    w = m.expect(rf"^{TS}.*multiboot2: module.*ignored", timeout=1, pos=0)
    assert "empty.bin" in w.group(0), f"the warning does not name the module: {w.group(0)}"
    assert w.start() < s.start(), "the warning came after the summary"
