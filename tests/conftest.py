"""pytest fixtures for booting the hypervisor in emulators.

    def test_boot(iso, machine):
        m = machine("qemu", iso("loglevel=info"), cpus=2, mem=256)
        m.expect_banner()
        cpus = m.expect_summary().group(1)

`iso(cmdline, modules=())` builds (or reuses) a GRUB ISO of build/hv.elf.
`machine(backend, iso, cpus=1, mem=256, extra_args=(), ...)` starts an
emulator; see tests/machine.py for its methods. Machines are killed when
the test ends, whatever the outcome. The serial log, the emulator's
output and the Bochs log of a failed test are kept in
build/test-logs/<test>/<n>-<backend>/.

Run from the repo root: /usr/bin/python3 -m pytest -n 2 tests
"""

import os
import re
import shutil
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

import machine as rig  # noqa: E402


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "slow: a long emulator run (Bochs); scheduled first so it "
        "overlaps the quick tests on the other worker")


def pytest_collection_modifyitems(session, config, items):
    """Spread the slow tests over the xdist workers' first batches.

    xdist's load scheduler hands each worker a run of consecutive tests
    (max(2, n / workers / 4) of them) and then more as they drain. Putting
    the slowest tests at the start of each worker's first run lets them
    overlap each other and the quick tests instead of queueing on one
    worker at the end."""
    slow = [i for i in items if i.get_closest_marker("slow")]
    if not slow:
        return
    fast = [i for i in items if not i.get_closest_marker("slow")]
    workers = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1") or 1)
    chunk = max(2, len(items) // max(workers, 1) // 4) if workers > 1 else 1
    order = []
    for s in slow:
        order.append(s)
        order += fast[:chunk - 1]
        fast = fast[chunk - 1:]
    items[:] = order + fast


@pytest.hookimpl(hookwrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    rep = outcome.get_result()
    setattr(item, "rep_" + rep.when, rep)


def pytest_unconfigure(config):
    rig._kill_all_live()


def _log_dir_name(node):
    mod = Path(node.fspath).stem if getattr(node, "fspath", None) else "tests"
    return re.sub(r"[^\w.-]+", "-", f"{mod}.{node.name}").strip("-")


@pytest.fixture
def iso():
    """iso(cmdline, modules=()) -> Path of a cached GRUB ISO."""
    return rig.build_iso


@pytest.fixture(scope="session")
def linux_guest():
    """(vmlinuz, initramfs) of the Linux test guest, built once (linuxrig.py)."""
    import linuxrig
    return linuxrig.build_linux_guest()


@pytest.fixture
def machine(request):
    """machine(backend, iso, cpus=1, mem=256, **kw) -> a started Machine.

    backend is one of qemu, qemu-uefi, bochs, kvm; kvm skips the test
    with the reason when this host cannot run nested VT-x."""
    logdir = rig.LOG_DIR / _log_dir_name(request.node)
    shutil.rmtree(logdir, ignore_errors=True)
    machines = []

    def start(backend, iso_path, cpus=1, mem=256, **kw):
        if backend == "kvm":
            why = rig.kvm_unavailable_reason()
            if why:
                pytest.skip(f"kvm backend unavailable: {why}")
        m = rig.Machine(backend, iso_path,
                        logdir / f"{len(machines)}-{backend}", cpus=cpus, mem=mem, **kw)
        machines.append(m)
        return m.start()

    try:
        yield start
    finally:
        for m in machines:
            m.kill()
        # Keep the logs unless the test is known to have passed or been
        # skipped (an interrupted test has no call report: keep them).
        rep = getattr(request.node, "rep_call", None)
        done = rep is not None and (rep.passed or rep.skipped)
        if machines and not done:
            sys.stderr.write(f"logs kept in {logdir}\n")
        elif logdir.exists():
            shutil.rmtree(logdir, ignore_errors=True)
