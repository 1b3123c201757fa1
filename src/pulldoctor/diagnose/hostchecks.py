"""The host checks of a diagnosis: those that need nothing from the walk run beside it, those that
read what it learnt run after it, with that data.

Why split: ``inspect_host`` can compare this host's clock with the registry's ``Date`` header,
check firewall rules and routes against the registry's real addresses, read the kernel's UDP
counters' change across the probe, and weigh free space against the image's size, but only a walk
knows those. Run all at once beside the walk (as before), none of that was ever passed and those
checks never fired. Which checks need what is declared once, in ``host/checks.py`` (``uses``).

The firewall and route checks are the slow ones (they run nft, iptables-save, ip route). They start
beside the walk as soon as its first DNS step gives the runtime addresses (the registry's, usually),
with those addresses, so on a blackholed registry they are done while the TCP step still waits for
a SYN-ACK. After the walk they run again only when the walk failed and dialled addresses that first
run did not cover (a CDN host, a token realm); when no address was ever learnt (DNS failed) they
run once after the walk, without addresses. A healthy diagnosis never waits for them twice.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from pulldoctor.config.model import PullConfig
from pulldoctor.diagnose import infer
from pulldoctor.diagnose.observe import HostChecksObservation
from pulldoctor.diagnose.session import EndpointWalk
from pulldoctor.diagnose.walk import Walk
from pulldoctor.model import Cause, Report
from pulldoctor.reference import ImageReference

_HOST_GRACE_S = 1.0
"""How long host checks are still waited for once the walk has proven its own cause."""


@dataclass(slots=True)
class _WalkData:
    """What the walk learnt that host checks can use."""

    registry_addresses: list[str] = field(default_factory=list)
    registry_date: str | None = None
    needed_bytes: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"registry_addresses": list(self.registry_addresses),
                "registry_date": self.registry_date, "needed_bytes": self.needed_bytes}


def walk_data(walks: Sequence[EndpointWalk]) -> _WalkData:
    """Every address the walks dialled, the first ``Date`` a registry sent, and the image's size
    (config and layers, from the first manifest read) (pure over the walks' observations)."""
    from pulldoctor.diagnose.rank import http_of

    out = _WalkData()
    for ew in walks:
        for addrs in ew.pins.values():
            out.registry_addresses += [a for a in addrs if a not in out.registry_addresses]
        for st in ew.steps:
            http = http_of(st.observation)
            if out.registry_date is None and http is not None and http.date:
                out.registry_date = http.date
        if out.needed_bytes is None and ew.image is not None:
            sizes = [d.get("size") for d in [*ew.image.layers, ew.image.config or {}]]
            out.needed_bytes = sum(s for s in sizes if isinstance(s, int)) or None
    return out


@dataclass(slots=True)
class _Job:
    """One ``inspect_host`` run in a daemon thread; ``result`` once done (a Report or the error)."""

    start: float
    thread: threading.Thread | None = None
    result: Report | BaseException | None = None
    end: float | None = None


class HostChecks:
    """Starts the static checks at once; :meth:`after_walk` starts the ones that need the walk."""

    def __init__(self, cfg: PullConfig, ref: ImageReference, root: str, deadline: float) -> None:
        self.cfg, self.ref, self.root, self.deadline = cfg, ref, root, deadline
        self.jobs: list[_Job] = []
        self.given: _WalkData | None = None
        self.covered: set[str] | None = None  # addresses the address checks ran with (None: not yet)
        try:
            from pulldoctor.host import inspect_host
            from pulldoctor.host.checks import CHECKS
            from pulldoctor.host.kernel_udp import snapshot
        except ImportError:  # an install without the host package: the walk alone
            self.fn: Callable[..., Report] | None = None
            return
        self.fn = inspect_host
        mine = [c for c in CHECKS if c.in_diagnose]  # the others are proven by steps of the walk
        self.later = [c.name for c in mine if c.uses]
        self.address_checks = [c.name for c in mine if c.uses == ("registry_addresses",)]
        self.static = [c.name for c in mine if not c.uses]
        self.udp_before = snapshot()  # before the first probe: the delta is the walk's own
        self._start(only=self.static)

    def addresses_learnt(self, addresses: list[str]) -> None:
        """The walk's first addresses: start the address checks with them, beside the walk."""
        if self.fn is None or self.covered is not None or not self.address_checks:
            return
        self.covered = set(addresses)
        self._start(only=self.address_checks, registry_addresses=list(addresses))

    def _start(self, **kw: Any) -> None:
        fn = self.fn
        assert fn is not None
        job = _Job(time.monotonic())

        def target() -> None:
            try:
                res: Report | BaseException = fn(str(self.ref), runtime=self.cfg.runtime,
                                                 root=self.root, config=self.cfg,
                                                 deadline=self.deadline, **kw)
            except Exception as exc:  # recorded as a crashed step, never spoils the walk
                res = exc
            job.end, job.result = time.monotonic(), res

        job.thread = threading.Thread(target=target, name="pulldoctor-host-checks", daemon=True)
        self.jobs.append(job)
        job.thread.start()

    def after_walk(self, data: _WalkData, *, walk_failed: bool = True) -> None:
        """Run the checks that need what the walk learnt, with it (once: the first call wins).

        The address checks (firewall, routes) run here only when they never ran, or when the walk
        failed with addresses their first run did not cover (see the module docstring), in a job
        of their own beside the fast ones.
        """
        if self.fn is None or self.given is not None:
            return
        self.given = data
        kw = {"registry_addresses": data.registry_addresses, "registry_date": data.registry_date,
              "udp_before": self.udp_before, "needed_bytes": data.needed_bytes}
        uncovered = self.covered is None or (
            walk_failed and bool(set(data.registry_addresses) - self.covered))
        slow = self.address_checks if uncovered else []
        for names in (slow, [n for n in self.later if n not in self.address_checks]):
            if names:
                self._start(only=names, **kw)

    def collect(self, walk: Walk, *, walk_found: bool) -> list[Cause]:
        """Wait for the checks (until the deadline when the walk found nothing: they are then the
        only evidence left; briefly when it proved a cause) and record their step."""
        if not self.jobs:
            return []
        until = time.monotonic() + (min(_HOST_GRACE_S, walk.remaining() - 0.2) if walk_found
                                    else walk.remaining() - 0.2)
        for job in self.jobs:
            if job.thread is not None:
                job.thread.join(max(0.0, until - time.monotonic()))
        reports = [j.result for j in self.jobs if isinstance(j.result, Report)]
        crashed = next((type(j.result).__name__ for j in self.jobs
                        if isinstance(j.result, BaseException)), None)
        causes: dict[str, Cause] = {}
        for rep in reports:
            for c in rep.causes:
                if c.code not in causes or causes[c.code].confidence < c.confidence:
                    causes[c.code] = c
        obs = HostChecksObservation(
            list(causes), [f"{c.code}: {e}" for c in causes.values() for e in c.evidence[:3]],
            finished=all(j.end is not None for j in self.jobs), crashed=crashed,
            checks={s.name: str(s.outcome) for rep in reports for s in rep.steps},
            given=self.given.to_dict() if self.given is not None else {})
        now = time.monotonic()  # the checks' own time, not the walk's between the runs
        static, later = self.jobs[:1], self.jobs[1:]
        duration = sum((j.end if j.end is not None else now) - j.start for j in static)
        if later:
            duration += max(j.end if j.end is not None else now for j in later) \
                - min(j.start for j in later)
        walk.record_observed("host checks", obs,
                             infer.classify_host_checks(obs, walk_found=walk_found),
                             duration_s=duration)
        return list(causes.values())
