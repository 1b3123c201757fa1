"""Correlate many nodes' findings: which nodes fail, at which step, and what they share (pure).

One cause per (cause code, failing step), most widespread first, each naming its ``nodes`` and,
as evidence, the attributes all of those nodes share that **no** healthy node has - the answer to
"the failing nodes share X; the healthy ones don't" - then the attributes they do not share, and
the ones they share with healthy nodes too (so not the difference).

A **fleet-wide burst** is told apart from node-local faults: at least :data:`_BURST_MIN_NODES`
nodes failing on the same registry within :data:`_BURST_WINDOW_S` seconds, where the cause is on
the registry's side (429, 5xx) or no node attribute explains it. Many runners behind one NAT
address hitting Docker Hub's limit in the same minute is the classic; when the registry named the
address it counted (``docker-ratelimit-source``), the evidence says so.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from pulldoctor.causes import Code
from pulldoctor.fleet.summary import NodeSummary, Problem
from pulldoctor.model import Cause, Report

_BURST_MIN_NODES = 3
_BURST_WINDOW_S = 60.0
_REGISTRY_SIDE = (Code.REGISTRY_RATE_LIMITED, Code.REGISTRY_SERVER_ERROR)
_NOT_COMPARED = frozenset({"resolver_source", "default_route_dev"})
_ATTR_ORDER = ("resolver", "resolver_upstreams", "kubelet_resolv_conf", "proxy", "mirrors",
              "runtime", "runtime_version", "mtu", "subnet", "zone", "node_pool", "egress")
MAX_NAMES = 20


@dataclass(slots=True)
class _Comparison:
    """How one attribute looks across a group's failing nodes and the healthy nodes."""

    distinguishing: list[tuple[str, str, list[str]]]  # (attr, shared value, healthy values)
    not_shared: list[tuple[str, list[str]]]  # (attr, the failing nodes' values)
    common: list[tuple[str, str]]  # shared by the failing nodes and some healthy nodes
    unknown: list[tuple[str, str]]  # shared by the failing nodes; no healthy node reports it


def _names(nodes: list[str]) -> str:
    more = len(nodes) - MAX_NAMES
    return ", ".join(nodes[:MAX_NAMES]) + (f" and {more} more" if more > 0 else "")


def _attr_key(name: str) -> tuple[int, str]:
    return (_ATTR_ORDER.index(name) if name in _ATTR_ORDER else len(_ATTR_ORDER), name)


def compare(failing: list[NodeSummary], healthy: list[NodeSummary]) -> _Comparison:
    """Which attributes the ``failing`` nodes share, and whether any healthy node has them (pure)."""
    keys = sorted({k for n in failing for k in n.attrs} - _NOT_COMPARED, key=_attr_key)
    out = _Comparison([], [], [], [])
    for k in keys:
        values = [n.attrs.get(k) for n in failing]
        first = values[0]
        if first is None or any(v != first for v in values):
            seen = sorted({v or "(unknown)" for v in values})
            out.not_shared.append((k, seen))
            continue
        theirs = sorted({n.attrs[k] for n in healthy if k in n.attrs})
        if not theirs:
            out.unknown.append((k, first))
        elif first not in theirs:
            out.distinguishing.append((k, first, theirs))
        else:
            out.common.append((k, first))
    return out


def _epoch(stamp: str | None) -> float | None:
    if not stamp:
        return None
    try:
        return datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return None


def burst(code: Code, problems: list[Problem], nodes: list[str], comp: _Comparison) -> list[str]:
    """Evidence that this group is one fleet-wide burst (empty when it is not one; pure)."""
    registries = {p.registry for p in problems}
    times = [_epoch(p.observed_at) for p in problems]
    if len(nodes) < _BURST_MIN_NODES or len(registries) != 1 or None in registries:
        return []
    if any(t is None for t in times):
        return []
    stamps = [t for t in times if t is not None]
    span = max(stamps) - min(stamps)
    if span > _BURST_WINDOW_S or (code not in _REGISTRY_SIDE and comp.distinguishing):
        return []
    reg = next(iter(registries))
    ev = [f"fleet-wide burst: {len(nodes)} nodes failed on {reg} within {span:.0f} s "
          "(same registry, same minute): a limit or fault on the registry's side or on a shared "
          "egress, not something each node does wrong"]
    egress = {p.egress for p in problems if p.egress}
    if len(egress) == 1:
        ev.append(f"the registry counted them all as one client: docker-ratelimit-source "
                  f"{next(iter(egress))} (one NAT/egress address)")
    elif egress:
        ev.append(f"the registry saw {len(egress)} source addresses: {_names(sorted(egress))}")
    return ev


