"""The writer: the one thread that stores failures, starts captures and updates the metrics.

Sources hand it batches; it folds repeats of one failure into one row (the three lines dockerd
logs for one failed pull, kubelet's retries within a minute), commits new rows *with* the
sources' positions, hands new failures to :class:`~pulldoctor.watch.capture.Capture` and stores
the diagnoses that come back. When the database refuses a write (disk full, read-only), the
changes stay in memory, the sources keep being read until :data:`MAX_PENDING` changes wait, and
the write is retried every :data:`RETRY_S`; nothing is acknowledged (no position saved) until it
is stored, so even a kill in that state loses nothing the source still holds.
"""

from __future__ import annotations

import queue
import sys
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from pulldoctor.redact import redact
from pulldoctor.watch.capture import Capture, Result
from pulldoctor.watch.model import Batch, DiagnosisState, Sighting, SkipReason, SourceKind
from pulldoctor.watch.sources import Source
from pulldoctor.watch.store import DiagnosisRow, FailureRow, Store, StoreError

if TYPE_CHECKING:  # not imported at run time: prometheus_client is optional
    from pulldoctor.watch.metrics import Metrics

_FOLD_GAP_S = 60.0
"""A repeat of the same (source, cause, image) within this of the last one is the same failure."""
_FOLD_MAX_S = 300.0
"""...unless that failure started longer ago than this: a long outage is counted every 5 min."""
_STALE_S = 300.0
"""A failure older than this when read (a backlog, an old event) is stored but not probed now."""
_COMMIT_EVERY_S = 1.0
"""Positions alone (no new failure) are saved at most this often; failures are saved at once."""
_HEARTBEAT_S = 30.0
_TEXTFILE_EVERY_S = 10.0
RETRY_S = 5.0
MAX_PENDING = 10_000
_SEEN_KEYS = 50_000
_MAX_FOLD = 2_000
"""Failures kept in memory to fold repeats into (each holds its text, up to 4 KiB)."""
_QUEUE_BATCHES = 64


