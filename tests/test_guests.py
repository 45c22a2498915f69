"""Guests under every CPU back-end this host can emulate: VT-x with EPT in
Bochs, AMD SVM with nested paging in QEMU TCG, and nested KVM where the
host offers VT-x. Each test is written once and runs on each.

Each test boots the hypervisor with a VM configuration and asserts on
what the VMs and the hypervisor print: guest lines prefixed with the VM
name, crash dumps, exit statuses, configuration errors with file:line."""

import re

import pytest

from vmrig import vm_exit, vm_iso, vm_line, vm_section

VM_TIMEOUT = 240

# bochs: VT-x; qemu-svm: AMD SVM in TCG; kvm: nested VT-x (skipped unless
# the host offers it, with the reason).
BACKENDS = [pytest.param("bochs", marks=pytest.mark.slow), "qemu-svm", "kvm"]


@pytest.fixture(params=BACKENDS)
def backend(request):
    return request.param


@pytest.fixture
def boot(machine, backend):
    def start(config, images, cpus=2, mem=256):
        m = machine(backend, vm_iso(config, images), cpus=cpus, mem=mem)
        summary = m.expect_summary()
        assert summary.group(2) == "yes" or summary.group(6) == "yes", summary.group(0)
        return m
    return start


def test_two_vms_side_by_side(boot):
    cfg = vm_section("alpha", "1", "hello") + vm_section("beta", "2", "hello")
    m = boot(cfg, ["hello"], cpus=3)
    m.expect(r"hv: all VMs have stopped", VM_TIMEOUT)
    text = m.output
    for vm in ("alpha", "beta"):
        assert re.search(vm_line(vm, rf"hello: hello from {vm} \(vm \d\)"), text)
        assert f"[{vm}] hello: via hypercall" in text
        assert f"vm {vm}: debug exit, exit status 0 " in text
    # Whole lines only: no guest line carries another VM's text.
    for line in text.splitlines():
        if "] [alpha] " in line:
            assert "beta" not in line.split("[alpha]", 1)[1]


def test_isolation_probe_is_stopped_and_other_vm_runs(boot):
    cfg = (vm_section("probe", "1", "isolation", cmdline='"target=0x1000000 mode=read"') +
           vm_section("burn", "2", "burner", cmdline='"period=20000 ticks=0"'))
    m = boot(cfg, ["isolation", "burner"], cpus=3)
    m.expect(vm_line("probe", "isolation: own RAM ok"), VM_TIMEOUT)
    m.expect(r"vm probe: vcpu0 crashed: read of guest-physical 0x1000000 outside its RAM",
             VM_TIMEOUT)
    m.expect(r"vm probe: stopped", 30)
    # The other VM keeps running after the probe is gone.
    tick = m.expect(vm_line("burn", r"burner: tick (\d+)"), VM_TIMEOUT)
    m.expect(vm_line("burn", rf"burner: tick {int(tick.group(1)) + 2}\b"), VM_TIMEOUT)
    assert "LEAK" not in m.output


@pytest.mark.parametrize("target,mode", [("0xfed00000", "write"), ("0x100000000", "read"),
                                         ("0xfffff000", "write")])
def test_isolation_reaches_nothing_outside_ram(boot, target, mode):
    cfg = vm_section("probe", "1", "isolation", cmdline=f'"target={target} mode={mode}"')
    m = boot(cfg, ["isolation"])
    m.expect(vm_line("probe", "isolation: own RAM ok"), VM_TIMEOUT)
    m.expect(rf"vm probe: vcpu0 crashed: {mode} of guest-physical {target} outside its RAM",
             VM_TIMEOUT)
    m.expect(r"vm probe: stopped", 30)
    assert "LEAK" not in m.output


