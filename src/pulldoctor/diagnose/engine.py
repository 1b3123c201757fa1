"""The engine: walk the pull endpoint by endpoint under one deadline, then infer.

Order of a walk, per endpoint (mirrors first, as the runtime tries them): reach the host (DNS, TCP,
TLS or the proxy), ``GET /v2/``, token, manifest, platform, config blob (redirects reached as hosts of
their own), layers. The first endpoint that gets through ends the walk; a mirror that failed before
it is a warning, because the runtime fell back past it. Host checks run beside the walk, in a daemon
thread, and are waited for only until the deadline.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from pulldoctor.causes import Code
from pulldoctor.config.model import Endpoint, PullConfig
from pulldoctor.diagnose import infer
from pulldoctor.diagnose.reach import reach
from pulldoctor.diagnose.walk import Walk, broken
from pulldoctor.model import Cause, Outcome, Report, Step
from pulldoctor.probes import registry_api as rp
from pulldoctor.redact import redact_url
from pulldoctor.reference import ImageReference

if TYPE_CHECKING:
    from pulldoctor.diagnose.registry_steps import Session

REGISTRY_STEPS = ["registry ping", "token", "manifest", "platform", "config blob", "layers"]


async def walk_endpoint(walk: Walk, ref: ImageReference, ep: Endpoint, *, platform: str,
                        layers_full: bool) -> bool:
    """Walk one endpoint to the last layer; True when nothing broke."""
    insecure = ep.insecure or ep.skip_verify
    r = await reach(walk, ep.url, ca_files=list(ep.ca_files), insecure=insecure)
    if not r.ok:
        walk.block(REGISTRY_STEPS, r.failed or "reach")
        return False
    from pulldoctor.diagnose import registry_steps as rs  # httpx: imported while DNS/TCP/TLS ran

    parts = urlsplit(ep.url)
    origin = f"{'http' if r.plain_http else parts.scheme}://{parts.netloc}"
    sess = rs.Session(walk, ref, ep, origin, rp.accept_header(walk.config.runtime), platform,
                      layers_full)
    try:
        return await _registry_walk(sess)
    finally:
        await sess.close()


async def _registry_walk(sess: Session) -> bool:
    from pulldoctor.diagnose import registry_steps as rs

    walk = sess.walk
    s = await rs.ping(sess)
    if broken(s):
        walk.block(REGISTRY_STEPS[1:], s.name)
        return False
    t = await rs.authenticate(sess)
    if t is not None and (broken(t) or t.outcome == Outcome.BLOCKED):
        walk.block(REGISTRY_STEPS[2:], t.name)
        return False
    s, man = await rs.get_manifest(sess, sess.ref.reference, "manifest")
    if man is None:
        walk.block(REGISTRY_STEPS[3:], s.name)
        return False
    if man.is_index:
        p, chosen = await rs.choose_platform(sess, man)
        if broken(p):
            walk.block(REGISTRY_STEPS[4:], p.name)
            return False
        size = chosen.get("size")
        s, man = await rs.get_manifest(sess, str(chosen.get("digest")), "platform manifest",
                                       size if isinstance(size, int) else None)
        if man is None:
            walk.block(REGISTRY_STEPS[4:], s.name)
            return False
    if man.config is None:
        walk.block(REGISTRY_STEPS[4:], s.name)
        return False
    c = await rs.get_blob(sess, man.config, "config blob", cap=6.0)
    if broken(c) or c.outcome == Outcome.BLOCKED:
        walk.block(["layers"], c.name)
        return False
    layer_steps = await rs.layers(sess, man)
    return rs.any_broken(layer_steps) is None


def _skip_httpx_cli() -> None:
    """Keep ``import httpx`` from importing its command-line entry point.

    httpx imports ``httpx._main`` (rich, pygments, click) whenever those happen to be installed,
    which they are here: ~100 ms of CPU for ``httpx.main``, a CLI pulldoctor never calls. A ``None``
    entry in ``sys.modules`` makes that import fail the way httpx expects when its ``[cli]`` extra
    is missing (it then defines a stub ``main``); nothing else in httpx is affected. No-op when
    httpx was already imported.
    """
    import sys

    if "httpx" not in sys.modules:
        sys.modules.setdefault("httpx._main", None)  # type: ignore[arg-type]


def prefetch_imports(walk: Walk | None = None) -> None:
    """Import the HTTP stack and build the first endpoint's TLS contexts on daemon threads while
    the first probes wait on the network.

    Two threads: loading a trust store releases the GIL, so the contexts are built truly beside
    the DNS and TCP steps (the TLS step then finds its context ready instead of paying ~50 ms),
    and the import, which the registry ping needs next, does not queue behind them.
    """
    import importlib

    _skip_httpx_cli()

    def imports() -> None:
        try:
            importlib.import_module("pulldoctor.diagnose.registry_steps")
        except Exception:  # the walk imports it again and reports any real error
            pass

    def contexts(ep: Endpoint, ca_files: list[str]) -> None:
        from pulldoctor.probes.tls import prewarm_contexts

        prewarm_contexts(ca_files, verify=not (ep.insecure or ep.skip_verify))

    threading.Thread(target=imports, name="pulldoctor-prefetch", daemon=True).start()
    if walk is not None and walk.config.endpoints:
        ep = walk.config.endpoints[0]
        if urlsplit(ep.url).scheme == "https":
            threading.Thread(target=contexts, args=(ep, walk.rooted(list(ep.ca_files))),
                             name="pulldoctor-tls-contexts", daemon=True).start()


def _start_host_checks(cfg: PullConfig, ref: ImageReference, root: str, deadline: float
                       ) -> tuple[threading.Thread | None, list[Any]]:
    """Run ``pulldoctor.host.inspect_host`` (if that package is there) in a daemon thread.

    It is given the walk's configuration (no second discovery) and deadline (no command outlives
    the report). ``box`` is ``[start, result, end]`` once it is done: the step's duration is the
    checks' own, not the time the walk took before it collected them.
    """
    try:
        from pulldoctor import host as hostpkg
    except ImportError:
        return None, []
    fn: Callable[..., Any] | None = getattr(hostpkg, "inspect_host", None)
    if fn is None:
        return None, []
    box: list[Any] = [time.monotonic()]

    def target() -> None:
        try:
            res: Any = fn(str(ref), runtime=cfg.runtime, root=root, config=cfg,
                          deadline=deadline)
        except Exception as exc:  # recorded as a crashed step, never spoils the walk
            res = exc
        box.extend([res, time.monotonic()])  # one call: the collector sees both or neither

    th = threading.Thread(target=target, name="pulldoctor-host-checks", daemon=True)
    th.start()
    return th, box


HOST_GRACE_S = 1.0
"""How long host checks are still waited for once the walk has proven its own cause."""


def _host_step(th: threading.Thread | None, box: list[Any], walk: Walk, *, walk_found: bool
               ) -> tuple[Step | None, list[Cause]]:
    """Collect the host checks: until the deadline when the walk found nothing (they are then the
    only evidence left), briefly when the walk already proved a cause (they only support it)."""
    if th is None:
        return None, []
    wait = max(0.0, walk.remaining() - 0.2)
    th.join(min(wait, HOST_GRACE_S) if walk_found else wait)
    step = Step("host checks", Outcome.OK, data={"kind": "host"})
    step.duration_s = (float(box[2]) if len(box) > 2 else time.monotonic()) - float(box[0])
    if len(box) < 2:
        step.outcome, step.summary = Outcome.SKIPPED, "host checks were still running (not needed)"
        if not walk_found:
            step.outcome, step.summary = Outcome.TIMEOUT, "host checks did not finish in time"
        return walk.record(step), []
    res = box[1]
    if isinstance(res, Exception):
        step.outcome, step.summary = Outcome.CRASHED, f"host checks failed: {type(res).__name__}"
        return walk.record(step), []
    causes = [c for c in getattr(res, "causes", []) if isinstance(c, Cause)]
    step.summary = ("host checks found: " + ", ".join(c.code for c in causes)) if causes \
        else "host checks found nothing wrong"
    step.evidence = [f"{c.code}: {e}" for c in causes for e in c.evidence[:3]]
    if causes:
        step.outcome = Outcome.WARNING
    walk.record(step)
    return step, causes


def _config_step(walk: Walk) -> None:
    cfg = walk.config
    ev = [f"runtime {cfg.runtime}; endpoints in order: "
          + ", ".join(e.url + (" (mirror)" if e.is_mirror else "") for e in cfg.endpoints),
          f"resolvers: {', '.join(cfg.resolver.nameservers) or '(none: Go uses 127.0.0.1, ::1)'}"]
    if cfg.proxy.https_proxy or cfg.proxy.http_proxy:
        ev.append("proxy: " + str(cfg.proxy.to_dict()))
    ev.extend(f"problem: {p}" for p in cfg.problems)
    shell = next((os.environ[k] for k in ("HTTPS_PROXY", "https_proxy") if os.environ.get(k)), None)
    warn = bool(cfg.problems)
    if shell and cfg.runtime in ("docker", "containerd") and not cfg.proxy.https_proxy:
        warn = True  # a classic: the proxy is set in the shell, where the daemon never sees it
        ev.append(f"this shell sets HTTPS_PROXY={redact_url(shell)}, but {cfg.runtime}d does not "
                  "see it (only daemon.json \"proxies\" or the service's environment apply); "
                  "the walk goes direct, as the daemon does")
    step = Step("config", Outcome.WARNING if warn else Outcome.OK, evidence=ev,
                summary=ev[0], data={"kind": "config", **cfg.to_dict()})
    walk.record(step)


async def run(walk: Walk, ref: ImageReference, *, platform: str, layers_full: bool,
              text_causes: list[Cause]) -> list[Cause]:
    """Walk every endpoint in order until one works, then rank the causes."""
    prefetch_imports(walk)
    th, box = _start_host_checks(walk.config, ref, walk.root, walk.deadline)
    _config_step(walk)
    segments: list[tuple[Endpoint, int, int, bool]] = []
    for ep in walk.config.endpoints:
        start = len(walk.steps)
        try:
            ok = await walk_endpoint(walk, ref, ep, platform=platform, layers_full=layers_full)
        except TimeoutError:
            ok = False
        segments.append((ep, start, len(walk.steps), ok))
        if ok or walk.remaining() <= 0.5:
            break
    if not walk.config.endpoints:
        walk.record(Step("endpoints", Outcome.PROBLEM, summary="no endpoint to pull from",
                         data={"cause": Code.DAEMON_CONFIG, "confidence": 0.6},
                         evidence=["the configuration leaves no endpoint for this image"]))
    # Steps of endpoints the runtime fell back past are warnings (a mirror always; any endpoint
    # when a later one worked); the error the runtime reports comes from the last endpoint it
    # tried, so that one is ranked first.
    last = segments[-1] if segments else None
    ordered: list[Step] = []
    for ep, a, b, _ok in segments:
        if last is not None and (ep, a, b) != last[:3]:
            for st in walk.steps[a:b]:
                if st.outcome == Outcome.PROBLEM and (ep.is_mirror or last[3]):
                    st.outcome = Outcome.WARNING
                    st.summary = f"(fell back from {ep.url}) {st.summary}"
    if last is not None:
        ordered = walk.steps[last[1]:last[2]] + walk.steps[: last[1]] + walk.steps[last[2]:]
    else:
        ordered = list(walk.steps)
    _hs, host_causes = _host_step(th, box, walk,
                                  walk_found=infer.first_problem(ordered) is not None)
    if walk.config.problems:
        host_causes = [*host_causes, Cause.from_catalogue(
            Code.DAEMON_CONFIG, 0.6, [f"configuration problem: {p}" for p in walk.config.problems])]
    values: dict[str, str | None] = {
        "image": ref.familiar, "registry": ref.registry, "host": ref.host,
        "port": str(ref.port or 443),
        "resolver": next(iter(walk.config.resolver.nameservers), None),
        "registry_repo": f"{ref.registry}/{ref.repository}",
    }
    problem = infer.first_problem(ordered)
    if problem is not None:
        values["host"] = str(problem.data.get("host") or urlsplit(
            str(problem.data.get("url", ""))).hostname or ref.host)
        addrs = problem.data.get("addresses") or [r.get("address") for r in
                                                  problem.data.get("results") or []]
        if addrs:
            values["address"] = str(addrs[0])
    return infer.rank(ordered, values=values, text_causes=text_causes, host_causes=host_causes)


def build_report(walk: Walk, ref: ImageReference, causes: list[Cause], started: float,
                 facts: dict[str, Any], notes: list[str]) -> Report:
    rep = Report(command="diagnose", subject=ref.familiar, causes=causes, steps=walk.steps,
                 facts=facts, notes=notes)
    rep.duration_s = time.monotonic() - started
    if not causes and rep.healthy:
        rep.notes.append(f"the pull of {ref.familiar} works from this host: every step passed")
    return rep


def timed_out_report(walk: Walk, ref: ImageReference, started: float,
                     facts: dict[str, Any]) -> Report:
    """What the report says when the absolute deadline cut the walk short."""
    causes = infer.rank(walk.steps, values={"image": ref.familiar, "registry": ref.registry,
                                            "host": ref.host})
    walk.record(Step("deadline", Outcome.TIMEOUT,
                     summary="the absolute deadline passed before the walk finished"))
    return build_report(walk, ref, causes, started, facts,
                        ["the walk was cut short by the deadline (--timeout)"])

