"""One node's report, cut down to what ``fleet merge`` compares (typed; dicts stay at the edge).

A fleet merge of 5,000 reports must run at flat memory, so a report is turned into a
:class:`NodeSummary` as soon as it is parsed and the parsed JSON is dropped: the node's name, its
attributes (``facts.node_attrs``), and at most one :class:`Problem` (the top cause and the first
failing step, or the first crashed step when nothing was proven).
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from pulldoctor.causes import CATALOGUE, Code

_FAILING_OUTCOMES = ("problem", "crashed")
_MAX_EVIDENCE = 3


class NotAReport(ValueError):
    """The JSON is valid but is not a pulldoctor diagnose/host report."""


@dataclass(slots=True)
class Problem:
    """What went wrong on one node: the cause (None when a probe crashed unproven) and the step."""

    code: Code | None
    step: str
    confidence: float = 0.0
    evidence: list[str] = field(default_factory=list)
    fix: list[str] = field(default_factory=list)
    registry: str | None = None
    observed_at: str | None = None
    egress: str | None = None
    """The address the registry saw (Docker Hub's ``docker-ratelimit-source``), when it said."""


@dataclass(slots=True)
class NodeSummary:
    node: str
    source: str
    command: str
    attrs: dict[str, str] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    registry: str | None = None
    observed_at: str | None = None

    @property
    def healthy(self) -> bool:
        return not self.problems


def _egress(steps: list[Mapping[str, Any]]) -> str | None:
    for s in steps:
        data = s.get("data")
        limit = data.get("rate_limit") if isinstance(data, Mapping) else None
        if isinstance(limit, Mapping) and limit.get("docker-ratelimit-source"):
            return str(limit["docker-ratelimit-source"])
    return None


def summarise(doc: Any, source: str) -> NodeSummary:
    """A :class:`NodeSummary` of one ``diagnose``/``host`` report dict; :class:`NotAReport` if not."""
    if not isinstance(doc, Mapping) or "schema_version" not in doc or "command" not in doc:
        raise NotAReport("not a pulldoctor report (no schema_version/command)")
    command = doc.get("command")
    if command not in ("diagnose", "host"):
        raise NotAReport(f"a {command!r} report; fleet merge reads diagnose and host reports")
    facts = doc.get("facts")
    causes = doc.get("causes")
    steps = doc.get("steps")
    if not isinstance(facts, Mapping) or not isinstance(causes, list) or not isinstance(steps, list):
        raise NotAReport("facts, causes or steps are missing or of the wrong type")
    raw_attrs = facts.get("node_attrs")
    # interned: thousands of nodes share the same few keys and values (flat memory)
    attrs = ({sys.intern(str(k)): sys.intern(str(v)) for k, v in raw_attrs.items()}
             if isinstance(raw_attrs, Mapping) else {})
    node = str(facts.get("node") or "").strip() or source
    registry = facts.get("registry")
    observed = facts.get("observed_at")
    out = NodeSummary(node=node, source=source, command=str(command), attrs=attrs,
                      registry=str(registry) if registry else None,
                      observed_at=str(observed) if observed else None)
    steps = [s for s in steps if isinstance(s, Mapping)]
    failing = next((s for s in steps if s.get("outcome") in _FAILING_OUTCOMES), None)
    top = causes[0] if causes and isinstance(causes[0], Mapping) else None
    if top is None and failing is None:
        return out
    code: Code | None = None
    if top is not None and top.get("code") in CATALOGUE:
        code = Code(top["code"])
    elif top is not None:
        raise NotAReport(f"unknown cause code {top.get('code')!r}")
    ev = [str(e) for e in (top.get("evidence") or [])][:_MAX_EVIDENCE] if top else []
    if failing is not None and failing.get("summary") and str(failing["summary"]) not in ev:
        ev.insert(0, str(failing["summary"]))
    out.problems.append(Problem(
        code=code, step=str(failing.get("name")) if failing else "(no failing step)",
        confidence=float(top.get("confidence") or 0.0) if top else 0.0,
        evidence=ev[:_MAX_EVIDENCE], fix=[str(f) for f in (top.get("fix") or [])][:3] if top else [],
        registry=out.registry, observed_at=out.observed_at, egress=_egress(steps)))
    return out
