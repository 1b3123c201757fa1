"""A scratch network namespace for exercising one service on loopback, outside a full Lab.

Why this exists next to the lab core's topology: each service must be testable on its own,
on 127.0.0.x inside a namespace nobody else uses, so a broken service is found before a whole lab
is built around it. It also provides :func:`run_in_netns`, which runs a Python callable in a
*thread* that has joined a namespace (``setns`` only moves the calling thread), so httpx code such
as :func:`pulldoctor.lab.images.push_image` can talk to a lab host without a subprocess.

Everything started here is recorded and stopped by PID with the lab core's process bookkeeping,
and the namespace is deleted in ``finally`` (or by the next scratch namespace, after a kill).
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import secrets
import socket
import subprocess
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TypeVar

from pulldoctor.errors import LabError
from pulldoctor.lab.procs import STATE_ROOT, ProcessGroup, StateDir, reap_stale, teardown
from pulldoctor.lab.services import ServiceSpec

T = TypeVar("T")
_CLONE_NEWNET = 0x40000000


def _netns_path(name: str) -> str:
    """The bind-mounted namespace file ``ip netns add`` creates."""
    return f"/run/netns/{name}"


def run_in_netns(name: str, fn: Callable[[], T], *, timeout: float = 120.0) -> T:
    """Run ``fn()`` in a fresh thread that joined network namespace ``name``; return its result.

    The thread is used once and thrown away, so no pooled thread is ever left in a lab namespace.
    Exceptions raised by ``fn`` are re-raised here. ``timeout`` bounds the wait (``fn`` itself must
    use bounded I/O: httpx clients with timeouts).
    """
    results: list[T] = []
    errors: list[BaseException] = []

    def body() -> None:
        try:
            try:
                fd = os.open(_netns_path(name), os.O_RDONLY)
            except OSError as exc:
                raise LabError(f"no network namespace {name}: {exc.strerror}") from None
            try:
                libc = ctypes.CDLL(None, use_errno=True)
                if libc.setns(fd, _CLONE_NEWNET) != 0:
                    raise LabError(f"setns into {name}: {os.strerror(ctypes.get_errno())}")
            finally:
                os.close(fd)
            results.append(fn())
        except BaseException as exc:  # re-raised in the caller's thread
            errors.append(exc)

    th = threading.Thread(target=body, name=f"netns-{name}", daemon=True)
    th.start()
    th.join(timeout)
    if th.is_alive():
        raise LabError(f"call inside netns {name} did not finish within {timeout:.0f}s")
    if errors:
        raise errors[0]
    return results[0]


_SCRATCH_ROOT = STATE_ROOT.parent / "scratch"
"""Where scratch namespaces record their PIDs and namespace (next to the labs', not among them)."""


class ScratchNetns:
    """One uniquely named namespace with loopback up, plus the processes started in it.

    Like a Lab, it writes what it creates (namespace, PIDs) to a state dir *before* creating it,
    using the lab core's :class:`~pulldoctor.lab.procs.ProcessGroup`; every new scratch namespace
    first reaps those whose owner process died, so a killed test run leaves nothing behind.
    """

    def __init__(self, prefix: str = "pdsvc") -> None:
        reap_stale(_SCRATCH_ROOT)
        self.name = f"{prefix}-{secrets.token_hex(4)}"
        self.state = StateDir(_SCRATCH_ROOT / self.name)
        self.state.create(os.getpid())
        self.state.record_netns(self.name)
        self.procs = ProcessGroup(self.state, self.state.path / "logs")
        # A private HOME: tools run here (skopeo) must not read the machine's credentials.
        self.home = self.state.path / "home"
        self.home.mkdir(mode=0o700)
        self._closed = False
        try:
            _ip(["netns", "add", self.name])
            _ip(["-n", self.name, "link", "set", "lo", "up"])
        except BaseException:
            self.close()
            raise

    def env(self, extra: Mapping[str, str] | None = None) -> dict[str, str]:
        """A clean environment: no proxy variables or credentials of the machine leak in."""
        env = {"PATH": os.environ.get("PATH", "/usr/sbin:/usr/bin:/sbin:/bin"),
               "LANG": "C.UTF-8", "HOME": str(self.home), "XDG_RUNTIME_DIR": str(self.home)}
        if "PYTHONPATH" in os.environ:
            env["PYTHONPATH"] = os.environ["PYTHONPATH"]
        env.update(extra or {})
        return env

    def spawn(self, argv: Sequence[str], *, env: Mapping[str, str] | None = None,
              log: Path | None = None) -> subprocess.Popen[bytes]:
        """Start ``argv`` inside the namespace; output goes to ``log`` (default: the state dir)."""
        group = self.procs if log is None else ProcessGroup(self.state, log.parent)
        return group.start(argv, netns=self.name, env=self.env(env),
                           log_name=log.name.removesuffix(".log") if log else None)

    def run(self, argv: Sequence[str], *, timeout: float = 60.0,
            env: Mapping[str, str] | None = None, input: bytes | None = None,
            ) -> subprocess.CompletedProcess[bytes]:
        """Run ``argv`` to completion inside the namespace, bounded by ``timeout``
        (return code 124 with the partial output when it runs out)."""
        result: subprocess.CompletedProcess[bytes] = self.procs.run(
            argv, netns=self.name, env=self.env(env), timeout=timeout, input=input, text=False)
        return result

    def call(self, fn: Callable[[], T], *, timeout: float = 120.0) -> T:
        """:func:`run_in_netns` for this namespace."""
        return run_in_netns(self.name, fn, timeout=timeout)

    def wait_tcp(self, addr: str, port: int, timeout: float = 10.0,
                 proc: subprocess.Popen[bytes] | None = None) -> None:
        """Wait until ``addr:port`` accepts TCP inside the namespace (bounded; fails fast if
        ``proc`` exits first)."""
        deadline = time.monotonic() + timeout

        def probe() -> bool:
            with contextlib.suppress(OSError), socket.create_connection((addr, port), 0.5):
                return True
            return False

        while time.monotonic() < deadline:
            if proc is not None and proc.poll() is not None:
                raise LabError(f"process {proc.args!r} exited with {proc.returncode} "
                               f"before listening on {addr}:{port}")
            if self.call(probe, timeout=5):
                return
            time.sleep(0.05)
        raise LabError(f"nothing listens on {addr}:{port} in {self.name} after {timeout:.0f}s")

    def start(self, spec: ServiceSpec, addr: str, *, log_dir: Path,
              timeout: float = 15.0) -> subprocess.Popen[bytes]:
        """Spawn a service from its spec, logging to ``log_dir/<name>.log``; wait for its port."""
        proc = self.spawn(spec.argv, env=spec.env, log=log_dir / f"{spec.name}.log")
        self.wait_tcp(addr, spec.port, timeout, proc)
        return proc

    def add_addr(self, cidr: str) -> None:
        """Add an address to lo (e.g. ``198.18.0.1/32``) so code under test has a lab source."""
        _ip(["-n", self.name, "addr", "add", cidr, "dev", "lo"])

    def close(self) -> None:
        """Stop every process by PID (TERM, then KILL after a bound), delete the namespace and
        the state dir; safe to call twice."""
        if self._closed:
            return
        self._closed = True
        problems = teardown(self.state)
        if problems:
            raise LabError(f"scratch netns {self.name} teardown: " + "; ".join(problems))

    def __enter__(self) -> ScratchNetns:
        return self

    def __exit__(self, et: type[BaseException] | None, *rest: object) -> None:
        try:
            self.close()
        except LabError:
            if et is None:
                raise


def _ip(args: list[str], *, check: bool = True) -> None:
    res = subprocess.run(["ip", *args], capture_output=True, text=True, timeout=15, check=False)
    if check and res.returncode != 0:
        raise LabError(f"ip {' '.join(args)}: {res.stderr.strip()}")


