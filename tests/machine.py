"""Emulator machines for the hypervisor's tests.

A Machine boots one ISO in one emulator (QEMU TCG with BIOS or OVMF,
nested KVM, or Bochs), sends the guest's COM1 to a file, and lets a test
wait for lines on it. With console_input=True a test can also type on
COM1 (Machine.send): QEMU's COM1 is then its stdin and stdout, Bochs's a
pseudo-terminal whose output a thread copies to the same file. The emulator runs in its own process group and is
always killed with that group: by Machine.kill(), by the pytest fixture's
teardown, at interpreter exit, and by the kernel (PR_SET_PDEATHSIG) if
the test process itself dies.

Facts about the emulators used here are in shared/TEST-RIG.md.
"""

import atexit
import codecs
import ctypes
import fcntl
import hashlib
import os
import re
import shutil
import signal
import subprocess
import threading
import time
import tty
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
BUILD = REPO / "build"
# HV_ELF=path tests another image (e.g. a snapshot while build/ is rebuilt).
HV_ELF = Path(os.environ.get("HV_ELF", BUILD / "hv.elf")).resolve()
MKISO = REPO / "tools" / "mkiso.sh"
ISO_DIR = BUILD / "test-isos"
LOG_DIR = BUILD / "test-logs"
OVMF = Path("/usr/share/ovmf/OVMF.fd")
BOCHS_BIOS = Path("/usr/share/bochs/BIOS-bochs-latest")
VGA_BIOS = Path("/usr/share/vgabios/vgabios.bin")

BACKENDS = ("qemu", "qemu-uefi", "qemu-svm", "bochs", "kvm")


def _host_is_amd():
    try:
        return "AuthenticAMD" in Path("/proc/cpuinfo").read_text()
    except OSError:
        return False


# QEMU TCG emulates AMD SVM with nested paging: "max" shows it on AMD
# hosts; elsewhere the EPYC model does (TEST-RIG.md).
SVM_CPU = "max" if _host_is_amd() else "EPYC"

# Every hypervisor console line: "[    0.012345] message".
TS = r"\[\s*\d+\.\d{6}\] "
BANNER = r"hv: hypervisor \S+ booting"
SUMMARY = (r"hv: ready cpus=(\d+) vmx=(yes|no) ept=(yes|no) iommu=(\S+)"
           r" mem_free_mib=(\d+)(?: svm=(yes|no) npt=(yes|no))?")

# Slow machines (CI under load, a debug build) can stretch every timeout.
TIMEOUT_SCALE = float(os.environ.get("HV_TEST_TIMEOUT_SCALE", "1"))

# With `clock: sync=none` Bochs's emulated time is instructions / ips. The
# BIOS waits ~3.1 emulated s before it boots the CD, so a low ips makes
# that short; too low and guest timers fire every few thousand
# instructions. 50 M: BIOS + GRUB in ~2.5 s wall for one CPU.
BOCHS_IPS = int(os.environ.get("HV_BOCHS_IPS", "50000000"))


def boot_timeout(backend, cpus=1):
    """Seconds to allow from power-on to the summary line, with two
    machines running in parallel on a 2-core host."""
    if backend == "bochs":
        # Bochs runs every emulated CPU in one host thread.
        base = 90 + 45 * cpus
    elif backend == "qemu-uefi":
        base = 60 + 5 * cpus
    else:
        base = 40 + 5 * cpus
    return base * TIMEOUT_SCALE


def kvm_unavailable_reason():
    """None when nested VT-x under KVM can run here, else why not. /dev/kvm
    alone proves nothing: on AMD hosts it cannot run VMX guests."""
    try:
        flags = Path("/proc/cpuinfo").read_text()
    except OSError as e:
        return f"cannot read /proc/cpuinfo: {e}"
    if not re.search(r"^flags\s*:.*\bvmx\b", flags, re.M):
        return "host CPU shows no vmx flag (no nested VT-x for KVM)"
    if not Path("/sys/module/kvm_intel").is_dir():
        return "kvm_intel module is not loaded"
    if not os.access("/dev/kvm", os.R_OK | os.W_OK):
        return "/dev/kvm is not accessible"
    return None


