"""Host inspection: the runtime's effective configuration, resolver, kernel UDP, firewall, MTU and
resources, each as one check returning a :class:`~pulldoctor.model.Step`.

``inspect_host`` runs the checks (all, or a chosen subset) and builds the ``host`` report: the
checks as steps, their findings turned into ranked causes, and the answer table (image -> endpoints
in order, scheme, CA, proxy, credential source). Read-only throughout; a check that crashes is
reported as CRASHED and the others still run.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from pulldoctor.causes import RUNTIMES
from pulldoctor.config.model import PullConfig
from pulldoctor.host import kernel_udp
from pulldoctor.host.checks import BY_NAME, CHECKS, Check, checks_for_cause, relevant_checks
from pulldoctor.host.context import HostContext, run_check
from pulldoctor.model import Cause, Report, Step
from pulldoctor.reference import ImageReference, parse_reference

__all__ = ["CHECKS", "Check", "HostContext", "checks_for_cause", "inspect_host", "relevant_checks",
           "run_checks"]

_SEVERITY_CONFIDENCE = {"error": 0.8, "warning": 0.4}


def run_checks(ctx: HostContext, checks: Iterable[Check] | None = None) -> list[Step]:
    """Run ``checks`` (default: all, in registry order) against ``ctx``; never raises."""
    return [run_check(c.name, c.run, ctx) for c in (CHECKS if checks is None else checks)]


def causes_from_steps(steps: list[Step], values: Mapping[str, str | None],
                      runtime: str | None = None) -> list[Cause]:
    """One cause per code found, confidence from the worst severity, evidence merged (pure)."""
    best: dict[str, tuple[float, list[str], list[str], list[str]]] = {}
    for s in steps:
        for f in sorted(s.findings, key=lambda f: f.severity != "error"):
            if not f.code or f.severity not in _SEVERITY_CONFIDENCE:
                continue
            conf, ev, fixes, advice = best.get(f.code, (0.0, [], [], []))
            ev = ev + [f"{s.name}: {f.title}"] + [e for e in f.evidence if e != f.title]
            fixes = fixes + [x for x in f.fix if x not in fixes]
            advice = advice + [x for x in f.advice if x not in advice]
            best[f.code] = (max(conf, _SEVERITY_CONFIDENCE[f.severity]), ev, fixes, advice)
    causes: list[Cause] = []
    for code, (conf, ev, fixes, advice) in best.items():
        cause = Cause.from_catalogue(code, conf, ev[:8], values, runtime=runtime)
        cause.fix = fixes[:6] + [x for x in cause.fix if x not in fixes]  # the exact fix first
        cause.advice = advice[:6] + [x for x in cause.advice if x not in advice]
        causes.append(cause)
    return sorted(causes, key=lambda c: -c.confidence)


def inspect_host(
    image: str | ImageReference | None = None,
    runtime: str = "auto",
    *,
    root: str | Path = "/",
    proc: str | Path = "/proc",
    sys: str | Path = "/sys",
    env: Mapping[str, str] | None = None,
    only: Iterable[str] | None = None,
    registry_addresses: Iterable[str] = (),
    registry_date: str | None = None,
    udp_before: kernel_udp.UdpSnapshot | None = None,
    data_roots: list[str] | None = None,
    needed_bytes: int | None = None,
    config: PullConfig | None = None,
    deadline: float | None = None,
    node: str | None = None,
) -> Report:
    """Inspect this host (or the tree at ``root``) for why pulls of ``image`` could fail.

    ``diagnose`` passes what its probes learnt: the registry's addresses (firewall, routes), its
    ``Date`` header (clock), a :func:`kernel_udp.snapshot` taken before probing (UDP drops *during*
    the probe), the runtime's real data roots and the bytes the image needs (disk). It also
    passes the ``config`` it already discovered for the same image, runtime and root (so it is not
    read, nor dockerd asked, a second time) and its absolute ``deadline`` (``time.monotonic()``),
    which bounds every command the checks run. ``node`` names the host in ``facts.node``.
    """
    from pulldoctor.config.effective import answer_table, normalise_runtime
    from pulldoctor.fleet.node_facts import node_facts

    t0 = time.monotonic()
    ref = parse_reference(image) if isinstance(image, str) else image
    rt = normalise_runtime(runtime, root)
    ctx = HostContext(root=Path(root), proc=Path(proc), sys=Path(sys), image=ref, runtime=rt,
                      env=dict(os.environ) if env is None else dict(env),
                      registry_addresses=list(registry_addresses), registry_date=registry_date,
                      udp_before=udp_before, data_roots=data_roots, needed_bytes=needed_bytes,
                      deadline=deadline)
    if config is not None and config.runtime == rt:
        ctx._config = config
    chosen = [BY_NAME[n] for n in only] if only is not None else None
    steps = run_checks(ctx, chosen)
    cfg = ctx.pull_config()
    extra: dict[str, Any] = {}
    facts: dict[str, Any] = {"runtime": rt, "root": str(root), "euid": os.geteuid()}
    facts.update(node_facts(cfg, root=root, node=node, env=ctx.env, proc=proc))
    if cfg is not None:
        extra["config"] = cfg.to_dict()
        extra["answer_table"] = answer_table(cfg)
    values = {"image": ref.familiar if ref else None, "registry": ref.registry if ref else None,
              "host": ref.host if ref else None,
              "resolver": cfg.resolver.nameservers[0] if cfg and cfg.resolver.nameservers else None,
              "helper": next((h.helper for h in cfg.helpers if h.status.broken), None)
              if cfg else None}
    notes: list[str] = []
    if os.geteuid() != 0:
        notes.append("not running as root: firewall rules and some runtime files could not be read")
    if cfg is not None and cfg.problems:
        notes += [f"could not read: {p}" for p in cfg.problems]
    return Report(command="host", subject=ref.familiar if ref else "this host",
                  causes=causes_from_steps(steps, values, rt if rt in RUNTIMES else None),
                  facts=facts, steps=steps, notes=notes,
                  duration_s=time.monotonic() - t0, extra=extra)