def test_triple_fault_and_hypercall_fuzz_do_not_disturb_others(boot):
    cfg = (vm_section("tf", "1", "triplefault", on_crash="restart") +
           vm_section("fuzz", "2", "hcfuzz", cmdline='"seed=7 count=3000"') +
           vm_section("hello", "3", "hello"))
    m = boot(cfg, ["triplefault", "hcfuzz", "hello"], cpus=4)
    # Every VM ends by itself: the triple-faulter at its restart limit.
    m.expect(r"hv: all VMs have stopped", VM_TIMEOUT)
    text = m.output
    assert re.search(r"vm tf: vcpu0 crashed: VM exit \S+ \((shutdown: )?triple fault\)", text)
    assert "vm tf: restarting (1)" in text
    assert "vm tf: restarted too often; stopping instead" in text
    assert re.search(vm_line("fuzz", r"hcfuzz: 3000 hypercalls done"), text)
    assert re.search(vm_exit("fuzz", 0), text), m.tail(30)
    assert re.search(vm_exit("hello", 0), text), m.tail(30)
    assert "PANIC" not in text and "EXCEPTION" not in text


def test_config_errors_reported_and_valid_vm_runs(boot):
    cfg = ("[vm good]\ncpus = 1\nmemory = 4M\nkernel = hello.elf\ndebug_exit = 0xf4\n"
           "[vm bad1]\ncpus = 1\nmemory = 4M\nkernel = hello.elf\n"
           "[vm bad2]\ncpus = 2\nmemory = 4M\nkernel = missing.elf\n"
           "[vm bad3]\ncpus = 0\nmemory = 2G\nkernel = hello.elf\n"
           "[vm bad4]\ncpus = 5\nmemory = 4M\nkernel = hello.elf\ncolour = blue\n"
           "[vm bad5]\ncpus = 6\nmemory = 4M\nkernel = hello.elf\n")
    m = boot(cfg, ["hello"], cpus=3)
    text = m.output
    assert "vms.conf:7: cpus: CPU 1 is already used by VM 'good' (line 1)" in text
    assert "vms.conf:13: kernel: no boot module named 'missing.elf'" in text
    assert re.search(r"vms.conf:16: memory: 2048M exceeds the \d+M free", text)
    assert "vms.conf:22: unknown key 'colour'" in text
    assert "vms.conf:24: vm bad5: CPU 6 is not online (3 CPUs are)" in text
    assert "hv: 1 of 6 configured VM(s) created" in text
    m.expect(vm_line("good", r"hello: hello from good"), VM_TIMEOUT)
    m.expect(vm_exit("good", 0), VM_TIMEOUT)


@pytest.mark.parametrize("guest", ["cpuid", "msr", "ports", "irq", "timer", "hello-mb1", "hello-mb2"])
def test_probe_guest_passes(boot, guest):
    cfg = vm_section("p", "1", guest, cmdline='"probe=1"')
    m = boot(cfg, [guest])
    m.expect(vm_line("p", rf"{guest}: "), VM_TIMEOUT)
    m.expect(vm_exit("p", r"\d+"), VM_TIMEOUT)
    assert "vm p: debug exit, exit status 0 " in m.output, m.tail(30)
    assert "crashed" not in m.output


def test_corrupt_image_is_refused_and_other_vm_runs(boot, tmp_path):
    from vmrig import guest
    data = guest("hello").read_bytes()
    bad = tmp_path / "truncated.elf"
    bad.write_bytes(data[:len(data) // 3])
    cfg = vm_section("broken", "0", "truncated") + vm_section("fine", "1", "hello")
    m = boot(cfg, [bad, "hello"])
    text = m.output
    assert re.search(r"ERROR: loader: truncated\.elf: .+", text), m.tail(30)
    assert "vms.conf:1: vm broken: not started" in text
    m.expect(vm_exit("fine", 0), VM_TIMEOUT)


def test_acpi_poweroff_and_reboot_from_the_guest(boot):
    cfg = (vm_section("off", "1", "acpi", cmdline='"action=poweroff"') +
           vm_section("boot", "2", "acpi", cmdline='"action=reboot"'))
    m = boot(cfg, ["acpi"], cpus=3)
    m.expect(r"hv: all VMs have stopped", VM_TIMEOUT)
    text = m.output
    for vm in ("off", "boot"):
        assert re.search(vm_line(vm, r"acpi: PASS 0 failure\(s\)"), text), m.tail(40)
    assert "vm off: ACPI power-off (S5), exit status 0 " in text
    assert "vm off: stopped" in text
    assert "vm boot: reset through port 0xcf9: rebooting" in text
    assert "vm boot: restarting (1)" in text
    assert "exit status 85" not in text           # 0x55: a request was ignored
