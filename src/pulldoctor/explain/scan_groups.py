"""``scan``'s findings: one group per (cause, image, registry, node), and the report built from them.

A log holds unrelated failures (a rate limit on one node, a DNS outage on another), so scan does
not reduce them to one verdict: each group is its own finding with its own ranked candidates, and
the report lists the groups most frequent first. The node is part of the key because the next
step after a scan is comparing nodes; the pods and namespaces a group touched are carried along.

A group whose cause was only *inferred* from the failing step (a "Back-off pulling image" event, an
"Error: ErrImagePull" event, an Engine API 500 with nothing inside) is dropped when a group with a
named cause exists for the same image, registry and node (or, with no image in its messages, for the
same pod): it is the same failure seen through a poorer message.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pulldoctor.advice import render
from pulldoctor.causes import Code, info
from pulldoctor.errors import ReferenceError_
from pulldoctor.excerpt import excerpt
from pulldoctor.model import Cause, Report
from pulldoctor.reference import parse_reference

MAX_NAMES = 20
"""Pods, namespaces and sources kept per group (the rest are counted)."""
SAMPLE = 600
"""Characters of the sample line kept in a group; the table shows fewer, cut the same way."""


@dataclass(slots=True)
class Sighting:
    """One occurrence (or a counted series) of a failure message, wherever it was read from."""

    message: str
    count: int = 1
    first: str | None = None
    last: str | None = None
    node: str | None = None
    pod: str | None = None
    namespace: str | None = None
    source: str | None = None
    line: int | None = None
    offset: int = 0


@dataclass(slots=True)
class Group:
    """All sightings of one cause for one image from one registry on one node."""

    code: Code
    image: str
    registry: str
    node: str
    count: int = 0
    first_ts: str | None = None
    last_ts: str | None = None
    source: str = ""
    first_line: int | None = None  # None: not counted (a timestamped log scanned in parallel)
    last_line: int | None = None
    first_offset: int = 0
    last_offset: int = 0
    sample: str = ""
    confidence: float = 0.0
    inferred: bool = False
    candidates: list[tuple[str, float]] = field(default_factory=list)
    evidence: list[str] = field(default_factory=list)
    values: dict[str, str | None] = field(default_factory=dict)
    pods: list[str] = field(default_factory=list)
    namespaces: list[str] = field(default_factory=list)
    sources: list[str] = field(default_factory=list)

    @property
    def key(self) -> tuple[str, str, str, str]:
        return (self.code, self.image, self.registry, self.node)

    def seen(self, s: Sighting, ordered: bool) -> None:
        """Count one sighting. ``ordered``: its timestamps are comparable (kubectl events), so the
        group keeps the earliest first and the latest last; otherwise stream order decides."""
        first, last = s.first, s.last or s.first
        if self.count == 0:
            self.first_ts, self.first_line, self.first_offset = first, s.line, s.offset
            self.last_ts, self.last_line, self.last_offset = last, s.line, s.offset
        elif ordered and first and last and self.first_ts and self.last_ts:
            if first < self.first_ts:
                self.first_ts = first
            if last > self.last_ts:
                self.last_ts, self.last_line, self.last_offset = last, s.line, s.offset
        else:
            self.last_ts, self.last_line, self.last_offset = last, s.line, s.offset
        self.count += s.count
        for names, value in ((self.pods, s.pod), (self.namespaces, s.namespace),
                             (self.sources, s.source)):
            if value and value not in names and len(names) < MAX_NAMES:
                names.append(value)

    def merge(self, other: Group) -> None:
        """Add a later segment's group of the same key (segments are in file order)."""
        self.count += other.count
        self.last_ts, self.last_line, self.last_offset = (other.last_ts, other.last_line,
                                                          other.last_offset)
        for mine, theirs in ((self.pods, other.pods), (self.namespaces, other.namespaces),
                             (self.sources, other.sources)):
            mine.extend(v for v in theirs if v not in mine and len(mine) < MAX_NAMES)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "code": self.code, "image": self.image, "registry": self.registry, "node": self.node,
            "count": self.count,
            "first_seen": self.first_ts or _position(self.first_line, self.first_offset),
            "last_seen": self.last_ts or _position(self.last_line, self.last_offset),
            "source": self.source, "sample": self.sample,
            "example": self.sample,
            "candidates": [{"code": c, "confidence": conf} for c, conf in self.candidates],
            "inferred": self.inferred,
        }
        ci = info(self.code)
        items = render(ci.confirm, ci.fix, self.values)
        out["fix"] = items.fix
        if items.advice:
            out["advice"] = items.advice
        if self.pods:
            out["pods"] = list(self.pods)
        if self.namespaces:
            out["namespaces"] = list(self.namespaces)
        if self.sources:
            out["sources"] = list(self.sources)
        if self.first_line is not None and self.last_line is not None:
            out["first_line"], out["last_line"] = self.first_line, self.last_line
        return out


def _position(line: int | None, offset: int) -> str:
    return f"line {line}" if line is not None else f"byte {offset}"


def canonical_image(image: str | None) -> tuple[str, str]:
    """(familiar image name, registry) -- kubelet's "nginx" and containerd's
    "docker.io/library/nginx" are one image on one registry."""
    if not image:
        return "-", "-"
    try:
        ref = parse_reference(image.removeprefix("docker://"))
    except ReferenceError_:
        return image, "-"
    return ref.familiar, ref.registry


def sample_line(message: str, evidence: str = "", limit: int = SAMPLE) -> str:
    """The failure itself: the message cut around its evidence, never inside a URL."""
    return excerpt(message, limit, evidence)


def build_report(groups: list[Group], sources: list[str], facts: dict[str, Any],
                 other_failures: int = 0) -> Report:
    """Groups -> the scan report: groups most frequent first, candidates in confidence order."""
    named = {(g.image, g.registry, g.node) for g in groups if not g.inferred}
    named_pods = {p for g in groups if not g.inferred for p in g.pods}
    kept = [g for g in groups if not (g.inferred and (
        (g.image, g.registry, g.node) in named
        or (g.image == "-" and named_pods.intersection(g.pods))))]
    order = {id(g): i for i, g in enumerate(groups)}  # first-seen order breaks ties
    kept.sort(key=lambda g: (-g.count, order[id(g)]))
    best: dict[str, tuple[float, list[str], dict[str, str | None]]] = {}
    for g in kept:
        conf, ev, values = best.get(g.code, (0.0, [], g.values))
        ev = ev + [e for e in g.evidence if e not in ev][:3]
        best[g.code] = (max(conf, g.confidence), ev, values)
    causes = [Cause.from_catalogue(code, conf, ev, values)
              for code, (conf, ev, values) in sorted(best.items(), key=lambda kv: -kv[1][0])]
    report = Report(command="scan", subject=" ".join(sources), causes=causes, facts={
        "sources": sources, **facts, "groups": len(kept),
        "failures": sum(g.count for g in kept) + other_failures,
    })
    report.extra["groups"] = [g.to_dict() for g in kept]
    if other_failures:
        report.facts["other_failures"] = other_failures
    if len(best) > 1:
        report.notes.append(f"{len(best)} different causes: each group is its own finding "
                            "(no single verdict over unrelated failures)")
    if any(g.inferred for g in kept):
        report.notes.append("groups marked 'inferred' name no cause in their messages: their "
                            "candidates come from the failing step")
    return report
