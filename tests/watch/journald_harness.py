"""A real systemd-journald in a private mount namespace, with a writer that journald files under
``docker.service`` (run as root through ``unshare -m``; see :func:`run`).

Why this works without systemd as PID 1: journald opens its own sockets when none are passed, and
it names an entry's unit from the sender's cgroup path (``/<x>.slice/docker.service``), so a
long-lived writer moved into such a cgroup is logged exactly as dockerd under systemd is. The
namespace gets empty tmpfs mounts on /run/systemd and /run/log, so neither the host's journal
(if any) nor its sockets are touched, and everything disappears with the namespace.

Modes (``python journald_harness.py MODE WORKDIR``), each printing one JSON line:

* ``record``: log the lines of WORKDIR/lines.txt (plus a non-UTF-8 one and a repeated field) and
  print ``journalctl -o json`` output, with and without ``--all`` (re-records the fixture);
* ``watch``: log WORKDIR/lines.txt in two halves, running ``pulldoctor watch --journal`` over
  them, killing it with SIGKILL in between and restarting it, then print the history rows.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

JOURNALD = "/lib/systemd/systemd-journald"
CGROUP_ROOTS = ("/sys/fs/cgroup/systemd", "/sys/fs/cgroup/unified", "/sys/fs/cgroup")


def run(mode: str, workdir: Path, timeout: float = 120.0) -> dict[str, object]:
    """Run this harness in a new private mount namespace and return its JSON result."""
    r = subprocess.run(["unshare", "-m", "--propagation", "private", sys.executable, __file__,
                        mode, str(workdir)], capture_output=True, text=True, timeout=timeout)
    if r.returncode != 0:
        raise AssertionError(f"harness {mode} failed ({r.returncode}):\n{r.stderr[-4000:]}")
    out: dict[str, object] = json.loads(r.stdout.strip().splitlines()[-1])
    return out


def _mounts() -> None:
    for d in ("/run/systemd", "/run/log"):
        os.makedirs(d, exist_ok=True)
        subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64m", "tmpfs", d], check=True)
    os.makedirs("/run/systemd/journal", exist_ok=True)
    os.makedirs("/run/log/journal", exist_ok=True)


def _cgroups(name: str) -> list[Path]:
    made = []
    for root in CGROUP_ROOTS:
        base = Path(root)
        if not (base / "cgroup.procs").exists():
            continue
        unit = base / f"{name}.slice" / "docker.service"
        unit.mkdir(parents=True, exist_ok=True)
        made.append(unit)
    return made


def _remove_cgroups(units: list[Path]) -> None:
    for unit in units:
        for d in (unit, unit.parent):
            for _ in range(50):
                try:
                    d.rmdir()
                    break
                except FileNotFoundError:
                    break
                except OSError:
                    time.sleep(0.1)


def _wait_socket(path: str, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if os.path.exists(path):
            return
        time.sleep(0.05)
    raise RuntimeError(f"journald did not create {path}")


_WRITER = r"""
import os, sys, time
for unit in sys.argv[2:]:
    with open(os.path.join(unit, "cgroup.procs"), "w") as f:
        f.write(str(os.getpid()))
# stdout is journald's stream socket (systemd-cat execs us); stay alive so journald can read
# our cgroup for every line, as it does for a daemon
fifo = sys.argv[1]
with open(fifo, "rb") as src:
    for line in src:
        if line == b"EXIT\n":
            break
        sys.stdout.buffer.write(line)
        sys.stdout.flush()
