"""``diagnose``: re-walk a pull from this host, step by step, and prove the root cause.

The public entry point is :func:`diagnose`. It computes ONE absolute deadline up front and hands it
to every step (each step takes its own share, never more than what is left), so the report is
always written in time, even where the real clients hang (TCP or MTU blackholes).
"""

from __future__ import annotations

import asyncio
import re
import time
from pathlib import Path
from typing import Any

from pulldoctor.diagnose.walk import OnStep, Walk
from pulldoctor.errors import Interrupted, UsageError
from pulldoctor.model import Cause, Report

__all__ = ["diagnose", "diagnose_async"]

_PLATFORM = re.compile(r"[a-z0-9_.-]+/[a-z0-9_.-]+(?:/[a-z0-9_.-]+)?")
"""OS/ARCH[/VARIANT] as the OCI image spec spells them (linux/amd64, linux/arm/v7)."""


def _text_evidence(error_text: str | None) -> tuple[list[Cause], dict[str, Any]]:
    """Causes and facts the explainer reads from a pasted error text (if it is installed)."""
    if not error_text:
        return [], {}
    try:
        from pulldoctor.explain import explain
    except ImportError:
        return [], {"error_text": "explain is not available"}
    try:
        rep = explain(error_text)
    except Exception as exc:  # the text is supporting evidence only
        return [], {"error_text": f"could not be read: {type(exc).__name__}"}
    return list(rep.causes), {"error_text": dict(rep.facts)}


async def diagnose_async(
    image: str,
    *,
    runtime: str = "auto",
    platform: str | None = None,
    layers: bool = False,
    timeout: float = 15.0,
    error_text: str | None = None,
    root: str = "/",
    node: str | None = None,
    on_step: OnStep | None = None,
    client: str = "auto",
) -> Report:
    """The asynchronous form of :func:`diagnose` (same arguments)."""
    return await _diagnose_async(image, runtime=runtime, platform=platform, layers=layers,
                                 timeout=timeout, error_text=error_text, root=root, node=node,
                                 on_step=on_step, seen=[], client=client)


def interrupted_at(walks: list[Walk]) -> str:
    """What a Ctrl-C interrupted, in words (for the one line the CLI prints)."""
    if not walks:
        return "before the walk started (while reading the configuration)"
    walk = walks[0]
    done = f"{len(walk.steps)} step{'s' if len(walk.steps) != 1 else ''} had finished"
    if walk.interrupted:
        return f"while running {', '.join(walk.interrupted)} ({done})"
    return f"between steps ({done})"


async def _diagnose_async(
    image: str,
    *,
    runtime: str,
    platform: str | None,
    layers: bool,
    timeout: float,
    error_text: str | None,
    root: str,
    node: str | None,
    on_step: OnStep | None,
    seen: list[Walk],
    client: str = "auto",
) -> Report:
    from pulldoctor.config.effective import discover
    from pulldoctor.diagnose import engine
    from pulldoctor.fleet.node_facts import node_facts
    from pulldoctor.probes.registry_api import host_platform
    from pulldoctor.reference import parse_reference

    started = time.monotonic()
    if not timeout or timeout <= 0:
        raise UsageError("--timeout must be a positive number of seconds")
    deadline = started + timeout
    ref = parse_reference(image)
    if platform is not None and not _PLATFORM.fullmatch(platform):
        raise UsageError(f"--platform must be OS/ARCH[/VARIANT], not {platform!r}")
    if not Path(root).is_dir():
        raise UsageError(f"--root {root!r} is not a directory")
    cfg = discover(ref, runtime, root, deadline=deadline, client=client)
    want = platform or host_platform()
    text_causes, text_facts = _text_evidence(error_text)
    walk = Walk(cfg, deadline, on_step, root=root)
    seen.append(walk)
    facts: dict[str, Any] = {
        "image": str(ref), "registry": ref.registry, "runtime": cfg.runtime, "platform": want,
        "clients": [c.name for c in cfg.clients if c.walked],
        "deadline_s": timeout, "endpoints": [e.url for e in cfg.endpoints],
        "resolvers": list(cfg.resolver.nameservers), **text_facts,
    }
    facts.update(node_facts(cfg, root=root, node=node))
    try:
        async with asyncio.timeout(max(0.1, deadline - time.monotonic() - 0.1)):
            causes = await engine.run(walk, ref, platform=want, layers_full=layers,
                                      text_causes=text_causes)
    except TimeoutError:
        return engine.timed_out_report(walk, ref, started, facts)
    if walk.facts.get("addresses"):
        facts["addresses"] = walk.facts["addresses"]
    notes: list[str] = []
    if text_causes and not causes:
        guess = text_causes[0]
        notes.append(f"the error text points to {guess.code} ({guess.info.title}), but every step "
                     "works from this host now: the failure was transient, or happened on another "
                     "host or with another configuration")
    return engine.build_report(walk, ref, causes, started, facts, notes)


def diagnose(
    image: str,
    *,
    runtime: str = "auto",
    platform: str | None = None,
    layers: bool = False,
    timeout: float = 15.0,
    error_text: str | None = None,
    root: str = "/",
    node: str | None = None,
    on_step: OnStep | None = None,
    client: str = "auto",
) -> Report:
    """Re-walk the pull of ``image`` from this host and return the report (command="diagnose").

    Read-only. Ends within ``timeout`` seconds. ``on_step`` is called with each :class:`Step` as it
    finishes (for a live view). ``root`` is where the host's files are mounted (probing stays in
    this network namespace); ``node`` names the host in ``facts.node``; ``client`` says which
    process pulls (containerd: ``cli`` for ctr and nerdctl, ``cri`` for kubelet and crictl;
    ``auto`` walks each when their proxies differ). Raises
    :class:`UsageError` for a bad reference or argument, and
    :class:`~pulldoctor.errors.Interrupted` (a ``KeyboardInterrupt``) on Ctrl-C, saying which
    steps it interrupted.
    """
    seen: list[Walk] = []
    try:
        return asyncio.run(_diagnose_async(
            image, runtime=runtime, platform=platform, layers=layers, timeout=timeout,
            error_text=error_text, root=root, node=node, on_step=on_step, seen=seen,
            client=client))
    except KeyboardInterrupt:
        raise Interrupted(f"diagnose interrupted {interrupted_at(seen)}") from None