# --- ISO images --------------------------------------------------------------

_pruned = False


def _sha256(data):
    return hashlib.sha256(data).hexdigest()


def build_iso(cmdline, modules=()):
    """Return the path of a GRUB ISO that boots build/hv.elf with
    @cmdline and @modules (each a path, or a (name, bytes) pair).

    Cached in build/test-isos/ by the hash of hv.elf, the command line,
    the modules' names and contents and tools/mkiso.sh. Safe when several
    xdist workers ask for the same image: a lock file serializes the
    build and mkiso.sh renames the finished file into place."""
    global _pruned
    if not HV_ELF.is_file():
        pytest.fail(f"{HV_ELF} does not exist: run `make` first", pytrace=False)
    ISO_DIR.mkdir(parents=True, exist_ok=True)
    hv_hash = _sha256(HV_ELF.read_bytes())
    h = hashlib.sha256()
    h.update(hv_hash.encode())
    h.update(MKISO.read_bytes())
    h.update(b"\0cmdline\0" + cmdline.encode())
    mod_paths = []
    for m in modules:
        if isinstance(m, tuple):
            name, data = m
            d = ISO_DIR / f"mod-{_sha256(data)[:16]}"
            d.mkdir(exist_ok=True)
            p = d / name
            if not p.exists() or p.read_bytes() != data:
                tmp = d / f".{name}.{os.getpid()}"
                tmp.write_bytes(data)
                os.replace(tmp, p)
        else:
            p = Path(m)
            data = p.read_bytes()
        mod_paths.append(p)
        h.update(b"\0module\0" + p.name.encode() + b"\0" + _sha256(data).encode())
    prefix = hv_hash[:12]
    out = ISO_DIR / f"{prefix}-{h.hexdigest()[:20]}.iso"

    if not _pruned:
        # Images of other hv.elf builds are dead weight (~9 MiB each).
        _pruned = True
        for old in list(ISO_DIR.glob("*.iso")) + list(ISO_DIR.glob("*.lock")):
            if not old.name.startswith(prefix):
                old.unlink(missing_ok=True)

    if out.exists():
        return out
    with open(out.with_suffix(".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not out.exists():
            r = subprocess.run(
                [str(MKISO), str(out), str(HV_ELF), cmdline] + [str(p) for p in mod_paths],
                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
            if r.returncode != 0:
                pytest.fail(f"tools/mkiso.sh failed ({r.returncode}):\n{r.stdout}",
                            pytrace=False)
    return out


# --- Machines ----------------------------------------------------------------

_live = set()


def _kill_all_live():
    for m in list(_live):
        m.kill()


atexit.register(_kill_all_live)

# Looked up now: a symbol lookup between fork and exec could deadlock.
_prctl = ctypes.CDLL(None, use_errno=True).prctl
_PR_SET_PDEATHSIG = 1


def _child_setup():
    # Runs in the child between fork and exec: if the test process dies
    # (even by SIGKILL), the kernel kills the emulator.
    _prctl(_PR_SET_PDEATHSIG, int(signal.SIGKILL), 0, 0, 0)


class Machine:
    """One emulator run. Create through the `machine` fixture, which also
    kills it and keeps its logs when the test fails."""

    def __init__(self, backend, iso, workdir, *, cpus=1, mem=256,
                 extra_args=(), no_reboot=True, bochs_ips=None,
                 bochs_config=(), env=None, console_input=False):
        if backend not in BACKENDS:
            raise ValueError(f"unknown backend {backend!r}; want one of {BACKENDS}")
        self.backend = backend
        self.iso = Path(iso)
        self.cpus = cpus
        self.mem = mem
        self.workdir = Path(workdir)
        self.extra_args = list(extra_args)
        self.no_reboot = no_reboot
        self.bochs_ips = bochs_ips or BOCHS_IPS
        self.bochs_config = list(bochs_config)
        self.env = env
        self.console_input = console_input
        self._pty = None          # Bochs with console input: (master, slave)
        self._pump = None
        self.serial_path = self.workdir / "serial.log"
        self.emu_out_path = self.workdir / "emulator.out"
        self.bochs_log_path = self.workdir / "bochs.log"
        self.boot_timeout = boot_timeout(backend, cpus)
        self.proc = None
        self.returncode = None
        self.cursor = 0
        self._raw_pos = 0
        self._text = ""
        self._decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        self._t0 = None

    # -- starting and stopping --

    def _qemu_cmd(self):
        serial = "stdio" if self.console_input else f"file:{self.serial_path}"
        cmd = ["qemu-system-x86_64", "-M", "q35", "-smp", str(self.cpus),
               "-m", str(self.mem), "-display", "none", "-monitor", "none",
               "-serial", serial, "-nic", "none",
               "-device", "isa-debug-exit,iobase=0xf4,iosize=0x04",
               "-cdrom", str(self.iso)]
        if self.no_reboot:
            cmd.append("-no-reboot")
        if self.backend == "kvm":
            cmd += ["-accel", "kvm", "-cpu", "host"]
        elif self.backend == "qemu-svm":
            cmd += ["-accel", "tcg", "-cpu", SVM_CPU]
        else:
            cmd += ["-accel", "tcg", "-cpu", "max"]
        if self.backend == "qemu-uefi":
            # -bios keeps OVMF's variable store in RAM: no vars file to copy.
            cmd += ["-bios", str(OVMF)]
        return cmd + self.extra_args

    def _bochs_cmd(self):
        rc = self.workdir / "bochsrc"
        lines = [
            f"cpu: model=corei7_skylake_x, count={self.cpus}, ips={self.bochs_ips},"
            f" reset_on_triple_fault={0 if self.no_reboot else 1}",
            f"memory: guest={self.mem}, host={self.mem}",
            f"romimage: file={BOCHS_BIOS}",
            f"vgaromimage: file={VGA_BIOS}",
            f'ata0-master: type=cdrom, path="{self.iso.resolve()}", status=inserted',
            "boot: cdrom",
            (f"com1: enabled=1, mode=term, dev={os.ttyname(self._pty[1])}"
             if self._pty else f"com1: enabled=1, mode=file, dev={self.serial_path}"),
            # Fixed time0 and sync=none: runs repeat instruction for instruction.
            "clock: sync=none, time0=946684800",
            'display_library: rfb, options="timeout=0"',
            # Without ALSA Bochs's sound mixer thread aborts at start-up
            # ("buffer overflow detected"); the dummy driver avoids it.
            "sound: driver=dummy",
            "speaker: enabled=0",
            "mouse: enabled=0",
            "port_e9_hack: enabled=1",
            f"log: {self.bochs_log_path}",
            "panic: action=fatal",
            "error: action=report",
            "info: action=report",
            "debug: action=ignore",
        ] + self.bochs_config
        rc.write_text("\n".join(lines) + "\n")
        return ["bochs", "-q", "-f", str(rc)] + self.extra_args

    def start(self):
        self.workdir.mkdir(parents=True, exist_ok=True)
        for p in (self.serial_path, self.bochs_log_path):
            p.unlink(missing_ok=True)
        self.serial_path.touch()
        if self.backend == "bochs":
            if self.console_input:
                self._start_pty()
            cmd = self._bochs_cmd()
            tool = "bochs"
        else:
            cmd = self._qemu_cmd()
            tool = "qemu-system-x86_64"
        if shutil.which(tool) is None:
            pytest.fail(f"{tool} not found: run tools/deps.sh run", pytrace=False)
        (self.workdir / "command").write_text(
            " ".join(_shell_quote(c) for c in cmd) + "\n")
        out = open(self.emu_out_path, "wb")
        qemu_stdio = self.console_input and self.backend != "bochs"
        serial = open(self.serial_path, "ab") if qemu_stdio else None
        try:
            self.proc = subprocess.Popen(
                cmd, cwd=self.workdir,
                stdin=subprocess.PIPE if self.backend == "bochs" or qemu_stdio
                else subprocess.DEVNULL,
                stdout=serial or out, stderr=out if qemu_stdio else subprocess.STDOUT,
                start_new_session=True, preexec_fn=_child_setup, env=self.env)
        finally:
            out.close()
            if serial:
                serial.close()
        _live.add(self)
        self._t0 = time.monotonic()
        if self.backend == "bochs":
            # The debugger build waits at a prompt: "c" runs the machine;
            # EOF afterwards makes the debugger quit if it regains control.
            try:
                self.proc.stdin.write(b"c\n")
                self.proc.stdin.close()
            except BrokenPipeError:
                pass
        return self

    def _start_pty(self):
        """Bochs's COM1 in term mode on a pseudo-terminal: a thread copies
        what it prints to the serial log, send() writes to it."""
        master, slave = os.openpty()
        tty.setraw(slave)
        self._pty = (master, slave)

        def pump():
            with open(self.serial_path, "ab", buffering=0) as log:
                while True:
                    try:
                        data = os.read(master, 4096)
                    except OSError:        # EIO: no one has the slave open
                        return
                    if not data:
                        return
                    log.write(data)

        self._pump = threading.Thread(target=pump, daemon=True)
        self._pump.start()

    def _stop_pty(self):
        if not self._pty:
            return
        master, slave = self._pty
        self._pty = None
        os.close(slave)
        if self._pump:
            self._pump.join(timeout=5)
        os.close(master)

    def send(self, data, delay=0.02):
        """Type @data (str or bytes) on COM1, one byte every @delay
        seconds: a person types no faster, and a burst could overrun the
        emulated UART's receive FIFO before the hypervisor reads it.
        Needs console_input=True."""
        if not self.console_input:
            raise RuntimeError("start the machine with console_input=True to type on it")
        if isinstance(data, str):
            data = data.encode()
        for b in data:
            if self.backend == "bochs":
                os.write(self._pty[0], bytes([b]))
            else:
                self.proc.stdin.write(bytes([b]))
                self.proc.stdin.flush()
            time.sleep(delay)

    def kill(self):
        """Kill the emulator and everything in its process group."""
        if self.proc is None:
            self._stop_pty()
            return
        if self.proc.returncode is None:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        else:
            # The leader is gone; stragglers in its group must go too.
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
        if self.returncode is None:
            self.returncode = self.proc.returncode
        self._stop_pty()
        _live.discard(self)

    def is_running(self):
        return self.proc is not None and self.proc.poll() is None

    @property
    def elapsed(self):
        """Wall seconds since the emulator started."""
        return time.monotonic() - self._t0 if self._t0 else 0.0

    # -- the serial console --

    def _read(self):
        try:
            with open(self.serial_path, "rb") as f:
                f.seek(self._raw_pos)
                data = f.read()
        except FileNotFoundError:
            return
        if data:
            self._raw_pos += len(data)
            self._text += self._decoder.decode(data).replace("\r", "")

    @property
    def output(self):
        """Everything the machine has printed on COM1 so far (no CRs)."""
        self._read()
        return self._text

    def complete_output(self):
        """The output up to its last newline: while the machine runs, the
        last line may be half written."""
        text = self.output
        return text if not self.is_running() else text[:text.rfind("\n") + 1]

    def hv_lines(self):
        """The hypervisor's own complete lines, timestamp prefix removed
        (firmware and GRUB lines have no prefix)."""
        return [m.group(1) for m in
                re.finditer(rf"^{TS}(.*)$", self.complete_output(), re.M)]

    def tail(self, n=40):
        lines = self.output.splitlines()
        return "\n".join(lines[-n:])

    def _diagnosis(self):
        parts = [f"--- last lines of {self.backend} serial ({self.serial_path}) ---",
                 self.tail() or "(nothing on the serial console)"]
        if self.backend == "bochs" and self.bochs_log_path.exists():
            with open(self.bochs_log_path, "rb") as f:
                f.seek(0, os.SEEK_END)
                f.seek(max(0, f.tell() - 200_000))
                log = f.read().decode("utf-8", "replace").splitlines()
            bad = [l for l in log if re.match(r"^\d+[ep]\[", l)]
            if bad:
                parts += ["--- Bochs errors/panics (last 15) ---"] + bad[-15:]
        if not self.is_running() and self.emu_out_path.exists():
            out = self.emu_out_path.read_text(errors="replace").splitlines()
            parts += [f"--- emulator output, last lines ({self.emu_out_path}) ---"] + out[-8:]
        return "\n".join(parts)

    def _state(self):
        rc = self.proc.poll() if self.proc else None
        return "still running" if rc is None else f"emulator exited with status {rc}"

    def expect(self, regex, timeout=None, flags=re.M, pos=None, partial=False):
        """Wait until @regex matches the serial output after the previous
        match (or from offset @pos, e.g. 0 for the whole output), and
        return the re.Match (on the whole output). Fails the test, with
        the log's tail, on timeout or when the emulator exits first.
        @timeout defaults to the backend's boot timeout.

        Only complete lines are searched, so that "mem_free_mib=(\\d+)"
        cannot catch "25" of a "254" still being written; @partial=True
        also searches the line being written (for a prompt)."""
        if timeout is None:
            timeout = self.boot_timeout
        start = self.cursor if pos is None else pos
        pat = re.compile(regex, flags)
        deadline = time.monotonic() + timeout
        while True:
            running = self.is_running()
            text = self.output
            end = len(text) if partial else text.rfind("\n") + 1
            m = pat.search(text, start, max(start, end))
            if m:
                self.cursor = max(self.cursor, m.end())
                return m
            if not running:
                # It may have printed its last words just before exiting.
                self._read()
                m = pat.search(self._text, start)
                if m:
                    self.cursor = max(self.cursor, m.end())
                    return m
                pytest.fail(f"{self.backend}: {self._state()} before /{regex}/ appeared "
                            f"(after {self.elapsed:.1f} s)\n{self._diagnosis()}",
                            pytrace=False)
            if time.monotonic() > deadline:
                pytest.fail(f"{self.backend}: /{regex}/ did not appear within {timeout:.0f} s "
                            f"({self._state()})\n{self._diagnosis()}", pytrace=False)
            time.sleep(0.05)

    def expect_banner(self, timeout=None):
        return self.expect(rf"^{TS}{BANNER}", timeout)

    def expect_summary(self, timeout=None):
        """Wait for the "hv: ready ..." line; returns its match, whose
        groups are cpus, vmx, ept, iommu, mem_free_mib."""
        return self.expect(rf"^{TS}{SUMMARY}", timeout)

    def wait_exit(self, timeout):
        """Wait for the emulator to end by itself; return its exit status.
        Fails the test if it is still running after @timeout seconds."""
        try:
            rc = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            rc = None
        if rc is None:
            pytest.fail(f"{self.backend}: emulator still running {timeout:.0f} s later"
                        f"\n{self._diagnosis()}", pytrace=False)
        self._read()
        self.kill()  # reap anything left in its group
        return rc


def _shell_quote(s):
    return s if re.fullmatch(r"[\w@%+=:,./-]+", s) else "'" + s.replace("'", "'\\''") + "'"
