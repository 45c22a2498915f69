"""Helpers for tests that run VMs: write a configuration, pack it with
the guest images into an ISO, and read what the VMs printed."""

import hashlib
import re
from pathlib import Path

import machine as rig

GUESTS = rig.REPO / "build" / "guests"
CONFIGS = rig.REPO / "build" / "test-configs"


def guest(name):
    """Path of a built test guest (make guests builds them)."""
    p = GUESTS / f"{name}.elf"
    assert p.exists(), f"{p} is missing: run `make guests`"
    return p


def vm_iso(config_text, images, cmdline="console=com1 on_idle=poweroff"):
    """ISO with @config_text as vms.conf and @images (guest names or
    paths) as modules named by their file names."""
    digest = hashlib.sha256(config_text.encode()).hexdigest()[:16]
    d = CONFIGS / digest
    d.mkdir(parents=True, exist_ok=True)
    conf = d / "vms.conf"
    conf.write_text(config_text)
    mods = [conf] + [p if isinstance(p, Path) else guest(p) for p in images]
    return rig.build_iso(cmdline, mods)


def vm_section(name, cpus, kernel, memory="4M", **keys):
    lines = [f"[vm {name}]", f"cpus = {cpus}", f"memory = {memory}",
             f"kernel = {kernel}.elf", "debug_exit = 0xf4"]
    lines += [f"{k} = {v}" for k, v in keys.items()]
    return "\n".join(lines) + "\n"


def vm_line(vm, text):
    """Regex for a line the VM printed on its console."""
    return rf"\[{re.escape(vm)}\] {text}"


def vm_exit(vm, status=0):
    return rf"vm {re.escape(vm)}: debug exit, exit status {status} "
