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
from typing import Any

from pulldoctor import causes as _causes
from pulldoctor.causes import Code

SCHEMA_VERSION = "1.0"

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
    """One ranked root-cause candidate with the evidence that supports it."""

    code: Code
    confidence: float
    evidence: list[str] = field(default_factory=list)
    fix: list[str] = field(default_factory=list)
    confirm: list[str] = field(default_factory=list)
    distinguish: list[str] = field(default_factory=list)
    """For ambiguous input: what would tell this candidate from the others."""
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
    ) -> Cause:
        """A cause with the catalogue's fix/confirm commands filled from ``values``."""
        ci = _causes.info(code)
        vals = values or {}
        return cls(
            code=ci.code,
            confidence=round(max(0.0, min(1.0, confidence)), 2),
            evidence=evidence,
            fix=_causes.render_commands(ci.fix, vals),
            confirm=_causes.render_commands(ci.confirm, vals),
            distinguish=distinguish or [],
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
        }


@dataclass(slots=True)
class Step:
    """One step of a re-walked pull, or one host check, with its typed outcome."""

    name: str
    outcome: Outcome
    duration_s: float = 0.0
    summary: str = ""
    evidence: list[str] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    data: dict[str, JSONValue] = field(default_factory=dict)
    """Structured observations (addresses, status codes, certificate details...)."""
    blocked_by: str | None = None

    def to_dict(self) -> dict[str, JSONValue]:
        return {
            "name": self.name,
            "outcome": str(self.outcome),
            "duration_s": round(self.duration_s, 4),
            "summary": self.summary,
            "evidence": list(self.evidence),
            "findings": [f.to_dict() for f in self.findings],
            "data": self.data,
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
        return not self.causes and not any(
            s.outcome in (Outcome.PROBLEM, Outcome.CRASHED) for s in self.steps
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
