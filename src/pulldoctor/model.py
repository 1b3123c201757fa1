"""The report model: data first, rendered to text/JSON/Markdown/HTML afterwards.

Every command (``explain``, ``scan``, ``diagnose``, ``host``) produces one :class:`Report`. The
renderers in this package read it and nothing else; no diagnosis code prints. ``to_dict`` is the
JSON contract (checked against the schema shipped in ``report/schema.json``): ``causes`` most likely
first, ``facts``, and for commands that run checks, ``steps``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Protocol

from pulldoctor import causes as _causes
from pulldoctor.advice import render
from pulldoctor.causes import Code

SCHEMA_VERSION = "1.1"
"""1.1: every step carries ``endpoint``, ``cause`` and ``confidence``; causes carry ``advice``
and ``runtime``."""

REPORT_COMMANDS: tuple[str, ...] = ("explain", "scan", "diagnose", "host", "fleet", "k8s-scan")
"""Every value of :attr:`Report.command` (the schema's ``command`` enum is generated from it)."""
STEP_COMMANDS: tuple[str, ...] = ("diagnose", "host")
"""Commands whose reports always carry ``steps``."""
FLEET_COMMANDS: tuple[str, ...] = ("fleet", "k8s-scan")
"""Commands whose reports compare nodes: ``facts.nodes_*`` counts and causes with ``nodes``."""
SCOPES: tuple[str, ...] = ("fleet-wide", "node-local")
"""Every value of :attr:`Cause.scope`: a burst many nodes hit at once, or a fault of some nodes."""
SEVERITIES: tuple[str, ...] = ("error", "warning", "info")
"""Every value of :attr:`Finding.severity`, worst first."""
ENDPOINT_OUTCOMES: tuple[str, ...] = ("ok", "failed", "fell_back", "not_walked")
"""What became of one endpoint in ``diagnose`` (the report's ``endpoints[].outcome``)."""

JSONValue = Any
"""A value that ``json.dumps`` accepts (kept loose on purpose: facts carry ints, lists, dicts)."""


class Outcome(StrEnum):
    """How one step or check ended. A broken check never spoils the others' outcomes."""

    OK = "ok"
    PROBLEM = "problem"
    WARNING = "warning"
    SKIPPED = "skipped"
    BLOCKED = "blocked"
    TIMEOUT = "timeout"
    CRASHED = "crashed"


@dataclass(slots=True)
class Cause:
    """One ranked root-cause candidate with the evidence that supports it.

    ``fix`` and ``confirm`` are shell commands, each runnable as printed; ``advice`` holds the
    fix steps that are sentences, never printed as commands. ``runtime`` says which runtime the
    runtime-specific items are for (None: every runtime's, each labelled).
    """

    code: Code
    confidence: float
    evidence: list[str] = field(default_factory=list)
    fix: list[str] = field(default_factory=list)
    confirm: list[str] = field(default_factory=list)
    distinguish: list[str] = field(default_factory=list)
    """For ambiguous input: what would tell this candidate from the others."""
    advice: list[str] = field(default_factory=list)
    runtime: str | None = None
    nodes: list[str] = field(default_factory=list)
    """Fleet reports: the hosts this cause affects (empty, and left out of JSON, elsewhere)."""
    scope: str | None = None
    """Fleet reports: one of :data:`SCOPES`."""

    def __post_init__(self) -> None:
        self.code = Code(self.code)  # a plain string from a caller becomes (and must be) a Code
        if self.scope is not None and self.scope not in SCOPES:
            raise ValueError(f"Cause scope must be one of {SCOPES}, not {self.scope!r}")

    @property
    def info(self) -> _causes.CauseInfo:
        return _causes.info(self.code)

    @classmethod
    def from_catalogue(
        cls,
        code: Code | str,
        confidence: float,
        evidence: list[str],
        values: Mapping[str, str | None] | None = None,
        distinguish: list[str] | None = None,
        *,
        runtime: str | None = None,
        context: frozenset[str] = frozenset(),
        complete: bool = False,
    ) -> Cause:
        """A cause with the catalogue's fix/confirm items filled from ``values`` for ``runtime``
        (see :func:`pulldoctor.advice.render` for ``context`` and ``complete``)."""
        ci = _causes.info(code)
        r = render(ci.confirm, ci.fix, values or {}, runtime=runtime, context=context,
                   complete=complete)
        return cls(
            code=ci.code,
            confidence=round(max(0.0, min(1.0, confidence)), 2),
            evidence=evidence,
            fix=r.fix,
            confirm=r.confirm,
            distinguish=distinguish or [],
            advice=r.advice,
            runtime=runtime,
        )

    def to_dict(self) -> dict[str, JSONValue]:
        ci = self.info
        out: dict[str, JSONValue] = {
            "code": self.code,
            "area": str(ci.area),
            "confidence": self.confidence,
            "title": ci.title,
            "meaning": ci.meaning,
            "evidence": list(self.evidence),
            "confirm": list(self.confirm),
            "fix": list(self.fix),
            "advice": list(self.advice),
            "runtime": self.runtime,
            "distinguish": list(self.distinguish),
        }
        if self.nodes:
            out["nodes"] = list(self.nodes)
        if self.scope is not None:
            out["scope"] = self.scope
        return out


@dataclass(slots=True)
class Finding:
    """Something a host check or probe noticed, with the evidence and the fix."""

    title: str
    severity: str = "error"  # one of SEVERITIES
    code: Code | None = None  # a cause code when the finding supports one
    evidence: list[str] = field(default_factory=list)
    fix: list[str] = field(default_factory=list)
    """Shell commands, each runnable as printed."""
    advice: list[str] = field(default_factory=list)
    """What to change, in words (never printed as a command)."""

    def __post_init__(self) -> None:
        if self.severity not in SEVERITIES:
            raise ValueError(f"Finding severity must be one of {SEVERITIES}, not {self.severity!r}")
        if self.code is not None:
            self.code = Code(self.code)

    def to_dict(self) -> dict[str, JSONValue]:
        return {
            "title": self.title,
            "severity": self.severity,
            "code": self.code,
            "evidence": list(self.evidence),
            "fix": list(self.fix),
            "advice": list(self.advice),
        }


class Observation(Protocol):
    """What one step observed, typed (``pulldoctor.diagnose.observe``); a dict only at the JSON
    edge, where it becomes the step's ``data``."""

    def to_dict(self) -> dict[str, JSONValue]: ...


@dataclass(slots=True)
class Step:
    """One step of a re-walked pull, or one host check, with its typed outcome.

    ``cause`` and ``confidence`` are the step's own verdict (what its classifier proved from its
    observation); ``endpoint`` is the endpoint whose walk the step belongs to (None for steps of
    the whole diagnosis: the configuration, the host checks, the deadline).
    """

    name: str
    outcome: Outcome
    duration_s: float = 0.0
    summary: str = ""
    evidence: list[str] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    data: dict[str, JSONValue] = field(default_factory=dict)
    """Structured observations of a host check (addresses, counters...)."""
    blocked_by: str | None = None
    cause: Code | None = None
    confidence: float | None = None
    endpoint: str | None = None
    client: str | None = None
    """The client(s) whose path the step's walk is on (``cri``, ``cli``), when diagnose walks
    more than one (containerd's clients with different proxies); None otherwise."""
    observation: Observation | None = None
    """The walk's typed observation; becomes ``data`` in JSON."""

    def __post_init__(self) -> None:
        if self.cause is not None:
            self.cause = Code(self.cause)

    def to_dict(self) -> dict[str, JSONValue]:
        data = self.observation.to_dict() if self.observation is not None else self.data
        return {
            "name": self.name,
            "endpoint": self.endpoint,
            "client": self.client,
            "outcome": str(self.outcome),
            "duration_s": round(self.duration_s, 4),
            "summary": self.summary,
            "evidence": list(self.evidence),
            "findings": [f.to_dict() for f in self.findings],
            "data": data,
            "cause": self.cause,
            "confidence": None if self.confidence is None else round(self.confidence, 2),
            "blocked_by": self.blocked_by,
        }


@dataclass(slots=True)
class Report:
    """What one pulldoctor command found. Renderers take this and nothing else."""

    command: str
    subject: str = ""
    causes: list[Cause] = field(default_factory=list)
    facts: dict[str, JSONValue] = field(default_factory=dict)
    steps: list[Step] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    """Plain statements, e.g. 'nothing in this text was recognised'."""
    duration_s: float = 0.0
    extra: dict[str, JSONValue] = field(default_factory=dict)
    """Command-specific sections (scan groups, the effective configuration table...)."""

    @property
    def healthy(self) -> bool:
        """No cause, and no step that failed, crashed or was cut short by a deadline."""
        return not self.causes and not any(
            s.outcome in (Outcome.PROBLEM, Outcome.CRASHED, Outcome.TIMEOUT) for s in self.steps
        )

    def to_dict(self) -> dict[str, JSONValue]:
        from pulldoctor import __version__

        out: dict[str, JSONValue] = {
            "schema_version": SCHEMA_VERSION,
            "pulldoctor_version": __version__,
            "command": self.command,
            "subject": self.subject,
            "causes": [c.to_dict() for c in self.causes],
            "facts": self.facts,
            "notes": list(self.notes),
        }
        if self.steps or self.command in STEP_COMMANDS:
            out["steps"] = [s.to_dict() for s in self.steps]
        if self.duration_s:
            out["duration_s"] = round(self.duration_s, 3)
        out.update(self.extra)
        return out