def _evidence(nodes: list[str], total: int, comp: _Comparison, healthy: int) -> list[str]:
    ev = [f"{len(nodes)} of {total} nodes: {_names(nodes)}"]
    for k, v, theirs in comp.distinguishing:
        ev.append(f"the failing nodes share {k} = {v}; none of the {healthy} healthy nodes has it "
                  f"(they have {_names(theirs)})")
    if not comp.distinguishing:
        ev.append("no attribute is shared by all the failing nodes and absent from every healthy "
                  "node" + ("" if healthy else " (there is no healthy node to compare with)"))
    if comp.not_shared:
        ev.append("they do not share: " + "; ".join(
            f"{k} ({', '.join(vs[:4])}{', ...' if len(vs) > 4 else ''})" for k, vs in comp.not_shared[:6]))
    if comp.unknown:
        ev.append(("shared, but no healthy node reports it: " if healthy else "shared: ")
                  + ", ".join(f"{k}={v}" for k, v in comp.unknown[:6]))
    if comp.common:
        ev.append("shared with healthy nodes too (so not the difference): "
                  + ", ".join(f"{k}={v}" for k, v in comp.common[:6]))
    return ev


def _merge_nodes(summaries: Iterable[NodeSummary]) -> list[NodeSummary]:
    """One summary per node name (a node's diagnose and host reports together), in input order."""
    by: dict[str, NodeSummary] = {}
    for s in summaries:
        cur = by.get(s.node)
        if cur is None:
            by[s.node] = s
            continue
        cur.attrs.update(s.attrs)
        seen = {(p.code, p.step) for p in cur.problems}
        cur.problems += [p for p in s.problems if (p.code, p.step) not in seen]
        cur.registry = cur.registry or s.registry
        cur.observed_at = cur.observed_at or s.observed_at
    return list(by.values())


def correlate(summaries: Iterable[NodeSummary], *, subject: str = "") -> Report:
    """The fleet report (``command="fleet"``) of many nodes' summaries (pure apart from timing)."""
    t0 = time.monotonic()
    nodes = _merge_nodes(summaries)
    healthy = [n for n in nodes if n.healthy]
    groups: dict[tuple[Code | None, str], list[tuple[NodeSummary, Problem]]] = {}
    for n in nodes:
        for p in n.problems:
            groups.setdefault((p.code, p.step), []).append((n, p))
    causes: list[Cause] = []
    notes: list[str] = []
    for (code, step), members in groups.items():
        names = [n.node for n, _ in members]
        if code is None:
            notes.append(f"{len(names)} node(s) where the step {step!r} crashed or failed without a "
                         f"proven cause: {_names(names)}")
            continue
        comp = compare([n for n, _ in members], healthy)
        problems = [p for _, p in members]
        burst_ev = burst(code, problems, names, comp)
        ev = burst_ev + _evidence(names, len(nodes), comp, len(healthy))
        ev.append(f"failing step: {step}; e.g. {members[0][0].node}: "
                  + (problems[0].evidence[0] if problems[0].evidence else "(no evidence text)"))
        reg = problems[0].registry
        shared = {k: v for k, v, _ in comp.distinguishing} | dict(comp.common) | dict(comp.unknown)
        values = {"registry": reg, "host": reg.split(":")[0] if reg else None,
                  "resolver": shared.get("resolver", "").split(",")[0] or None}
        cause = Cause.from_catalogue(code, max(p.confidence for p in problems), ev, values)
        if problems[0].fix:
            cause.fix = problems[0].fix
        cause.nodes = names
        cause.scope = "fleet-wide" if burst_ev else "node-local"
        cause.distinguish = [f"{k}: {v}" for k, v, _ in comp.distinguishing]
        causes.append(cause)
    causes.sort(key=lambda c: (-len(c.nodes), -c.confidence, c.code))
    failing = [n for n in nodes if not n.healthy]
    if healthy:
        notes.append(f"healthy nodes ({len(healthy)}): {_names([n.node for n in healthy])}")
    if not nodes:
        notes.append("no reports were given")
    registries = sorted({n.registry for n in nodes if n.registry})
    facts = {"nodes_total": len(nodes), "nodes_failing": len(failing),
             "nodes_healthy": len(healthy), "registries": registries}
    rows = [{"node": n.node, "healthy": n.healthy, "source": n.source, "attrs": n.attrs,
             "problems": [{"code": p.code, "step": p.step} for p in n.problems]}
            for n in failing + healthy]
    return Report(command="fleet", subject=subject or f"{len(nodes)} nodes", causes=causes,
                  facts=facts, notes=notes, duration_s=time.monotonic() - t0,
                  extra={"nodes": rows})
