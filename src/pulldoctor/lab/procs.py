"""Process and resource bookkeeping for labs: start by argv, stop by PID, survive killed runs.

Why a state directory: a lab is many processes, network namespaces and mounts. If the Python
process that built it is killed (SIGKILL, a crashed CI job), nothing in memory survives, so every
PID (with its kernel start time, so a recycled PID is never signalled), every namespace and every
mount is written to ``/run/pulldoctor/labs/<lab-id>/`` *before* it is created. :func:`reap_stale`
reads those records back and removes the leftovers of labs whose owner process is gone.

Processes are started in their own session (``start_new_session``), so a stop signals the process
group whose id is the recorded PID: children a daemon forks (dockerd's containerd) go with it.
Nothing is ever signalled by name.

The mount-namespace launcher (:func:`wrap_argv`) is a tiny ``sh`` program run under
``unshare --mount --propagation private``: it bind-mounts the given files over their targets and
``exec``s the real command, so the recorded PID is the command itself and long-running clients
(dockerd) get exactly the same view as a one-shot ``skopeo``.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import IO, Any

from pulldoctor.errors import LabError, LabToolMissing

STATE_ROOT = Path(os.environ.get("PULLDOCTOR_LAB_STATE", "/run/pulldoctor/labs"))
"""Where every lab records what it created (tmpfs on a normal host: gone after a reboot)."""

_STOP_GRACE_S = 3.0
"""How long a process gets between SIGTERM and SIGKILL."""

TIMEOUT_RC = 124
"""Return code of a bounded run that hit its timeout (the same as coreutils ``timeout``)."""

_LAUNCH = 'set -e; while [ "$1" != "--" ]; do mount --bind "$1" "$2"; shift 2; done; shift; exec "$@"'


def proc_start_time(pid: int) -> int | None:
    """The kernel start time of ``pid`` (clock ticks since boot), or None if it does not exist.

    Recorded with every PID so that a PID the kernel has reused is never mistaken for ours.
    """
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # comm may contain spaces and parentheses: split after the last ')'.
    fields = raw[raw.rfind(")") + 2 :].split()
    try:
        return int(fields[19])
    except (IndexError, ValueError):
        return None


def is_alive(pid: int, start_time: int | None) -> bool:
    """True if ``pid`` runs and is the same process that was recorded (not a zombie)."""
    now = proc_start_time(pid)
    if now is None or (start_time is not None and now != start_time):
        return False
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"


def require_tools(*names: str) -> None:
    """Raise :class:`LabToolMissing` naming the first program that is not installed."""
    for name in names:
        if shutil.which(name) is None:
            raise LabToolMissing(f"the lab needs '{name}', which is not installed")


def wrap_argv(
    argv: Sequence[str], *, netns: str | None = None, mounts: Sequence[tuple[str, str]] = ()
) -> list[str]:
    """The argv that runs ``argv`` inside ``netns`` and a private mount namespace with ``mounts``.

    ``mounts`` are ``(source, target)`` bind mounts applied in order. ``nsenter`` and ``unshare``
    are given no ``--fork``, so each ``exec``s the next and the PID stays the command's own.
    """
    out: list[str] = []
    if netns is not None:
        out += ["nsenter", f"--net=/run/netns/{netns}", "--"]
    if mounts:
        out += ["unshare", "--mount", "--propagation", "private", "--", "sh", "-c", _LAUNCH, "pd-launch"]
        for src, dst in mounts:
            out += [src, dst]
        out.append("--")
    out += list(argv)
    return out


class StateDir:
    """The on-disk record of one lab: owner, PIDs, namespaces, mounts (see the module docstring)."""

    def __init__(self, path: Path) -> None:
        self.path = path

    @property
    def lab_id(self) -> str:
        return self.path.name

    def create(self, owner_pid: int) -> None:
        self.path.mkdir(parents=True, exist_ok=False)
        (self.path / "procs").mkdir()
        self._write_json("owner.json", {"pid": owner_pid, "start": proc_start_time(owner_pid)})

    def _write_json(self, name: str, data: Any) -> None:
        tmp = self.path / f".{name}.tmp"
        tmp.write_text(json.dumps(data))
        tmp.replace(self.path / name)

    def _read_json(self, name: str, default: Any) -> Any:
        try:
            return json.loads((self.path / name).read_text())
        except (OSError, ValueError):
            return default

    def owner_alive(self) -> bool:
        owner = self._read_json("owner.json", {})
        pid = owner.get("pid")
        return isinstance(pid, int) and is_alive(pid, owner.get("start"))

    @property
    def detached(self) -> bool:
        """A lab left standing by ``pulldoctor lab up``: only ``lab down`` removes it."""
        return (self.path / "detached").exists()

    def detach(self) -> None:
        (self.path / "detached").write_text("")

    def _add_to_list(self, name: str, item: Any) -> None:
        items = self._read_json(name, [])
        if item not in items:
            items.append(item)
        self._write_json(name, items)

    def _remove_from_list(self, name: str, item: Any) -> None:
        self._write_json(name, [x for x in self._read_json(name, []) if x != item])

    def record_netns(self, name: str) -> None:
        self._add_to_list("netns.json", name)

    def netns(self) -> list[str]:
        return list(self._read_json("netns.json", []))

    def record_mount(self, target: str) -> None:
        self._add_to_list("mounts.json", target)

    def forget_mount(self, target: str) -> None:
        self._remove_from_list("mounts.json", target)

    def mounts(self) -> list[str]:
        return list(self._read_json("mounts.json", []))

    def record_proc(self, pid: int, name: str, argv: Sequence[str]) -> None:
        data = {"pid": pid, "start": proc_start_time(pid), "name": name, "argv": list(argv)[:8]}
        (self.path / "procs" / f"{pid}.json").write_text(json.dumps(data))

    def forget_proc(self, pid: int) -> None:
        with contextlib.suppress(FileNotFoundError):
            (self.path / "procs" / f"{pid}.json").unlink()

    def procs(self) -> list[dict[str, Any]]:
        out = []
        for f in sorted((self.path / "procs").glob("*.json")):
            with contextlib.suppress(OSError, ValueError):
                out.append(json.loads(f.read_text()))
        return out

    def meta(self) -> dict[str, Any]:
        return dict(self._read_json("meta.json", {}))

    def set_meta(self, **values: Any) -> None:
        self._write_json("meta.json", {**self.meta(), **values})


def _signal_group(pid: int, sig: int) -> None:
    for send in (os.killpg, os.kill):
        with contextlib.suppress(ProcessLookupError, PermissionError):
            send(pid, sig)


def _stop_pid(pid: int, start_time: int | None, grace_s: float = _STOP_GRACE_S,
             popen: subprocess.Popen[Any] | None = None) -> None:
    """SIGTERM the process group ``pid`` leads, SIGKILL it after ``grace_s``; only if still ours."""
    if not is_alive(pid, start_time):
        if popen is not None:
            with contextlib.suppress(subprocess.TimeoutExpired):
                popen.wait(timeout=0.5)
        return
    _signal_group(pid, signal.SIGTERM)
    deadline = time.monotonic() + grace_s
    while time.monotonic() < deadline:
        if popen is not None:
            with contextlib.suppress(subprocess.TimeoutExpired):
                popen.wait(timeout=0.05)
        else:
            time.sleep(0.05)
        if not is_alive(pid, start_time):
            break
    else:
        _signal_group(pid, signal.SIGKILL)
    if popen is not None:
        with contextlib.suppress(subprocess.TimeoutExpired):
            popen.wait(timeout=grace_s)
    # Children left in the group after the leader exited (a daemon's helpers).
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signal.SIGKILL)


class ProcessGroup:
    """Starts processes (optionally in a netns and a private mount ns) and stops them by PID."""

    def __init__(self, state: StateDir, log_dir: Path) -> None:
        self.state = state
        self.log_dir = log_dir
        self._popen: dict[int, subprocess.Popen[Any]] = {}

    def start(
        self,
        argv: Sequence[str],
        *,
        netns: str | None = None,
        mounts: Sequence[tuple[str, str]] = (),
        env: Mapping[str, str] | None = None,
        log_name: str | None = None,
        stdin: int | IO[Any] | None = subprocess.DEVNULL,
    ) -> subprocess.Popen[bytes]:
        """Start ``argv`` in the background; output goes to ``<log_dir>/<log_name>.log``."""
        if not argv:
            raise LabError("cannot start an empty command")
        require_tools(argv[0])
        full = wrap_argv(argv, netns=netns, mounts=mounts)
        name = log_name or Path(argv[0]).name
        self.log_dir.mkdir(parents=True, exist_ok=True)
        with open(self.log_dir / f"{name}.log", "ab") as log:
            proc = subprocess.Popen(full, stdin=stdin, stdout=log, stderr=subprocess.STDOUT,
                                    env=dict(env) if env is not None else None,
                                    start_new_session=True)
        self.state.record_proc(proc.pid, name, argv)
        self._popen[proc.pid] = proc
        return proc

    def run(
        self,
        argv: Sequence[str],
        *,
        netns: str | None = None,
        mounts: Sequence[tuple[str, str]] = (),
        env: Mapping[str, str] | None = None,
        timeout: float = 30.0,
        input: bytes | str | None = None,
        text: bool = True,
        capture: bool = True,
    ) -> subprocess.CompletedProcess[Any]:
        """Run ``argv`` to completion, bounded by ``timeout``; capture stdout and stderr.

        On timeout the whole process group is killed and the result has return code
        :data:`TIMEOUT_RC` with whatever output arrived, so callers keep the partial evidence.
        ``capture=False`` lets the command write to this process's stdout/stderr as it runs.
        """
        if not argv:
            raise LabError("cannot run an empty command")
        require_tools(argv[0])
        full = wrap_argv(argv, netns=netns, mounts=mounts)
        data = input.encode() if isinstance(input, str) else input
        proc = subprocess.Popen(full, stdin=subprocess.PIPE if data is not None else subprocess.DEVNULL,
                                stdout=subprocess.PIPE if capture else None,
                                stderr=subprocess.PIPE if capture else None,
                                env=dict(env) if env is not None else None, start_new_session=True)
        self.state.record_proc(proc.pid, Path(argv[0]).name, argv)
        try:
            try:
                out, err = proc.communicate(data, timeout=timeout)
                rc = proc.returncode
            except subprocess.TimeoutExpired:
                _signal_group(proc.pid, signal.SIGKILL)
                try:
                    out, err = proc.communicate(timeout=_STOP_GRACE_S)
                except subprocess.TimeoutExpired as exc:
                    # A descendant that left the process group still holds the pipes: keep
                    # what arrived and stop waiting for it.
                    out, err = exc.stdout or b"", exc.stderr or b""
                    if proc.stdout is not None:
                        proc.stdout.close()
                    if proc.stderr is not None:
                        proc.stderr.close()
                    proc.wait(timeout=_STOP_GRACE_S)
                rc = TIMEOUT_RC
        finally:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(proc.pid, signal.SIGKILL)
            self.state.forget_proc(proc.pid)
        out, err = out or b"", err or b""
        if text:
            return subprocess.CompletedProcess(full, rc, out.decode(errors="replace"),
                                               err.decode(errors="replace"))
        return subprocess.CompletedProcess(full, rc, out, err)

    def stop(self, pid: int, grace_s: float = _STOP_GRACE_S) -> None:
        """Stop one process started by :meth:`start` (and its process group)."""
        rec = next((p for p in self.state.procs() if p.get("pid") == pid), None)
        start = rec.get("start") if rec else proc_start_time(pid)
        _stop_pid(pid, start, grace_s, self._popen.pop(pid, None))
        self.state.forget_proc(pid)

    def stop_all(self, grace_s: float = _STOP_GRACE_S) -> None:
        """Stop every recorded process: all get SIGTERM first, then each is waited for."""
        recs = self.state.procs()
        for rec in recs:
            if is_alive(rec["pid"], rec.get("start")):
                _signal_group(rec["pid"], signal.SIGTERM)
        for rec in recs:
            _stop_pid(rec["pid"], rec.get("start"), grace_s, self._popen.pop(rec["pid"], None))
            self.state.forget_proc(rec["pid"])


def teardown(state: StateDir, grace_s: float = _STOP_GRACE_S) -> list[str]:
    """Remove everything ``state`` records: processes, mounts, namespaces, then the directory.

    Every step runs even if an earlier one failed; the problems are returned, not raised, so a
    teardown after a failure never hides the original error.
    """
    problems: list[str] = []
    try:
        ProcessGroup(state, state.path / "logs").stop_all(grace_s)
    except Exception as exc:  # keep tearing down whatever happened
        problems.append(f"stopping processes: {exc}")
    for target in reversed(state.mounts()):
        r = subprocess.run(["umount", "-l", target], capture_output=True, text=True, timeout=10)
        if r.returncode != 0 and "not mounted" not in r.stderr:
            problems.append(f"umount {target}: {r.stderr.strip()}")
        state.forget_mount(target)
    for ns in state.netns():
        if Path(f"/run/netns/{ns}").exists():
            _kill_netns_stragglers(ns)
            r = subprocess.run(["ip", "netns", "delete", ns], capture_output=True, text=True,
                               timeout=10)
            if r.returncode != 0:
                problems.append(f"ip netns delete {ns}: {r.stderr.strip()}")
    if not problems:
        shutil.rmtree(state.path, ignore_errors=True)
    return problems


def _kill_netns_stragglers(netns: str) -> None:
    """SIGKILL processes still inside ``netns`` after the recorded ones were stopped.

    A process that left its process group (``setsid``, a daemon's double fork) is not reached by
    the group signal, and would keep the namespace alive; the kernel still knows it is in our
    namespace, so it is found by PID there (``ip netns pids``), never by name.
    """
    r = subprocess.run(["ip", "netns", "pids", netns], capture_output=True, text=True, timeout=10)
    for pid in (int(x) for x in r.stdout.split() if x.isdigit()):
        if pid != os.getpid():
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, signal.SIGKILL)


def list_labs(root: Path | None = None) -> list[StateDir]:
    """Every lab recorded under ``root`` (default :data:`STATE_ROOT`)."""
    base = root or STATE_ROOT
    if not base.is_dir():
        return []
    return [StateDir(p) for p in sorted(base.iterdir()) if p.is_dir() and (p / "owner.json").exists()]


def reap_stale(root: Path | None = None) -> list[str]:
    """Tear down labs whose owner process died (killed runs); returns the ids reaped.

    Labs left standing on purpose (``lab up``) are detached and kept until ``lab down``.
    """
    reaped = []
    for state in list_labs(root):
        if state.detached or state.owner_alive():
            continue
        teardown(state)
        reaped.append(state.lab_id)
    return reaped