time.sleep(1.0)
"""


class Journal:
    """journald plus one writer logged as docker.service; everything stopped by PID."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.units = _cgroups(f"pdwatch{os.getpid()}")
        self.journald = subprocess.Popen([JOURNALD], stdout=subprocess.DEVNULL,
                                         stderr=subprocess.DEVNULL)
        _wait_socket("/run/systemd/journal/stdout")
        self.fifo = workdir / "writer.fifo"
        if self.fifo.exists():
            self.fifo.unlink()
        os.mkfifo(self.fifo)
        self.writer = subprocess.Popen(
            ["systemd-cat", "-t", "dockerd", sys.executable, "-c", _WRITER, str(self.fifo),
             *map(str, self.units)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.pipe = open(self.fifo, "wb", buffering=0)  # noqa: SIM115 - closed in close()

    def log(self, lines: list[bytes]) -> None:
        for ln in lines:
            self.pipe.write(ln.rstrip(b"\n") + b"\n")

    def native(self, fields: list[tuple[str, bytes]]) -> None:
        """One entry through the native protocol (binary-safe, repeated fields)."""
        payload = b""
        for k, v in fields:
            if b"\n" in v or not v.isascii():
                payload += k.encode() + b"\n" + len(v).to_bytes(8, "little") + v + b"\n"
            else:
                payload += k.encode() + b"=" + v + b"\n"
        s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        try:
            s.sendto(payload, "/run/systemd/journal/socket")
        finally:
            s.close()

    def close(self) -> None:
        try:
            self.pipe.write(b"EXIT\n")
            self.pipe.close()
        except OSError:
            pass
        for p in (self.writer, self.journald):
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
                try:
                    p.wait(timeout=5)
                except subprocess.TimeoutExpired:
                    p.kill()
                    p.wait()
        _remove_cgroups(self.units)


def _journalctl(*args: str) -> list[str]:
    r = subprocess.run(["journalctl", "--no-pager", "-o", "json", *args], capture_output=True,
                       text=True, timeout=20)
    return [ln for ln in r.stdout.splitlines() if ln.strip()]


def _settle(unit_lines: int, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if len(_journalctl("-u", "docker.service")) >= unit_lines:
            return
        time.sleep(0.1)
    raise RuntimeError(f"journald did not file {unit_lines} entries under docker.service")


def mode_record(workdir: Path) -> dict[str, object]:
    lines = (workdir / "lines.txt").read_bytes().splitlines()
    j = Journal(workdir)
    try:
        j.log(lines)
        _settle(len(lines))
        j.native([("MESSAGE", b"binary \xff\xfe junk: Failed to pull image \"x\": \xc3"),
                  ("SYSLOG_IDENTIFIER", b"containerd")])
        j.native([("MESSAGE", b"first"), ("MESSAGE", b"second"),
                  ("SYSLOG_IDENTIFIER", b"containerd")])
        j.native([("MESSAGE", b"L" * 5000), ("SYSLOG_IDENTIFIER", b"containerd")])
        time.sleep(0.5)
        return {"unit": _journalctl("-u", "docker.service"),
                "others": _journalctl("-t", "containerd"),
                "others_all": _journalctl("--all", "-t", "containerd")}
    finally:
        j.close()


def _rows(db: Path) -> list[dict[str, object]]:
    if not db.exists():
        return []
    con = sqlite3.connect(db)
    con.row_factory = sqlite3.Row
    try:
        return [dict(r) for r in con.execute(
            "SELECT id, record_key, cause, image, origin, lines, source FROM failures ORDER BY id")]
    finally:
        con.close()


WARMUP = (b'level=error msg="Handler for POST /v1.41/images/create?fromImage=registry.lab.test'
          b'%%2Fwarmup&tag=%d returned error: Get \\"https://registry.lab.test/v2/\\": dial tcp '
          b'198.18.2.2:443: connect: connection refused"')
"""A failure line naming its own image (warmup:N), left out of the test's comparison."""


def mode_watch(workdir: Path) -> dict[str, object]:
    lines = (workdir / "lines.txt").read_bytes().splitlines()
    half = len(lines) // 2
    db = workdir / "history.db"
    argv = [sys.executable, "-m", "pulldoctor", "watch", "--journal", "--db", str(db),
            "--diagnose", "off", "--node", "journal-test"]
    j = Journal(workdir)
    watch = None
    try:
        watch = subprocess.Popen(argv, stdout=open(workdir / "watch1.out", "wb"),  # noqa: SIM115
                                 stderr=subprocess.STDOUT)
        _wait_for(lambda: "following" in (workdir / "watch1.out").read_text(), 15)
        # journalctl --lines=0 only shows what is logged once it runs: log a warm-up failure
        # until the watcher has stored one, so the test lines are surely after that point
        for n in range(100):
            j.log([WARMUP % n])
            try:
                _wait_for(lambda: len(_rows(db)) > 0, 0.5)
                break
            except RuntimeError:
                continue
        j.log(lines[:half])
        _settle(half)
        _wait_for(lambda: any("warmup" not in str(r["image"]) for r in _rows(db)), 15)
        first = _rows(db)
        watch.send_signal(signal.SIGKILL)  # mid-stream: no clean shutdown at all
        watch.wait()
        j.log(lines[half:])  # logged while no watcher runs
        _settle(len(lines))
        watch = subprocess.Popen([*argv, "--exit-idle", "3"],
                                 stdout=open(workdir / "watch2.out", "wb"),  # noqa: SIM115
                                 stderr=subprocess.STDOUT)
        watch.wait(timeout=60)
        return {"first": first, "rows": _rows(db), "rc": watch.returncode,
                "out1": (workdir / "watch1.out").read_text(),
                "out2": (workdir / "watch2.out").read_text()}
    finally:
        if watch is not None and watch.poll() is None:
            watch.kill()
            watch.wait()
        j.close()


def _wait_for(cond, timeout: float) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if cond():
                return
        except OSError:
            pass
        time.sleep(0.1)
    raise RuntimeError("timed out waiting")


if __name__ == "__main__":
    mode, work = sys.argv[1], Path(sys.argv[2])
    _mounts()
    result = {"record": mode_record, "watch": mode_watch}[mode](work)
    print(json.dumps(result))
