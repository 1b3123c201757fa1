"""Time to root cause, judged: which scenarios count, what each run says, and one row per client.

Pure (no lab, no processes): ``bench_diagnose.py`` runs things and hands the runs here; the unit
tests feed made-up runs. The rules are issue 9's:

* a **DNS** or **TCP** fault (the scenario's expected cause is a ``dns.*`` code, or one of the
  TCP-level ``net.unreachable``/``net.tcp_timeout``/``net.refused``/``net.reset``): diagnose must
  name the cause at least :data:`SPEEDUP_GOAL` times sooner than ``docker pull`` reaches its
  error (skopeo's rows report the speed-up with no goal);
* a **stall** (``net.tls_handshake_timeout``, ``net.request_timeout``, ``net.mtu``: the
  connection is up and then nothing comes, where clients hang or wait out long timeouts):
  diagnose must name the cause within its own deadline.

A row whose diagnosis is wrong or missing in any run is a failure of that row, whatever the
times: no speed is reported for it. A client that did not fail although the scenario says it
must is a failure too (the lab or the catalogue is out of date), as no time-to-error exists.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from results import fmt_s

SPEEDUP_GOAL = 10.0
DEFAULT_DEADLINE_S = 15.0
"""diagnose's default ``--timeout`` (used when a run printed no report to read it from)."""
TCP_CODES = frozenset({"net.unreachable", "net.tcp_timeout", "net.refused", "net.reset"})
STALL_CODES = frozenset({"net.tls_handshake_timeout", "net.request_timeout", "net.mtu"})
_NOT_EVIDENCE = frozenset({"ok", "blocked", "skipped"})
"""Outcomes that say nothing about the cause (a step that passed, or never ran)."""
RUNTIME = {"docker": "docker", "skopeo": "podman"}
"""The ``diagnose --runtime`` that walks each client's configuration (as the matrix does)."""
CLIENT_TEXT = {"docker": "docker pull (dockerd 20.10, its default retries)",
               "skopeo": "skopeo copy docker://… oci:… (skopeo 1.9 defaults: --retry-times 0)"}


def kind_of(code: str | None) -> str | None:
    """``dns``, ``tcp`` or ``stall`` for the faults this benchmark times, else None."""
    if code is None:
        return None
    if code.startswith("dns."):
        return "dns"
    if code in TCP_CODES:
        return "tcp"
    if code in STALL_CODES:
        return "stall"
    return None


