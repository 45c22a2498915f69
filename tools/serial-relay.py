#!/usr/bin/python3
"""Put an emulator's serial line on this terminal, both ways.

    tools/serial-relay.py --subst RC --log LOG --out OUT [--stdin TEXT] -- CMD...

Creates a pseudo-terminal, writes its name over every @PTY@ in the file
RC (an emulator configuration that opens it, e.g. Bochs's
"com1: mode=term, dev=@PTY@"), then runs CMD with TEXT on its stdin and
its own output in OUT. What the emulator sends on the line goes to this
terminal and to LOG; what is typed goes to the line, Ctrl-C included: the
terminal is raw while the relay runs.

Keys, as in QEMU's -serial mon:stdio: Ctrl-A x quits (the emulator is
killed), Ctrl-A Ctrl-A sends one Ctrl-A. Used by tools/run.sh for Bochs.
"""

import argparse
import os
import select
import signal
import subprocess
import sys
import termios
import tty

CTRL_A = 0x01


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--subst", required=True)
    ap.add_argument("--log", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--stdin", default="")
    ap.add_argument("cmd", nargs="+")
    a = ap.parse_args()

    master, slave = os.openpty()
    tty.setraw(slave)
    with open(a.subst) as f:
        rc = f.read()
    with open(a.subst, "w") as f:
        f.write(rc.replace("@PTY@", os.ttyname(slave)))

    with open(a.out, "wb") as out:
        child = subprocess.Popen(a.cmd, stdin=subprocess.PIPE, stdout=out,
                                 stderr=subprocess.STDOUT, start_new_session=True)
    try:
        child.stdin.write(a.stdin.encode().decode("unicode_escape").encode())
        child.stdin.close()
    except BrokenPipeError:
        pass

    stdin = sys.stdin.fileno()
    saved = termios.tcgetattr(stdin) if os.isatty(stdin) else None
    if saved:
        tty.setraw(stdin)
    quit_asked = False
    try:
        with open(a.log, "wb", buffering=0) as log:
            escape = False
            while child.poll() is None:
                ready, _, _ = select.select([master, stdin], [], [], 0.2)
                if master in ready:
                    data = os.read(master, 4096)
                    os.write(sys.stdout.fileno(), data)
                    log.write(data)
                if stdin in ready:
                    data = os.read(stdin, 1024)
                    if not data:
                        break
                    send = bytearray()
                    for b in data:
                        if escape:
                            escape = False
                            if b in (ord("x"), ord("X")):
                                quit_asked = True
                                break
                            if b == CTRL_A:
                                send.append(CTRL_A)
                        elif b == CTRL_A:
                            escape = True
                        else:
                            send.append(b)
                    if send:
                        os.write(master, bytes(send))
                    if quit_asked:
                        break
            # The emulator's last words, e.g. after a power-off.
            while select.select([master], [], [], 0)[0]:
                try:
                    data = os.read(master, 4096)
                except OSError:
                    break
                if not data:
                    break
                os.write(sys.stdout.fileno(), data)
                log.write(data)
    finally:
        if saved:
            termios.tcsetattr(stdin, termios.TCSADRAIN, saved)
        if child.poll() is None:
            os.killpg(child.pid, signal.SIGTERM)
            try:
                child.wait(timeout=5)
            except subprocess.TimeoutExpired:
                os.killpg(child.pid, signal.SIGKILL)
                child.wait()
        os.close(slave)
        os.close(master)
    if quit_asked:
        print("\r\nserial-relay: quit (Ctrl-A x)", file=sys.stderr)
        return 0
    return child.returncode


if __name__ == "__main__":
    sys.exit(main())
