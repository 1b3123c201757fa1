"""The diagnosis's shared state: one absolute deadline, the step log, and how one step runs.

Why one object: every step must draw its own timeout from the *same* absolute deadline (computed
once in :func:`pulldoctor.diagnose.diagnose`), record itself in walk order, and report progress the
moment it ends. A step that raises becomes a CRASHED step of its own; one that runs out of time, or
is cut by the deadline, becomes a TIMEOUT step that says what it was waiting for, and its silence
is classified like any observation (:func:`pulldoctor.diagnose.infer.classify_stall`). Nothing here
holds addresses or clients: those belong to one endpoint's walk
(:class:`pulldoctor.diagnose.session.EndpointWalk`), never shared between endpoints.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from pulldoctor.config.model import PullConfig
from pulldoctor.diagnose.infer import Verdict, classify_stall
from pulldoctor.diagnose.observe import Stall
from pulldoctor.model import Observation, Outcome, Step
from pulldoctor.redact import redact

OnStep = Callable[[Step], None]
ObsT = TypeVar("ObsT", bound=Observation)

_MARGIN_S = 0.3
"""Kept back from every step so the report is still written before the deadline."""
_OVERRUN_S = 0.2
"""How long a probe may overrun its own timeout before the step is cut as a stall."""


@dataclass(frozen=True, slots=True)
class Waiting:
    """What a step waits for while it runs: the stage kind (for the stall's cause) and words."""

    stage: str  # "dns", "tcp", "proxy", "tls", "http"
    what: str  # "the registry's answer to GET /v2/"
    target: str | None = None  # the URL or host:port it waits on (for the fix's commands)


@dataclass(slots=True)
class Walk:
    """State shared by the steps of one diagnosis (every endpoint's walk)."""

    config: PullConfig
    deadline: float  # time.monotonic() value
    on_step: OnStep | None = None
    steps: list[Step] = field(default_factory=list)
    root: str = "/"
    running: dict[str, float] = field(default_factory=dict)
    """Steps under way (name -> start)."""
    interrupted: list[str] = field(default_factory=list)
    """Steps a cancellation that was not the deadline's (a Ctrl-C) stopped."""
    facts: dict[str, Any] = field(default_factory=dict)
    """What the walk learnt for the report's facts (the addresses each host resolved to)."""

    def rooted(self, paths: list[str]) -> list[str]:
        """Configuration paths (shown as the runtime sees them) read under ``root``."""
        if self.root in ("", "/"):
            return list(paths)
        base = self.root.rstrip("/")
        return [p if not p.startswith("/") or p.startswith(base + "/") else base + p
                for p in paths]

    def remaining(self) -> float:
        return self.deadline - time.monotonic()

    def budget(self, cap: float) -> float:
        """A step's own timeout: its cap, or what is left before the deadline if that is less."""
        return max(0.05, min(cap, self.remaining() - _MARGIN_S))

    def record(self, step: Step) -> Step:
        self.steps.append(step)
        if self.on_step is not None:
            try:
                self.on_step(step)
            except Exception:  # a broken progress view must not break the diagnosis
                self.on_step = None
        return step

    async def observe(
        self, name: str, cap: float, probe: Callable[[float], Awaitable[ObsT]],
        classify: Callable[[ObsT], Verdict], waiting: Waiting, *, endpoint: str | None = None,
        client: str | None = None, rtt: float | None = None,
        precheck: Callable[[float], Verdict | None] | None = None,
    ) -> tuple[Step, Verdict]:
        """Run one probe under its own timeout, classify what it observed, record the step.

        ``probe(timeout)`` returns the typed observation; ``classify`` (pure, from ``infer``)
        turns it into the verdict. A probe that overruns, or that the absolute deadline cancels,
        is classified as a :class:`~pulldoctor.diagnose.observe.Stall` of ``waiting``.
        ``precheck(timeout)`` may decide, before anything is sent, that the step cannot prove
        anything in the time left (:func:`pulldoctor.diagnose.timing.cut_by_deadline`).
        """
        step = Step(name, Outcome.SKIPPED, endpoint=endpoint, client=client)
        start = time.monotonic()
        if self.remaining() <= _MARGIN_S:
            step.outcome, step.summary = Outcome.TIMEOUT, "not started: the deadline had passed"
            return self.record(step), Verdict(Outcome.TIMEOUT)
        timeout = self.budget(cap)
        early = precheck(timeout) if precheck is not None else None
        if early is not None:
            self._apply(step, early, start)
            return self.record(step), early
        self.running[name] = start
        verdict = Verdict(Outcome.CRASHED)
        try:
            async with asyncio.timeout(timeout + _OVERRUN_S):
                obs = await probe(timeout)
            step.observation = obs
            verdict = classify(obs)
        except TimeoutError:
            verdict = self._stall(step, waiting, start, rtt)
        except asyncio.CancelledError:
            if self.remaining() <= _OVERRUN_S:  # the deadline's own cancellation, not a Ctrl-C
                self._apply(step, self._stall(step, waiting, start, rtt), start)
                self.record(step)
            else:
                self.interrupted.append(f"{name} (waiting for {waiting.what}, "
                                        f"{time.monotonic() - start:.1f}s)")
            raise
        except Exception as exc:  # its own outcome; never spoils the other steps
            step.outcome = Outcome.CRASHED
            step.summary = redact(f"probe crashed: {type(exc).__name__}: {exc}")
            step.duration_s = time.monotonic() - start
            return self.record(step), verdict
        finally:
            self.running.pop(name, None)
        self._apply(step, verdict, start)
        return self.record(step), verdict

    def record_observed(self, name: str, obs: Observation, verdict: Verdict, *,
                        duration_s: float, endpoint: str | None = None) -> Step:
        """Record a step that ran outside :meth:`observe` (the host checks' thread)."""
        step = Step(name, verdict.outcome, endpoint=endpoint, observation=obs)
        self._apply(step, verdict, time.monotonic())
        step.duration_s = duration_s
        return self.record(step)

    def _stall(self, step: Step, waiting: Waiting, start: float, rtt: float | None) -> Verdict:
        obs = Stall(waiting.stage, waiting.what, time.monotonic() - start,
                    by_deadline=self.remaining() <= _MARGIN_S + _OVERRUN_S, rtt_s=rtt,
                    target=waiting.target)
        step.observation = obs
        return classify_stall(obs)

    @staticmethod
    def _apply(step: Step, verdict: Verdict, start: float) -> None:
        step.outcome = verdict.outcome
        step.evidence = [redact(e) for e in verdict.evidence]
        step.cause = verdict.code
        step.confidence = verdict.confidence if verdict.code else None
        step.summary = step.evidence[0] if step.evidence else ""
        step.duration_s = time.monotonic() - start


def broken(step: Step) -> bool:
    """True when the walk cannot go past this step."""
    return step.outcome in (Outcome.PROBLEM, Outcome.TIMEOUT, Outcome.CRASHED, Outcome.BLOCKED)