def select(catalogue: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """The scenarios of ``pulldoctor lab list --json`` this benchmark times, in catalogue order."""
    out = []
    for sc in catalogue:
        kind = kind_of(sc.get("code"))
        if kind is not None:
            out.append({"name": sc["name"], "code": sc["code"], "kind": kind,
                        "clients": [c for c in sc["clients"] if c in RUNTIME],
                        "expect": {c: (sc.get("expect") or {}).get(c, {}).get("code", sc["code"])
                                   for c in sc["clients"]}})
    return out


@dataclass(frozen=True)
class Step:
    name: str
    endpoint: str | None
    outcome: str
    duration_s: float


@dataclass(frozen=True)
class DiagRun:
    """One ``diagnose --json`` run as the client: its process time and what it said."""

    rc: int
    wall_s: float
    report_s: float | None  # the report's own duration (the walk, under the deadline)
    deadline_s: float | None
    causes: tuple[str, ...]
    steps: tuple[Step, ...] = ()
    error: str = ""

    @property
    def top(self) -> str | None:
        return self.causes[0] if self.causes else None

    @classmethod
    def from_report(cls, rc: int, wall_s: float, stdout: str, stderr: str) -> DiagRun:
        import json

        try:
            rep = json.loads(stdout)
        except ValueError:
            return cls(rc, wall_s, None, None, (), error=(stderr or stdout)[-300:])
        steps = tuple(Step(str(s.get("name")), s.get("endpoint"), str(s.get("outcome")),
                           float(s.get("duration_s") or 0.0)) for s in rep.get("steps", []))
        return cls(rc, wall_s, rep.get("duration_s"), (rep.get("facts") or {}).get("deadline_s"),
                   tuple(str(c["code"]) for c in rep.get("causes", [])), steps)


@dataclass(frozen=True)
class ClientRun:
    """One real client pull: did it fail, how long until its error (or its bound)."""

    failed: bool
    duration_s: float
    timed_out: bool = False
    text: str = ""


@dataclass
class Pair:
    """One repetition: diagnose and the client, one after the other in the same lab."""

    diagnose: DiagRun
    client: ClientRun
    extra: dict[str, Any] = field(default_factory=dict)


def breakdown(runs: Sequence[DiagRun], top: int = 4) -> dict[str, Any]:
    """Where diagnose's time goes: start-up and rendering vs the walk, and the slowest steps.

    ``startup_s`` is process wall time minus the report's own duration (interpreter start-up,
    imports, reading the configuration before the deadline clock starts, printing). Steps are
    keyed by (endpoint, name); their median durations over the runs, slowest first, plus every
    step that did not pass (the evidence of the cause).
    """
    with_report = [r for r in runs if r.report_s is not None]
    out: dict[str, Any] = {
        "wall_s": round(statistics.median(r.wall_s for r in runs), 3) if runs else None,
        "walk_s": (round(statistics.median(float(r.report_s or 0) for r in with_report), 3)
                   if with_report else None)}
    out["startup_s"] = (round(statistics.median(r.wall_s - float(r.report_s or 0)
                                                for r in with_report), 3)
                        if with_report else None)
    durations: dict[tuple[str | None, str], list[float]] = {}
    outcomes: dict[tuple[str | None, str], str] = {}
    for r in with_report:
        for s in r.steps:
            durations.setdefault((s.endpoint, s.name), []).append(s.duration_s)
            if s.outcome not in _NOT_EVIDENCE:
                outcomes[(s.endpoint, s.name)] = s.outcome
    med = {k: statistics.median(v) for k, v in durations.items()}
    ranked = sorted(med, key=lambda k: -med[k])
    keep = [k for k in ranked[:top] if med[k] >= 0.005 or k in outcomes]
    keep += [k for k in ranked[top:] if k in outcomes]
    out["steps"] = [{"step": name, "endpoint": ep, "median_s": round(med[(ep, name)], 3),
                     "outcome": outcomes.get((ep, name), "ok")} for ep, name in keep]
    return out


def breakdown_text(b: Mapping[str, Any]) -> str:
    """``start-up+render 0.41 s; walk 1.10 s: tcp cdn (timeout) 0.80 s, ...``."""
    if b.get("walk_s") is None:
        return "no report"
    steps = ", ".join(f"{s['step']}{' (' + s['outcome'] + ')' if s['outcome'] != 'ok' else ''} "
                      f"{s['median_s']:.2f} s" for s in b.get("steps", []))
    return (f"start-up+render {b['startup_s']:.2f} s; walk {b['walk_s']:.2f} s"
            + (f" (slowest steps: {steps})" if steps else ""))


def judge(scenario: str, kind: str, client: str, expected: str | None,
          pairs: Sequence[Pair], bound_s: float) -> dict[str, Any]:
    """One result row for (scenario, client) from its repetitions (pure)."""
    diags = [p.diagnose for p in pairs]
    clients = [p.client for p in pairs]
    tops = [d.top for d in diags]
    wrong = [f"{d.top or 'no cause'}" + (f" (exit {d.rc}: {d.error})" if d.rc not in (0, 1)
                                        else f" (exit {d.rc})")
             for d in diags if d.rc != 1 or d.top != expected]
    client_pulled = [c for c in clients if not c.failed]
    correct = not wrong
    problems = []
    if wrong:
        problems.append(f"diagnose named {', '.join(sorted(set(wrong)))} in {len(wrong)} of "
                        f"{len(diags)} runs; expected {expected}")
    if client_pulled:
        problems.append(f"{client} pulled in {len(client_pulled)} of {len(clients)} runs, "
                        f"the scenario expects {expected} (lab out of date)")
    hung = any(c.timed_out for c in clients)
    row: dict[str, Any] = {
        "what": f"time to root cause: {scenario} x {client}",
        "compared": (f"pulldoctor diagnose --runtime {RUNTIME[client]} (process wall time, as the "
                     f"lab's client) vs {CLIENT_TEXT[client]}, same lab, alternating"),
        "scenario": scenario, "kind": kind, "client": client, "expected": expected,
        "correct": correct, "diagnose_tops": tops,
        "diagnose_wall_s": [round(d.wall_s, 3) for d in diags],
        "diagnose_report_s": [d.report_s for d in diags],
        "deadline_s": next((d.deadline_s for d in diags if d.deadline_s is not None), None),
        "client_s": [round(c.duration_s, 3) for c in clients],
        "client_timed_out": [c.timed_out for c in clients], "client_bound_s": bound_s,
        "client_text": next((c.text for c in clients if c.text), "")[:300],
        "breakdown": breakdown(diags), "problems": problems,
    }
    deadline = float(row["deadline_s"] or DEFAULT_DEADLINE_S)
    row["goal"] = (f"within diagnose's {deadline:.0f} s deadline" if kind == "stall" else
                   f"≥ {SPEEDUP_GOAL:.0f}× sooner than docker pull (issue 9)"
                   if client == "docker" else None)  # issue 9's speed goal is against docker
    if problems:
        row.update(ratio=None, ratio_means="client time / diagnose time (none: the row failed)",
                   meets=False if row["goal"] else None,
                   figure=f"FAILED: {'; '.join(problems)}")
        return row
    ratios = [c.duration_s / max(d.wall_s, 1e-3) for d, c in zip(diags, clients, strict=True)]
    ratio = statistics.median(ratios)
    ge = "≥ " if hung else ""
    client_fig = fmt_s(c.duration_s for c in clients) + (
        f", cut at the {bound_s:.0f} s bound in {sum(c.timed_out for c in clients)} run(s)"
        if hung else "")
    row.update(ratio=round(ratio, 2), ratio_min=round(min(ratios), 2), ratio_lower_bound=hung,
               ratio_means="client time to its error / diagnose time to its verdict (× sooner)")
    fig = f"diagnose {fmt_s(d.wall_s for d in diags)} vs {client} {client_fig}: " + (
        f"{ge}{ratio:.1f}× sooner (min {min(ratios):.1f}×)" if ratio >= 1 else
        f"{client} errs first (diagnose {1 / ratio:.1f}× slower)")
    if kind == "stall":
        late = [d.wall_s for d in diags if d.wall_s > deadline]
        row["meets"] = not late
        fig += (f"; within its {deadline:.0f} s deadline" if not late else
                f"; PAST its {deadline:.0f} s deadline in {len(late)} run(s)")
    else:
        row["meets"] = ratio >= SPEEDUP_GOAL if row["goal"] else None
    row["figure"] = fig
    return row


def time_line(row: Mapping[str, Any]) -> str:
    """Where diagnose's time went, for a row (printed under every rootcause row)."""
    return "    time:     " + breakdown_text(row["breakdown"])
