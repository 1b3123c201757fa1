"""What every host check is given, and how one check is run so that it can never spoil the others.

Paths (``root``, ``proc``, ``sys``) are parameters so tests point checks at real alternate trees
(a temp root with real config files, a tmpfs, ``/proc/thread-self/net`` inside a netns). The
effective pull configuration is discovered once, lazily, and shared by the checks that need it.
"""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pulldoctor.config.model import PullConfig
from pulldoctor.model import Outcome, Step
from pulldoctor.reference import ImageReference

_COMMAND_TIMEOUT_S = 5.0


@dataclass(slots=True)
class HostContext:
    """Inputs of the host checks; everything optional has a safe default for "this host"."""

    root: Path = Path("/")
    proc: Path = Path("/proc")
    sys: Path = Path("/sys")
    image: ImageReference | None = None
    runtime: str = "auto"
    env: Mapping[str, str] = field(default_factory=lambda: dict(os.environ))
    registry_addresses: list[str] = field(default_factory=list)  # IPs diagnose resolved
    registry_date: str | None = None  # an HTTP ``Date`` header from the registry (clock check)
    udp_before: Any = None  # a kernel_udp.UdpSnapshot taken before the probe
    tmp_dirs: list[str] | None = None  # override the temp dirs the disk check looks at
    min_free_bytes: int = 1 << 30
    data_roots: list[str] | None = None  # the runtime's data root(s) when diagnose knows better
    needed_bytes: int | None = None  # what the pull will write (sum of layer sizes), if known
    live: bool | None = None  # ask dockerd's socket for its own view (default: when root is "/")
    deadline: float | None = None  # time.monotonic() past which no command is started or waited on
    _config: PullConfig | None = None
    _config_error: str | None = None

    @property
    def net_dir(self) -> Path:
        """Per-namespace /proc/net of *this thread* (``thread-self`` follows ``setns``)."""
        ts = self.proc / "thread-self" / "net"
        return ts if ts.exists() else self.proc / "net"

    def pull_config(self) -> PullConfig | None:
        """The effective configuration for ``image`` (docker.io/library/busybox when none given)."""
        if self._config is None and self._config_error is None:
            from pulldoctor.config.effective import discover

            try:
                self._config = discover(self.image or "busybox", self.runtime, self.root, self.env,
                                        live=self.live, deadline=self.deadline)
            except Exception as exc:
                self._config_error = f"{type(exc).__name__}: {exc}"
        return self._config

    @property
    def runtime_name(self) -> str:
        """The runtime actually inspected ("auto" resolved): docker, containerd or podman."""
        cfg = self.pull_config()
        return cfg.runtime if cfg is not None else self.runtime

    def run(self, argv: Sequence[str]) -> tuple[int | None, str, str]:
        """Run a read-only command, bounded; (rc, stdout, stderr), rc None when missing/timed out.

        Each command gets ``_COMMAND_TIMEOUT_S``, or less when ``deadline`` (diagnose's) is nearer:
        the checks run beside the walk, and a command still running after the report is written
        would only be left behind.
        """
        bound = _COMMAND_TIMEOUT_S
        if self.deadline is not None:
            bound = min(bound, self.deadline - time.monotonic())
            if bound <= 0.05:
                return None, "", f"{argv[0]}: not run, the deadline had passed"
        try:
            cp = subprocess.run(list(argv), capture_output=True, timeout=bound,
                                check=False, stdin=subprocess.DEVNULL)
        except FileNotFoundError:
            return None, "", f"{argv[0]}: not installed"
        except subprocess.TimeoutExpired:
            return None, "", f"{argv[0]}: no answer within {bound:.3g}s"
        return cp.returncode, cp.stdout.decode(errors="replace"), cp.stderr.decode(errors="replace")


CheckFn = Callable[[HostContext], Step]


def run_check(name: str, fn: CheckFn, ctx: HostContext) -> Step:
    """Run one check; a crash becomes ``Outcome.CRASHED`` with the error as evidence."""
    t0 = time.monotonic()
    try:
        step = fn(ctx)
    except Exception as exc:
        from pulldoctor.redact import redact

        step = Step(name=name, outcome=Outcome.CRASHED,
                    summary=f"the check itself failed: {type(exc).__name__}",
                    evidence=[redact(f"{type(exc).__name__}: {exc}")])
    step.duration_s = time.monotonic() - t0
    return step


def read(path: Path) -> tuple[str | None, str | None]:
    """(text, None) or (None, reason): "needs root" spelled out when that is the reason."""
    try:
        return path.read_text(encoding="utf-8", errors="replace"), None
    except PermissionError:
        return None, f"{path}: permission denied (needs root)"
    except OSError as exc:
        return None, f"{path}: {exc.strerror or exc}"


def outcome_of(findings: Sequence[Any]) -> Outcome:
    """PROBLEM if any error finding, WARNING if any warning, else OK."""
    sev = {f.severity for f in findings}
    if "error" in sev:
        return Outcome.PROBLEM
    if "warning" in sev:
        return Outcome.WARNING
    return Outcome.OK
