"""Capture gates: dedup, budget, rate, concurrency and kubelet's back-off (a fake clock, and a
probe that records its calls instead of touching any network)."""

from __future__ import annotations

import threading

from pulldoctor.causes import Code
from pulldoctor.model import Cause, Outcome, Report, Step
from pulldoctor.watch.capture import Capture, Limits, outcome_of
from pulldoctor.watch.model import DiagnosisState, SkipReason
from pulldoctor.watch.model import Outcome as CaptureOutcome
from pulldoctor.watch.store import FailureRow


class Clock:
    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


class Probe:
    """Stands in for diagnose; blocks until released, so concurrency can be observed."""

    def __init__(self, cause: str | None = "dns.nxdomain") -> None:
        self.calls: list[tuple[str, str, str | None]] = []
        self.release = threading.Event()
        self.cause = cause

    def __call__(self, image: str, runtime: str, text: str | None, timeout: float) -> Report:
        self.calls.append((image, runtime, text))
        self.release.wait(5)
        causes = [Cause.from_catalogue(self.cause, 0.9, ["x"])] if self.cause else []
        return Report("diagnose", image, causes=causes)


def _row(cause: str = "dns.nxdomain", n: int = 0) -> FailureRow:
    return FailureRow(first_seen=0, last_seen=0, node="n", source="file", source_id="s",
                      origin="o", record_key=str(n), image=f"img{n}", image_inferred=False,
                      registry="r", cause=cause, confidence=0.9, text=f"error text {n}",
                      diagnosis_state=DiagnosisState.QUEUED)


def _cap(probe: Probe, clock: Clock, **limits: float) -> Capture:
    return Capture(Limits(**limits), diagnose=probe, clock=clock)  # type: ignore[arg-type]


def test_new_failure_is_diagnosed_with_its_text_as_error() -> None:
    probe, clock = Probe(), Clock()
    cap = _cap(probe, clock)
    row = _row()
    assert cap.submit(row, image="img0", runtime="docker", wait=False) is None
    cap.tick()
    assert row.diagnosis_state == DiagnosisState.RUNNING
    probe.release.set()
    res = cap.results.get(timeout=5)
    cap.finished(res)
    assert probe.calls == [("img0", "docker", "error text 0")]
    assert res.outcome == CaptureOutcome.CONFIRMED and res.cause == "dns.nxdomain"
    assert res.report_json and '"command": "diagnose"' in res.report_json
    assert row.diagnosis_state == DiagnosisState.DONE
    cap.shutdown(wait=True)


def test_dedup_per_image_and_cause_within_the_window() -> None:
    probe, clock = Probe(), Clock()
    cap = _cap(probe, clock, dedup_s=600)
    assert cap.submit(_row(), image="img0", runtime="auto", wait=False) is None
    assert cap.submit(_row(), image="img0", runtime="auto", wait=False) == SkipReason.DUPLICATE
    assert cap.submit(_row("net.refused"), image="img0", runtime="auto", wait=False) is None
    clock.t += 601
    assert cap.submit(_row(), image="img0", runtime="auto", wait=False) is None
    cap.shutdown(wait=False)


def test_no_image_and_disabled_are_skipped() -> None:
    cap = _cap(Probe(), Clock())
    row = _row()
    assert cap.submit(row, image=None, runtime="auto", wait=False) == SkipReason.NO_IMAGE
    assert row.diagnosis_state == DiagnosisState.SKIPPED and row.skip_reason == "no_image"
    off = Capture(Limits(), enabled=False)
    assert off.submit(_row(), image="x", runtime="auto", wait=False) == SkipReason.DISABLED


def test_concurrency_rate_and_budget() -> None:
    probe, clock = Probe(), Clock()
    cap = _cap(probe, clock, concurrency=2, rate_per_min=6, burst=3, per_hour=4, dedup_s=0)
    rows = [_row(n=i) for i in range(8)]
    for r in rows:
        cap.submit(r, image=f"img{r.record_key}", runtime="auto", wait=False)
    cap.tick()
    running = [r for r in rows if r.diagnosis_state == DiagnosisState.RUNNING]
    assert len(running) == 2  # the concurrency bound
    probe.release.set()
    for _ in range(2):
        cap.finished(cap.results.get(timeout=5))
    cap.tick()  # one token left of the burst of 3
    assert sum(r.diagnosis_state in (DiagnosisState.RUNNING, DiagnosisState.DONE)
               for r in rows) == 3
    cap.finished(cap.results.get(timeout=5))
    cap.tick()  # no token: waits in the queue, not dropped
    assert sum(r.diagnosis_state == DiagnosisState.QUEUED for r in rows) == 5
    clock.t += 10  # 6 per minute: one token per 10 s
    cap.tick()
    cap.finished(cap.results.get(timeout=5))
    clock.t += 60
    cap.tick()  # the hourly budget of 4 is spent: the rest are skipped
    assert sum(r.skip_reason == SkipReason.BUDGET for r in rows) == 4
    assert len(probe.calls) == 4
    cap.shutdown(wait=True)


def test_kubernetes_first_failure_waits_for_the_backoff_and_a_pull_cancels_it() -> None:
    probe, clock = Probe(), Clock()
    cap = _cap(probe, clock, backoff_s=10)
    a, b = _row(n=1), _row(n=2)
    cap.submit(a, image="img1", runtime="auto", wait=True)
    cap.submit(b, image="img2", runtime="auto", wait=True, age_s=4)
    assert a.diagnosis_state == DiagnosisState.WAITING
    cap.tick()
    assert probe.calls == []
    assert cap.pulled("img1") == [a] and a.diagnosis_state == DiagnosisState.TRANSIENT
    clock.t += 6  # b was already 4 s old: its back-off is over
    probe.release.set()
    cap.tick()
    cap.finished(cap.results.get(timeout=5))
    assert [c[0] for c in probe.calls] == ["img2"]
    cap.shutdown(wait=True)


def test_outcomes() -> None:
    rep = Report("diagnose", "x", causes=[Cause.from_catalogue(Code.NET_RESET, 0.9, [])])
    assert outcome_of(rep, "net.reset") == (CaptureOutcome.CONFIRMED, "net.reset")
    assert outcome_of(rep, "dns.nxdomain") == (CaptureOutcome.OTHER_CAUSE, "net.reset")
    healthy = Report("diagnose", "x", steps=[Step("dns", Outcome.OK)])
    assert outcome_of(healthy, "dns.nxdomain") == (CaptureOutcome.NOT_REPRODUCED, None)
    stuck = Report("diagnose", "x", steps=[Step("tcp", Outcome.TIMEOUT)])
    assert outcome_of(stuck, "dns.nxdomain") == (CaptureOutcome.INCONCLUSIVE, None)


def test_a_probe_that_raises_is_an_error_outcome() -> None:
    def boom(image: str, runtime: str, text: str | None, timeout: float) -> Report:
        raise RuntimeError("cannot https://u:secretpw1@x")

    cap = Capture(Limits(), diagnose=boom)
    cap.submit(_row(), image="img0", runtime="auto", wait=False)
    cap.tick()
    res = cap.results.get(timeout=5)
    assert res.outcome == CaptureOutcome.ERROR and res.note and "secretpw1" not in res.note
    cap.shutdown(wait=True)