@dataclass(slots=True)
class Writer:
    store: Store
    capture: Capture
    node: str
    metrics: Metrics | None = None
    textfile: Path | None = None
    out: TextIO = field(default_factory=lambda: sys.stdout)
    err: TextIO = field(default_factory=lambda: sys.stderr)
    clock: Callable[[], float] = time.time
    batches: queue.Queue[Batch] = field(default_factory=lambda: queue.Queue(_QUEUE_BATCHES))
    stop: threading.Event = field(default_factory=threading.Event)
    _dirty: dict[int, FailureRow] = field(default_factory=dict)
    _diagnoses: list[DiagnosisRow] = field(default_factory=list)
    _positions: dict[str, tuple[str, str, str | None]] = field(default_factory=dict)
    _fold: dict[tuple[str, str, str], FailureRow] = field(default_factory=dict)
    _seen: OrderedDict[tuple[str, str], None] = field(default_factory=OrderedDict)
    _last_commit: float = 0.0
    _last_heartbeat: float = 0.0
    _last_textfile: float = 0.0
    _textfile_due: bool = True
    _failing_since: float | None = None
    _next_retry: float = 0.0
    _last_activity: float = 0.0
    _new_failures: list[FailureRow] = field(default_factory=list)

    # ------------------------------------------------------------------ start-up
    def restore(self, sources: list[Source]) -> None:
        """Counters, fold state, seen keys and unfinished captures from the history."""
        now = self.clock()
        if self.metrics is not None:
            for r in self.store.totals():
                self.metrics.failure(r["cause"], r["registry"], r["source"], r["last"] or 0.0,
                                     n=int(r["n"]))
        rows = {r.id: r for r in self.store.recent(now - max(_FOLD_MAX_S, self.capture.limits.dedup_s))}
        for row in rows.values():
            if now - row.last_seen <= _FOLD_MAX_S:
                self._fold[(row.source_id, row.cause, row.image or row.registry or "-")] = row
                if row.registry:
                    self._fold[(row.source_id, row.cause, "@" + row.registry)] = row
            if row.image and row.diagnosis_state != DiagnosisState.SKIPPED:
                self.capture.remember(row.image, row.cause, ago=now - row.first_seen)
        for src in sources:
            if src.kind == SourceKind.K8S:
                for key in self.store.record_keys(src.id, now - 7200):
                    self._remember((src.id, key))
        for fresh in self.store.unfinished():
            row = rows.get(fresh.id, fresh)
            if now - row.first_seen > _STALE_S:
                self._skip(row, SkipReason.STALE)
            else:
                reason = self.capture.submit(row, image=row.image, runtime="auto",
                                             wait=False, age_s=now - row.first_seen,
                                             resumed=True)
                self._count_skip(reason)
            self._dirty[id(row)] = row

    def _remember(self, key: tuple[str, str]) -> bool:
        """False when ``key`` was seen already (a re-listed event); bounded memory."""
        if key in self._seen:
            return False
        self._seen[key] = None
        if len(self._seen) > _SEEN_KEYS:
            self._seen.popitem(last=False)
        return True

    # ------------------------------------------------------------------ the loop
    def run(self, exit_idle_s: float | None = None) -> None:
        self._last_activity = time.monotonic()
        while not self.stop.is_set():
            self._take_batches()
            self._take_results()
            for row in self.capture.tick():
                self._dirty[id(row)] = row
            self._commit()
            self._housekeeping()
            if (exit_idle_s is not None and self.capture.busy == 0 and not self._dirty
                    and time.monotonic() - self._last_activity > exit_idle_s):
                break
        self.shutdown()

    def _take_batches(self) -> None:
        if self._failing_since is not None and len(self._dirty) >= MAX_PENDING:
            self.stop.wait(0.25)  # back-pressure: sources block on the full queue
            return
        try:
            batch = self.batches.get(timeout=0.25)
        except queue.Empty:
            return
        for _ in range(_QUEUE_BATCHES):
            self.handle(batch)
            try:
                batch = self.batches.get_nowait()
            except queue.Empty:
                return

    def handle(self, batch: Batch) -> None:
        sid = batch.source_id
        m = self.metrics
        if batch.lines or batch.sightings:
            self._last_activity = time.monotonic()
        if m is not None:
            if batch.lines:
                m.lines.labels(sid).inc(batch.lines)
            if batch.parse_errors:
                m.parse_errors.labels(sid).inc(batch.parse_errors)
            if batch.lag_s is not None:
                m.lag.labels(sid).set(round(batch.lag_s, 3))
            m.up.labels(sid).set(1 if batch.up else 0)
        if batch.note:
            self.say(self.err, redact(batch.note))
        for image in batch.pulled:
            for row in self.capture.pulled(image):
                self._dirty[id(row)] = row
                self.say(self.out, f"{image} was pulled after all: failure #{row.id or '?'} "
                                    "was transient, not probed")
        for sg in batch.sightings:
            self._sighting(batch, sg)
        if batch.position is not None:
            self._positions[sid] = (str(batch.kind), batch.position, batch.context)

    def _sighting(self, batch: Batch, sg: Sighting) -> None:
        sid = batch.source_id
        if batch.kind == SourceKind.K8S and sg.key and not self._remember((sid, sg.key)):
            return
        cause = sg.cause_label
        key = (sid, cause, sg.subject)
        row = self._fold.get(key)
        if row is None and sg.registry:  # "trying next host" then the final line with the image
            near = self._fold.get((sid, cause, "@" + sg.registry))
            if near is not None and (near.image is None or sg.image is None):
                row = near
        if row is not None and sg.at - row.last_seen <= _FOLD_GAP_S \
                and sg.at - row.first_seen <= _FOLD_MAX_S:
            self._fold_into(row, sg, key)
            return
        row = FailureRow(
            first_seen=sg.at, last_seen=sg.at, node=self.node, source=str(batch.kind),
            source_id=sid, origin=sg.origin, record_key=sg.key or f"{sg.at}", image=sg.image,
            image_inferred=sg.image_inferred, registry=sg.registry, cause=cause,
            confidence=sg.confidence, text=sg.text, diagnosis_state=DiagnosisState.QUEUED)
        self._fold[key] = row
        if sg.registry:
            self._fold[(sid, cause, "@" + sg.registry)] = row
        self._dirty[id(row)] = row
        if self.metrics is not None:
            self.metrics.failure(cause, sg.registry, str(batch.kind), sg.at)
        self._textfile_due = True
        age = max(0.0, self.clock() - sg.at)
        if age > _STALE_S:
            self._skip(row, SkipReason.STALE)
        else:
            reason = self.capture.submit(row, image=sg.image, runtime=sg.runtime,
                                         wait=sg.kubernetes, age_s=age)
            self._count_skip(reason)
        self._new_failures.append(row)

    def _fold_into(self, row: FailureRow, sg: Sighting, key: tuple[str, str, str]) -> None:
        """A repeat of ``row``; one that names the image ``row`` lacked completes it."""
        row.last_seen = max(row.last_seen, sg.at)
        row.lines += 1
        self._dirty[id(row)] = row
        self._fold[key] = row
        if row.image is not None or sg.image is None:
            return
        row.image, row.image_inferred, row.text = sg.image, sg.image_inferred, sg.text
        if row.skip_reason == SkipReason.NO_IMAGE:
            row.diagnosis_state, row.skip_reason = DiagnosisState.QUEUED, None
            reason = self.capture.submit(row, image=sg.image, runtime=sg.runtime,
                                         wait=sg.kubernetes, age_s=max(0.0, self.clock() - sg.at))
            self._count_skip(reason)

    def _skip(self, row: FailureRow, reason: SkipReason) -> None:
        row.diagnosis_state, row.skip_reason = DiagnosisState.SKIPPED, reason
        self._count_skip(reason)

    def _count_skip(self, reason: SkipReason | None) -> None:
        if reason is not None and self.metrics is not None:
            self.metrics.skipped.labels(str(reason)).inc()

    def _take_results(self) -> None:
        while True:
            try:
                res = self.capture.results.get_nowait()
            except queue.Empty:
                return
            self._result(res)

    def _result(self, res: Result) -> None:
        self.capture.finished(res)
        row = res.job.row
        self._dirty[id(row)] = row
        self._diagnoses.append(DiagnosisRow(row, res.started, round(res.duration_s, 3),
                                            res.job.image, str(res.outcome), res.cause,
                                            res.report_json, res.note))
        if self.metrics is not None:
            self.metrics.diagnosis(row.cause, res.outcome, res.duration_s)
        self._textfile_due = True
        self._last_activity = time.monotonic()
        found = f" {res.cause}" if res.cause else ""
        self.say(self.out, f"diagnosed {res.job.image} in {res.duration_s:.1f}s: "
                            f"{res.outcome}{found} (failure #{row.id or '?'}: {row.cause})"
                            + (f" - {res.note}" if res.note else ""))

    # ------------------------------------------------------------------ storing
    def _commit(self, *, force: bool = False) -> None:
        now = time.monotonic()
        if self._failing_since is not None and now < self._next_retry and not force:
            return
        urgent = bool(self._dirty or self._diagnoses)
        heartbeat = now - self._last_heartbeat >= _HEARTBEAT_S
        if not (urgent or force or heartbeat
                or (self._positions and now - self._last_commit >= _COMMIT_EVERY_S)):
            return
        rows = sorted(self._dirty.values(), key=lambda r: (r.id is not None, r.first_seen))
        meta = {"heartbeat": f"{self.clock():.3f}", "node": self.node} if heartbeat or force \
            else None
        try:
            self.store.commit(rows, self._diagnoses, self._positions, meta)
        except StoreError as exc:
            self._next_retry = now + RETRY_S
            if self.metrics is not None:
                self.metrics.db_errors.inc()
                self.metrics.db_pending.set(len(self._dirty) + len(self._diagnoses))
            if self._failing_since is None:
                self._failing_since = now
                self.say(self.err, f"{exc}: keeping what was read in memory (up to "
                                    f"{MAX_PENDING} failures) and retrying every {RETRY_S:.0f}s")
            return
        if self._failing_since is not None:
            self.say(self.err, f"the history database {self.store.path} accepts writes again: "
                                f"{len(rows)} failures stored")
            self._failing_since = None
        for row in self._new_failures:
            self._announce(row)
        self._new_failures.clear()
        kept = [d for d in self._diagnoses if d.failure.id is None]
        self._diagnoses = kept
        self._dirty.clear()
        self._positions.clear()
        self._last_commit = now
        if meta is not None:
            self._last_heartbeat = now
        if self.metrics is not None:
            self.metrics.db_pending.set(0)

    def _announce(self, row: FailureRow) -> None:
        what = row.image or (f"registry {row.registry}" if row.registry else "(no image named)")
        state = row.diagnosis_state
        if state == DiagnosisState.SKIPPED:
            state = f"not probed: {row.skip_reason}"
        elif state == DiagnosisState.WAITING:
            state = "probe after kubelet's back-off"
        self.say(self.out, f"failure #{row.id}: {row.cause} {what} from {row.origin or row.source}"
                            f" ({state})")

    def _housekeeping(self) -> None:
        now = time.monotonic()
        if self.textfile is not None and self.metrics is not None and (
                now - self._last_textfile >= _TEXTFILE_EVERY_S
                or (self._textfile_due and now - self._last_textfile >= 1.0)):
            self._write_textfile()
            self._last_textfile = now
        if len(self._fold) > _MAX_FOLD:  # bounded memory, whatever the failure rate
            cutoff = self.clock() - _FOLD_MAX_S
            for k in [k for k, r in self._fold.items() if r.last_seen < cutoff and r.id]:
                del self._fold[k]
            if len(self._fold) > _MAX_FOLD:  # a storm of distinct failures: fold the newest only
                stored = sorted((r.last_seen, k) for k, r in self._fold.items() if r.id)
                for _, k in stored[:len(self._fold) - _MAX_FOLD * 3 // 4]:
                    del self._fold[k]

    def _write_textfile(self) -> None:
        assert self.textfile is not None and self.metrics is not None
        try:
            self.metrics.write_textfile(self.textfile)
            self._textfile_due = False
        except OSError as exc:
            if self._textfile_due:
                self.say(self.err, f"cannot write the textfile {self.textfile}: "
                                    f"{exc.strerror or exc}")
            self._textfile_due = False

    def shutdown(self) -> None:
        """Wait for running captures (bounded by their own deadline), store everything."""
        deadline = time.monotonic() + self.capture.limits.timeout_s + 3.0
        self.capture.drop_pending()
        while self.capture.running and time.monotonic() < deadline:
            try:
                self._result(self.capture.results.get(timeout=0.25))
            except queue.Empty:
                continue
        self._take_results()
        self._commit(force=True)
        if self.textfile is not None and self.metrics is not None:
            self._write_textfile()
        self.capture.shutdown(wait=False)

    def say(self, stream: TextIO, text: str) -> None:
        stamp = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        try:
            stream.write(f"{stamp} {text}\n")
            stream.flush()
        except (OSError, ValueError):
            pass
