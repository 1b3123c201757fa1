"""Capture while it happens: diagnose a new failure in the background, within seconds.

Probing a registry because a log said so must never turn into a storm, so every capture passes
four gates, in order, each a small piece of state:

* **dedup**: one diagnosis per (image, cause) per :attr:`Limits.dedup_s` window;
* **budget**: at most :attr:`Limits.per_hour` diagnoses in any rolling hour (then skipped);
* **rate**: a token bucket (:attr:`Limits.rate_per_min`, burst :attr:`Limits.burst`); an item that
  finds no token waits in a bounded queue rather than being dropped;
* **concurrency**: at most :attr:`Limits.concurrency` diagnoses at once, on worker threads.

A first Kubernetes ErrImagePull is often transient (the next try succeeds), so it *waits* for
kubelet's first back-off (:attr:`Limits.backoff_s`) before it is due; an image pulled meanwhile
cancels it. The failure text is stored at once either way. :meth:`Capture.tick` is called by the
writer; workers only run :func:`pulldoctor.diagnose.diagnose` and hand the result back on a queue,
so the database is touched by the writer alone.
"""

from __future__ import annotations

import queue
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field

from pulldoctor.model import Outcome as StepOutcome
from pulldoctor.model import Report
from pulldoctor.watch.model import DiagnosisState, Outcome, SkipReason
from pulldoctor.watch.store import FailureRow


@dataclass(frozen=True, slots=True)
class Limits:
    """How hard ``watch`` may probe; the CLI exposes each one."""

    concurrency: int = 2
    rate_per_min: float = 6.0
    burst: int = 3
    per_hour: int = 30
    dedup_s: float = 600.0
    backoff_s: float = 10.0
    timeout_s: float = 15.0
    queue_max: int = 32


@dataclass(slots=True)
class Job:
    row: FailureRow
    image: str
    runtime: str
    due: float  #: monotonic time it may start


@dataclass(slots=True)
class Result:
    """A finished diagnosis, handed back to the writer."""

    job: Job
    started: float  #: wall clock
    duration_s: float
    outcome: Outcome
    cause: str | None
    report_json: str | None
    note: str | None = None


Diagnose = Callable[[str, str, str | None, float], Report]
"""``diagnose(image, runtime, error_text, timeout)``: the probe (pulldoctor.diagnose in use)."""


def _real_diagnose(image: str, runtime: str, error_text: str | None, timeout: float) -> Report:
    from pulldoctor.diagnose import diagnose

    return diagnose(image, runtime=runtime, error_text=error_text, timeout=timeout)


def diagnose_on(root: str, node: str | None) -> Diagnose:
    """The probe reading the runtime configuration under ``root`` (a node's / at /host)."""

    def run(image: str, runtime: str, error_text: str | None, timeout: float) -> Report:
        from pulldoctor.diagnose import diagnose

        return diagnose(image, runtime=runtime, error_text=error_text, timeout=timeout,
                        root=root, node=node)

    return run


def outcome_of(report: Report, cause: str) -> tuple[Outcome, str | None]:
    """Compare what diagnose proved with the cause read from the failure text."""
    if report.causes:
        top = str(report.causes[0].code)
        return (Outcome.CONFIRMED if top == cause else Outcome.OTHER_CAUSE), top
    if any(s.outcome in (StepOutcome.CRASHED, StepOutcome.TIMEOUT) for s in report.steps):
        return Outcome.INCONCLUSIVE, None
    return Outcome.NOT_REPRODUCED, None


