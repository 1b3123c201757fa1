"""The runtime processes that would do a pull from *here*: found in /proc, same network namespace.

Flags on a daemon's command line (``dockerd --data-root``, ``containerd --root``/``--config``)
override its config files and are invisible to a file-only reader, so the disk and cpu checks ask
the running processes. Only processes sharing this thread's network namespace are considered: on a
normal host that is the host's dockerd, inside a container or a lab client it is that one's, never a
neighbour's. Reading another user's ``/proc/PID/ns`` needs root; without it the list is empty.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass
from pathlib import Path

_RUNTIME_COMMS = ("dockerd", "containerd", "crio", "podman", "buildkitd", "kubelet")


@dataclass(frozen=True, slots=True)
class RuntimeProc:
    """One running runtime process and its command line."""

    comm: str
    pid: int
    argv: tuple[str, ...]


def _ns_inode(path: Path) -> int | None:
    try:
        return os.stat(path).st_ino
    except OSError:
        return None


def find(proc: Path, comms: tuple[str, ...] = _RUNTIME_COMMS) -> list[RuntimeProc]:
    """Runtime processes in this thread's network namespace, by PID order."""
    mine = _ns_inode(proc / "thread-self" / "ns" / "net") or _ns_inode(proc / "self" / "ns" / "net")
    out: list[RuntimeProc] = []
    try:
        pids = sorted(int(p.name) for p in proc.iterdir() if p.name.isdigit())
    except OSError:
        return out
    for pid in pids:
        d = proc / str(pid)
        try:
            comm = (d / "comm").read_text().strip()
            if comm not in comms:
                continue
            argv = tuple(a for a in (d / "cmdline").read_bytes().decode(errors="replace").split("\0") if a)
        except OSError:
            continue
        if mine is not None and _ns_inode(d / "ns" / "net") != mine:
            continue
        out.append(RuntimeProc(comm, pid, argv))
    return out


def flag(argv: tuple[str, ...], *names: str) -> str | None:
    """The value of ``--name VALUE`` or ``--name=VALUE`` (last one wins, as Go's flag package)."""
    val: str | None = None
    for i, a in enumerate(argv):
        for n in names:
            if a == n and i + 1 < len(argv):
                val = argv[i + 1]
            elif a.startswith(n + "="):
                val = a[len(n) + 1 :]
    return val


def data_root(p: RuntimeProc) -> str | None:
    """Where this process stores images, from its command line (or the config file it names)."""
    if p.comm == "dockerd":
        return flag(p.argv, "--data-root", "-g", "--graph")
    if p.comm in ("containerd", "crio"):
        root = flag(p.argv, "--root")
        if root or p.comm == "crio":
            return root
        cfg = flag(p.argv, "--config", "-c")
        if cfg:
            try:
                with open(cfg, "rb") as fh:
                    value = tomllib.load(fh).get("root")
                return str(value) if value else None
            except (OSError, tomllib.TOMLDecodeError):
                return None
    return None
