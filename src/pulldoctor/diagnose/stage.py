"""A walk is a list of declared stages; what runs and what is blocked follows from ``after``.

Like the host checks (``host/checks.py``), a stage is data: its name, the stages it needs
(``after=``) and ``run``, which makes its observations with its probe and names their outcome with
its classifier (through :meth:`pulldoctor.diagnose.session.EndpointWalk.observe`, the only way a
step is recorded, so every cause comes from a classifier in ``infer``). :func:`run_stages` runs
them in order: a stage whose needs broke is recorded as BLOCKED by the step that broke them (and
its own dependents after it), a stage that does not apply (``run`` returns None: no index, no
proxy, no TLS on ``http://``) counts as passed. No stage knows the position of another.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Generic, Protocol, TypeVar

from pulldoctor.diagnose.infer import blocked
from pulldoctor.model import Outcome, Step


class _StageContext(Protocol):
    """What :func:`run_stages` needs from the walk the stages belong to."""

    @property
    def ended(self) -> bool:
        """The runtime goes no further on this endpoint (a stage's verdict said so)."""

    def record(self, step: Step) -> Step: ...


C = TypeVar("C", bound=_StageContext, contravariant=True)


@dataclass(frozen=True, slots=True)
class Stage(Generic[C]):
    """One stage of a walk.

    ``run`` returns the step that decides whether the stages after it may run (a stage may record
    more than one step: a redirect hop, the steps that reach a redirect target), or None when the
    stage does not apply to this walk. ``shown_when_blocked``: record a BLOCKED step for it when
    its needs broke (False for stages that would not apply anyway, e.g. the platform manifest of
    an image that may not be an index).
    """

    name: str
    after: tuple[str, ...]
    run: Callable[[C], Awaitable[Step | None]]
    shown_when_blocked: bool = True


def check_stages(stages: Sequence[Stage[C]]) -> list[str]:
    """Declaration errors: a need that is not an earlier stage, a duplicate name (empty: sound)."""
    seen: set[str] = set()
    problems: list[str] = []
    for st in stages:
        if st.name in seen:
            problems.append(f"duplicate stage {st.name!r}")
        problems += [f"{st.name!r} needs {a!r}, which is not an earlier stage"
                     for a in st.after if a not in seen]
        seen.add(st.name)
    return problems


def _broken(step: Step) -> bool:
    return step.outcome in (Outcome.PROBLEM, Outcome.TIMEOUT, Outcome.CRASHED, Outcome.BLOCKED)


@dataclass(frozen=True, slots=True)
class _StagesResult:
    """How a walk of stages ended: passed, or the first step that broke it and its stage."""

    ok: bool
    failed: Step | None = None
    stage: str | None = None


async def run_stages(stages: Sequence[Stage[C]], ctx: C, *, show_blocked: bool = True
                     ) -> _StagesResult:
    """Run ``stages`` in order, recording BLOCKED steps for those whose needs broke.

    ``show_blocked`` False: stages after a broken one are not recorded at all (reaching one host:
    the host's own sub-steps after a failed DNS lookup say nothing the failure does not).
    """
    broken_by: dict[str, str] = {}  # stage name -> the step name that broke it (or its needs)
    failed: Step | None = None
    failed_stage: str | None = None
    for st in stages:
        if ctx.ended:
            break
        by = next((broken_by[a] for a in st.after if a in broken_by), None)
        if by is not None:
            broken_by[st.name] = by
            if show_blocked and st.shown_when_blocked:
                ctx.record(blocked(st.name, by))
            continue
        step = await st.run(ctx)
        if step is not None and _broken(step):
            broken_by[st.name] = step.name
            if failed is None:
                failed, failed_stage = step, st.name
    return _StagesResult(failed is None and not ctx.ended, failed, failed_stage)
