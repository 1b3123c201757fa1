"""``k8s scan``: pods stuck on a pull, explained and grouped by cause x node x registry (pure).

The symptom comes from the API: containers waiting in ``ErrImagePull``/``ImagePullBackOff``/
``InvalidImageName`` (and the other pull reasons), with the kubelet's ``Failed`` events for the
same pod - their message keeps the runtime's error, where the pod's own message may have decayed
to "Back-off pulling image" (before Kubernetes PR #127918), and they carry ``count``, first and
last seen, and the node. Each text is explained with ``explain``; every node becomes one
:class:`~pulldoctor.fleet.summary.NodeSummary` (its attributes from the Node object: zone, node
pool, runtime and kubelet versions, kernel), and the fleet correlation does the rest: nodes with no
failure are the healthy ones compared against.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from pulldoctor.causes import Code
from pulldoctor.errors import UsageError
from pulldoctor.fleet.correlate import correlate
from pulldoctor.fleet.summary import NodeSummary, Problem
from pulldoctor.k8s.objects import ContainerWait, EventView, NodeView, PodView
from pulldoctor.model import Report
from pulldoctor.redact import redact

_FAILED_PULL = "Failed to pull image"


@dataclass(slots=True)
class _PullFailure:
    namespace: str
    pod: str
    container: str
    image: str
    node: str | None
    reason: str
    message: str
    registry: str
    events: int = 0
    first_seen: str | None = None
    last_seen: str | None = None
    code: Code | None = None
    confidence: float = 0.0


@dataclass(slots=True)
class _FailureGroup:
    """Failing containers of one cause on one node pulling from one registry."""

    code: Code | None
    node: str
    registry: str
    pods: list[str] = field(default_factory=list)
    events: int = 0
    first_seen: str | None = None
    last_seen: str | None = None
    example: str = ""

    def add(self, f: _PullFailure) -> None:
        self.pods.append(f"{f.namespace}/{f.pod}")
        self.events += f.events
        if f.first_seen and (self.first_seen is None or f.first_seen < self.first_seen):
            self.first_seen = f.first_seen
        if f.last_seen and (self.last_seen is None or f.last_seen > self.last_seen):
            self.last_seen = f.last_seen

    def to_dict(self) -> dict[str, object]:
        return {"code": self.code, "node": self.node, "registry": self.registry,
                "pods": list(self.pods), "events": self.events, "first_seen": self.first_seen,
                "last_seen": self.last_seen, "example": self.example}


def _registry_of(image: str) -> str:
    from pulldoctor.reference import parse_reference

    try:
        return parse_reference(image).registry
    except UsageError:
        return "(invalid reference)"


def explain_code(text: str, reason: str) -> tuple[Code | None, float]:
    """The top cause ``explain`` names for a kubelet message (None when it names none)."""
    from pulldoctor.explain import explain

    if text.strip():
        rep = explain(text)
        if rep.causes:
            return rep.causes[0].code, rep.causes[0].confidence
    if reason == "InvalidImageName":
        return Code.REF_INVALID, 0.9
    return None, 0.0


def failures(pods: Iterable[PodView], events: Iterable[EventView]) -> list[_PullFailure]:
    """Every container waiting on a pull, with its kubelet events folded in (pure but explain)."""
    by_pod: dict[tuple[str, str], list[EventView]] = {}
    for e in events:
        if (e.reason == "Failed" and e.message.startswith(_FAILED_PULL)) or e.reason in (
                "ErrImagePull", "InspectFailed"):
            by_pod.setdefault((e.namespace, e.pod), []).append(e)
    out: list[_PullFailure] = []
    for p in pods:
        for w in p.pull_waits:
            evs = [e for e in by_pod.get((p.namespace, p.name), []) if w.image in e.message
                   or not w.image]
            out.append(_failure(p, w, evs))
    return out


def _failure(p: PodView, w: ContainerWait, evs: list[EventView]) -> _PullFailure:
    latest = max(evs, key=lambda e: e.last_seen or "", default=None)
    message = latest.message if latest is not None else w.message
    code, conf = explain_code(message, w.reason)
    firsts = [e.first_seen for e in evs if e.first_seen]
    lasts = [e.last_seen for e in evs if e.last_seen]
    return _PullFailure(
        namespace=p.namespace, pod=p.name, container=w.container, image=w.image,
        node=p.node or (latest.node if latest is not None else None), reason=w.reason,
        message=redact(message), registry=_registry_of(w.image),
        events=sum(e.count for e in evs), first_seen=min(firsts, default=None),
        last_seen=max(lasts, default=None), code=code, confidence=conf)


def summaries(fails: list[_PullFailure], nodes: Iterable[NodeView]) -> list[NodeSummary]:
    """One summary per node: its API attributes, and one problem per (cause, registry) (pure)."""
    views = {n.name: n for n in nodes}
    out: dict[str, NodeSummary] = {
        n.name: NodeSummary(node=n.name, source="kubernetes", command="k8s", attrs=n.attrs())
        for n in views.values()}
    for f in fails:
        name = f.node or "(not scheduled)"
        s = out.setdefault(name, NodeSummary(node=name, source="kubernetes", command="k8s"))
        step = f"kubelet pull from {f.registry}"
        if any(p.code == f.code and p.step == step for p in s.problems):
            continue
        s.problems.append(Problem(
            code=f.code, step=step, confidence=f.confidence, registry=f.registry,
            observed_at=f.last_seen,
            evidence=[f"{f.namespace}/{f.pod} ({f.container}, {f.image}): {f.reason}: "
                      f"{f.message[:400]}"]))
        s.registry = s.registry or f.registry
    return list(out.values())


def scan_report(pods: list[PodView], events: list[EventView], nodes: list[NodeView], *,
                subject: str) -> Report:
    """The ``k8s-scan`` report: fleet correlation plus the failures grouped cause x node x registry."""
    fails = failures(pods, events)
    rep = correlate(summaries(fails, nodes), subject=subject)
    rep.command = "k8s-scan"
    groups: dict[tuple[str, str, str], _FailureGroup] = {}
    for f in fails:
        key = (str(f.code) if f.code else "unexplained", f.node or "(not scheduled)", f.registry)
        g = groups.setdefault(key, _FailureGroup(f.code, key[1], f.registry, example=f.message[:400]))
        g.add(f)
    rep.extra["pull_failures"] = [g.to_dict() for g in sorted(
        groups.values(), key=lambda g: (-len(g.pods), g.node))]
    rep.facts["pods_failing"] = len({(f.namespace, f.pod) for f in fails})
    unexplained = [f for f in fails if f.code is None]
    if unexplained:
        rep.notes.append(f"{len(unexplained)} failing container(s) whose message names no known "
                         "cause (e.g. only 'Back-off pulling image'): run `pulldoctor k8s probe` "
                         "to re-walk the pull on those nodes")
    return rep
