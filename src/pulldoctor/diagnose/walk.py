"""The walk's shared state: one absolute deadline, the step log, and resolved addresses.

Why one object: every step must draw its own timeout from the *same* absolute deadline (computed
once in :func:`pulldoctor.diagnose.diagnose`), record itself in walk order, and report progress the
moment it ends; the pinned addresses it resolves are what later HTTP requests connect to. A step
that raises or runs out of time becomes a TIMEOUT / CRASHED step of its own and never takes the
rest of the report down with it.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from pulldoctor.config.model import PullConfig
from pulldoctor.diagnose.infer import Verdict, blocked
from pulldoctor.model import Outcome, Step
from pulldoctor.redact import redact

OnStep = Callable[[Step], None]

MARGIN_S = 0.3
"""Kept back from every step so the report is still written before the deadline."""


@dataclass(slots=True)
class Walk:
    """State shared by the steps of one diagnosis."""

    config: PullConfig
    deadline: float  # time.monotonic() value
    on_step: OnStep | None = None
    steps: list[Step] = field(default_factory=list)
    pins: dict[str, list[str]] = field(default_factory=dict)
    facts: dict[str, Any] = field(default_factory=dict)
    root: str = "/"

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
        return max(0.05, min(cap, self.remaining() - MARGIN_S))

    def record(self, step: Step) -> Step:
        self.steps.append(step)
        if self.on_step is not None:
            try:
                self.on_step(step)
            except Exception:  # a broken progress view must not break the diagnosis
                self.on_step = None
        return step

    def block(self, names: list[str], by: str) -> None:
        for n in names:
            self.record(blocked(n, by))

    async def run(
        self, name: str, cap: float, body: Callable[[Step, float], Awaitable[Verdict]]
    ) -> Step:
        """Run one step under its own timeout and record it with its verdict."""
        step = Step(name, Outcome.SKIPPED)
        start = time.monotonic()
        if self.remaining() <= MARGIN_S:
            step.outcome, step.summary = Outcome.TIMEOUT, "not started: the deadline had passed"
            return self.record(step)
        timeout = self.budget(cap)
        try:
            async with asyncio.timeout(timeout + 0.2):
                verdict = await body(step, timeout)
            step.outcome = verdict.outcome
            step.evidence = [redact(e) for e in verdict.evidence]
            if verdict.code:
                step.data["cause"] = verdict.code
                step.data["confidence"] = verdict.confidence
            step.summary = step.evidence[0] if step.evidence else ""
        except TimeoutError:
            step.outcome = Outcome.TIMEOUT
            step.summary = f"step did not finish within its {timeout:.1f}s"
        except Exception as exc:  # its own outcome; never spoils the other steps
            step.outcome = Outcome.CRASHED
            step.summary = redact(f"probe crashed: {type(exc).__name__}: {exc}")
        step.duration_s = time.monotonic() - start
        return self.record(step)


def broken(step: Step) -> bool:
    """True when the walk cannot go past this step."""
    return step.outcome in (Outcome.PROBLEM, Outcome.TIMEOUT, Outcome.CRASHED)