@dataclass(slots=True)
class Capture:
    limits: Limits
    enabled: bool = True
    diagnose: Diagnose = _real_diagnose
    clock: Callable[[], float] = time.monotonic
    results: queue.Queue[Result] = field(default_factory=queue.Queue)
    _waiting: list[Job] = field(default_factory=list)
    _queued: deque[Job] = field(default_factory=deque)
    _running: int = 0
    _recent: dict[tuple[str, str], float] = field(default_factory=dict)  # (image, cause) -> t
    _hour: deque[float] = field(default_factory=deque)
    _tokens: float = -1.0
    _refilled: float = 0.0
    _pool: ThreadPoolExecutor | None = None

    # ------------------------------------------------------------------ intake (writer thread)
    def submit(self, row: FailureRow, *, image: str | None, runtime: str, wait: bool,
               age_s: float = 0.0, resumed: bool = False) -> SkipReason | None:
        """Take a new failure; returns why it will not be diagnosed, or None (state is set).

        ``resumed``: a capture a previous watcher had accepted but not finished (no dedup).
        """
        reason = self._gate(row, image, dedup=not resumed)
        if reason is not None:
            return self._skip(row, reason)
        assert image is not None
        now = self.clock()
        delay = max(0.0, self.limits.backoff_s - age_s) if wait else 0.0
        job = Job(row, image, runtime, now + delay)
        self._recent[(image, row.cause)] = now
        if delay > 0:
            row.diagnosis_state = DiagnosisState.WAITING
            self._waiting.append(job)
        else:
            return self._enqueue(job)
        return None

    def _gate(self, row: FailureRow, image: str | None, *, dedup: bool = True
              ) -> SkipReason | None:
        if not self.enabled:
            return SkipReason.DISABLED
        if not image:
            return SkipReason.NO_IMAGE
        seen = self._recent.get((image, row.cause))
        if dedup and seen is not None and self.clock() - seen < self.limits.dedup_s:
            return SkipReason.DUPLICATE
        return None

    def remember(self, image: str, cause: str, *, ago: float) -> None:
        """A capture of (image, cause) was accepted ``ago`` seconds ago (restored history)."""
        at = self.clock() - ago
        if at > self._recent.get((image, cause), float("-inf")):
            self._recent[(image, cause)] = at

    def _skip(self, row: FailureRow, reason: SkipReason) -> SkipReason:
        row.diagnosis_state, row.skip_reason, row.dirty = DiagnosisState.SKIPPED, reason, True
        return reason

    def _enqueue(self, job: Job) -> SkipReason | None:
        if len(self._queued) >= self.limits.queue_max:
            return self._skip(job.row, SkipReason.QUEUE_FULL)
        job.row.diagnosis_state, job.row.dirty = DiagnosisState.QUEUED, True
        self._queued.append(job)
        return None

    def pulled(self, image: str) -> list[FailureRow]:
        """An image was pulled fine: its waiting first failures were transient."""
        done = [j for j in self._waiting if j.image == image]
        for j in done:
            self._waiting.remove(j)
            j.row.diagnosis_state, j.row.dirty = DiagnosisState.TRANSIENT, True
            self._recent.pop((j.image, j.row.cause), None)
        return [j.row for j in done]

    # ------------------------------------------------------------------ scheduling
    def _take_token(self, now: float) -> bool:
        lim = self.limits
        if self._tokens < 0:
            self._tokens, self._refilled = float(lim.burst), now
        self._tokens = min(float(lim.burst),
                           self._tokens + (now - self._refilled) * lim.rate_per_min / 60.0)
        self._refilled = now
        if self._tokens >= 1.0:
            self._tokens -= 1.0
            return True
        return False

    def tick(self) -> list[FailureRow]:
        """Start what is due and allowed; returns rows whose state changed (to be stored)."""
        now = self.clock()
        changed: list[FailureRow] = []
        for job in [j for j in self._waiting if j.due <= now]:
            self._waiting.remove(job)
            self._enqueue(job)
            changed.append(job.row)
        while self._hour and now - self._hour[0] > 3600.0:
            self._hour.popleft()
        if len(self._recent) > 1000:  # bounded memory: forget what the dedup window has passed
            old = [k for k, t in self._recent.items() if now - t >= self.limits.dedup_s]
            for k in old:
                del self._recent[k]
        while self._queued and self._running < self.limits.concurrency:
            job = self._queued[0]
            if len(self._hour) >= self.limits.per_hour:
                self._queued.popleft()
                self._skip(job.row, SkipReason.BUDGET)
                changed.append(job.row)
                continue
            if not self._take_token(now):
                break
            self._queued.popleft()
            self._hour.append(now)
            self._running += 1
            job.row.diagnosis_state, job.row.dirty = DiagnosisState.RUNNING, True
            changed.append(job.row)
            self._start(job)
        return changed

    def _start(self, job: Job) -> None:
        if self._pool is None:
            self._pool = ThreadPoolExecutor(max_workers=self.limits.concurrency,
                                            thread_name_prefix="pulldoctor-capture")
        fut = self._pool.submit(self._run, job)
        fut.add_done_callback(lambda f: self._done(f, job))

    def _run(self, job: Job) -> Result:
        from pulldoctor.report.render import render_json

        started, t0 = time.time(), time.monotonic()
        try:
            report = self.diagnose(job.image, job.runtime, job.row.text, self.limits.timeout_s)
        except Exception as exc:  # a capture that cannot run is recorded, never fatal
            from pulldoctor.redact import redact

            return Result(job, started, time.monotonic() - t0, Outcome.ERROR, None, None,
                          note=redact(f"{type(exc).__name__}: {exc}")[:500])
        outcome, cause = outcome_of(report, job.row.cause)
        return Result(job, started, time.monotonic() - t0, outcome, cause, render_json(report))

    def _done(self, fut: Future[Result], job: Job) -> None:
        if fut.cancelled():
            return  # shutting down: the row stays 'running' and is picked up at the next start
        exc = fut.exception()
        if exc is not None:
            self.results.put(Result(job, time.time(), 0.0, Outcome.ERROR, None, None,
                                    note=f"{type(exc).__name__}"))
            return
        self.results.put(fut.result())

    def finished(self, result: Result) -> None:
        """The writer took a result off :attr:`results`: one slot is free again."""
        self._running = max(0, self._running - 1)
        result.job.row.diagnosis_state, result.job.row.dirty = DiagnosisState.DONE, True

    @property
    def running(self) -> int:
        return self._running

    def drop_pending(self) -> None:
        """Forget waiting and queued jobs (shutting down: their stored state resumes them)."""
        self._waiting.clear()
        self._queued.clear()

    @property
    def busy(self) -> int:
        return self._running + len(self._queued) + len(self._waiting)

    def shutdown(self, wait: bool) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=wait, cancel_futures=True)
