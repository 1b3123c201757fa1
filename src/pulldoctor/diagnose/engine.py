"""The engine: walk the pull endpoint by endpoint under one deadline, then rank.

Each endpoint is walked from scratch as its own :class:`EndpointWalk` through the declared stages
(``diagnose/stages``), in the order the runtime tries them (mirrors first). The first endpoint
that gets through ends the walk; an endpoint the runtime falls back past is a warning when a
later one works (a mirror always). Host checks run beside the walk, in a daemon thread, and are
waited for only until the deadline.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from pulldoctor.config.effective import walk_paths
from pulldoctor.config.model import Endpoint, ProxyConfig, PullClient, PullConfig
from pulldoctor.config.proxy import proxy_for
from pulldoctor.diagnose import infer
from pulldoctor.diagnose.hostchecks import HostChecks, walk_data
from pulldoctor.diagnose.observe import (
    ClientProxy,
    ConfigObservation,
    CredentialHelperObservation,
)
from pulldoctor.diagnose.rank import EndpointOutcome, first_problem, rank, reported_endpoint
from pulldoctor.diagnose.session import EndpointWalk
from pulldoctor.diagnose.stage import run_stages
from pulldoctor.diagnose.walk import Walk
from pulldoctor.model import Cause, Outcome, Report, Step
from pulldoctor.redact import redact_url
from pulldoctor.reference import ImageReference


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


def _prefetch_imports(walk: Walk | None = None) -> None:
    """Import the HTTP stack and build the first endpoint's TLS contexts on daemon threads while
    the first probes wait on the network.

    Two threads: loading a trust store releases the GIL, so the contexts are built truly beside
    the DNS and TCP steps (the TLS step then finds its context ready instead of paying ~50 ms),
    and the import, which the registry ping needs next, does not queue behind them.
    """
    import importlib

    _skip_httpx_cli()

    def imports() -> None:
        try:  # the stages first (the walk needs them as soon as the host checks have started)
            for name in ("pulldoctor.diagnose.stages.host", "pulldoctor.diagnose.stages",
                         "pulldoctor.probes.http", "pulldoctor.probes.registry_api"):
                importlib.import_module(name)
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


def _config_observation(cfg: PullConfig) -> ConfigObservation:
    shell = next((os.environ[k] for k in ("HTTPS_PROXY", "https_proxy") if os.environ.get(k)), None)
    clients = []
    for c in cfg.clients:
        proxy = c.proxy.https_proxy or c.proxy.http_proxy
        clients.append(ClientProxy(c.name, c.who, redact_url(proxy) if proxy else None,
                                   c.proxy.no_proxy, c.proxy.source, c.walked))
    return ConfigObservation(
        cfg.to_dict(), cfg.runtime, [(e.url, e.is_mirror) for e in cfg.endpoints],
        list(cfg.resolver.nameservers), list(cfg.problems),
        proxy_set=bool(cfg.proxy.https_proxy or cfg.proxy.http_proxy),
        shell_proxy=redact_url(shell) if shell else None, clients=clients, client=cfg.client)


def _http_fallback(endpoints: list[Endpoint], i: int) -> bool:
    """The runtime's next endpoint is this one's host over plain HTTP (an insecure registry)."""
    ep = endpoints[i]
    nxt = endpoints[i + 1] if i + 1 < len(endpoints) else None
    return (nxt is not None and urlsplit(ep.url).scheme == "https"
            and urlsplit(nxt.url).scheme == "http"
            and urlsplit(nxt.url).hostname == urlsplit(ep.url).hostname)


RUNTIME_LABEL = {"docker": "dockerd", "containerd": "containerd",
                 "podman": "containers/image (podman, skopeo, CRI-O)"}


def _start_checks(checks: HostChecks, tried: list[EndpointWalk]
                  ) -> Callable[[EndpointWalk], None]:
    """When an endpoint's walk has reached every host (its layers are next), the checks that
    need the walk can start; their address checks are needed only if an earlier endpoint (one the
    runtime fell back from) failed."""
    return lambda ew: checks.after_walk(walk_data([*tried, ew]), walk_failed=bool(tried))


@dataclass(slots=True)
class _ClientPath:
    """One pull path to walk: the clients whose process has these proxy settings.

    ``label`` tags the steps (``Step.client``: ``cri``, ``cli``, ``cri+cli``) when the runtime
    has more than one kind of client (containerd: ctr/nerdctl and the CRI); None otherwise.
    """

    clients: list[PullClient]
    proxy: ProxyConfig
    label: str | None

    @property
    def who(self) -> str:
        return "; ".join(c.who for c in self.clients)


def _client_paths(cfg: PullConfig) -> list[_ClientPath]:
    """One path per distinct proxy setting among the walked clients (at least one)."""
    groups = walk_paths(cfg)
    if not groups:
        return [_ClientPath([], cfg.proxy, None)]
    several = len(cfg.clients) > 1
    return [_ClientPath(g, g[0].proxy, "+".join(c.name for c in g) if several else None)
            for g in groups]


def _path_endpoints(cfg: PullConfig, path: _ClientPath) -> list[Endpoint]:
    """The endpoints as this path's process dials them (its own proxy per URL)."""
    return [replace(ep, proxy=proxy_for(ep.url, path.proxy)) for ep in cfg.endpoints]


_Walked = list[tuple[EndpointWalk | None, EndpointOutcome]]


def _not_walked(walk: Walk, eps: list[Endpoint], path: _ClientPath) -> _Walked:
    out: _Walked = []
    for rest in eps:
        walk.record(Step(f"endpoint {rest.url}", Outcome.TIMEOUT, endpoint=rest.url,
                         client=path.label,
                         summary="not walked: the deadline was near (raise --timeout)"))
        out.append((None, EndpointOutcome(rest.url, rest.is_mirror, False, None, walked=False)))
    return out


async def _walk_endpoints(walk: Walk, ref: ImageReference, path: _ClientPath, *, platform: str,
                          layers_full: bool, checks: HostChecks | None = None,
                          tried: list[EndpointWalk] | None = None) -> _Walked:
    """Walk the endpoints in the runtime's order until one works, as ``path``'s clients do; the
    ones the deadline left no time for are recorded as not walked (a TIMEOUT step each: the
    diagnosis is incomplete). ``tried``: the walks of the paths walked before this one."""
    from pulldoctor.diagnose.stages import ENDPOINT_STAGES

    eps = _path_endpoints(walk.config, path)
    done: _Walked = []
    for i, ep in enumerate(eps):
        if (done or tried) and walk.remaining() <= 0.5:
            done += _not_walked(walk, eps[i:], path)
            break
        ew = EndpointWalk(walk, ref, ep, platform, layers_full,
                          http_fallback=_http_fallback(eps, i), proxy=path.proxy,
                          pull_client=path.label)
        if checks is not None:  # start the checks that need the walk while the layers download
            ew.on_hosts_reached = _start_checks(
                checks, [*(tried or []), *(w for w, _o in done if w is not None)])
            ew.on_addresses = checks.addresses_learnt
        try:
            res = await run_stages(ENDPOINT_STAGES, ew)
        finally:
            await ew.close()
        done.append((ew, EndpointOutcome(ep.url, ep.is_mirror, res.ok, res.failed, res.stage)))
        if res.ok:
            break
    return done


def _arrange_path(walk: Walk, path: _ClientPath, done: _Walked, several: bool
                  ) -> tuple[list[dict[str, Any]], list[int]]:
    """What became of each endpoint of one path, and the order its endpoints are shown in.

    The endpoint whose error the runtime reports comes first (then the others in the order they
    were tried); the steps of an endpoint the runtime falls back past become warnings when a
    later endpoint works, and always for a mirror: they are not the cause. With ``several``
    paths, each note says whose path it is and with which proxy.
    """
    cfg = walk.config
    outcomes = [o for _ew, o in done]
    store = str(cfg.settings.get("image_store") or "graphdriver")
    r = reported_endpoint(cfg.runtime, store, outcomes)
    label = RUNTIME_LABEL.get(cfg.runtime, cfg.runtime)
    info: list[dict[str, Any]] = []
    for i, (ew, o) in enumerate(done):
        later_ok = any(x.ok for x in outcomes[i + 1:])
        if ew is not None and i != r and (o.is_mirror or later_ok):
            for st in ew.steps:  # the runtime fell back past this endpoint
                if st.outcome in (Outcome.PROBLEM, Outcome.TIMEOUT):
                    st.outcome = Outcome.WARNING
                    st.summary = f"(fell back from {ew.url}) {st.summary}"
        if not o.walked:
            state, note = "not_walked", "not walked: the deadline was near (raise --timeout)"
        elif o.ok:
            state, note = "ok", "the pull works from here"
        elif i == r:
            state, note = "failed", f"the error {label} reports comes from here"
        elif ew is not None and ew.ended:
            state, note = "fell_back", f"{label} falls back to its next endpoint from here"
        else:
            state, note = "fell_back", f"failed; {label} tries the next endpoint"
            if cfg.runtime == "podman" and o.is_mirror:
                note += " (and prints this error too, under 'Mirrors also failed')"
        entry: dict[str, Any] = {"url": o.url, "mirror": o.is_mirror, "outcome": state,
                                 "reported": i == r, "note": note}
        if path.label is not None:
            entry["client"] = path.label
        if several:
            proxy = path.proxy.https_proxy or path.proxy.http_proxy
            entry["note"] = (f"as {path.who}; proxy "
                             f"{redact_url(proxy) if proxy else 'none (direct)'}: {note}")
        info.append(entry)
    return info, ([r] if r is not None else []) + [i for i in range(len(done)) if i != r]


def _arrange(walk: Walk, walked: list[tuple[_ClientPath, _Walked]]) -> list[dict[str, Any]]:
    """Order the steps as the report shows them and say what became of each endpoint.

    Per path as :func:`_arrange_path` says; with several client paths, those whose pull fails
    come first (in walk order), so the top cause is a failing path's.
    """
    arranged = [(path, done, *_arrange_path(walk, path, done, len(walked) > 1))
                for path, done in walked]
    arranged.sort(key=lambda a: any(o.ok for _ew, o in a[1]))  # stable: failing paths first
    by_endpoint: dict[tuple[str, str | None], list[Step]] = {}
    for st in walk.steps:
        by_endpoint.setdefault((st.endpoint or "", st.client), []).append(st)
    whole = by_endpoint.pop(("", None), [])
    walk.steps[:] = whole + [st for path, done, _info, order in arranged for i in order
                             for st in by_endpoint.get((done[i][1].url, path.label), [])]
    if len(walked) > 1:  # the verdict line cannot say whose pull fails: a note per path does
        walk.facts["client_notes"] = [_path_note(path, done) for path, done, _i, _o in arranged]
    return [info[i] for _p, _d, info, order in arranged for i in order]


def _path_note(path: _ClientPath, done: _Walked) -> str:
    proxy = path.proxy.https_proxy or path.proxy.http_proxy
    state = ("the pull works" if any(o.ok for _ew, o in done) else
             "not walked (the deadline)" if not any(o.walked for _ew, o in done) else
             "the pull fails")
    return (f"{path.who} (proxy {redact_url(proxy) if proxy else 'none: direct'}): {state}")


def _record_helpers(walk: Walk) -> None:
    """The credential helpers the configuration names (asked while it was read), classified with
    what the walk learnt about anonymous access: recorded once the walk is done, and shown first
    with the configuration (a helper comes before any network step)."""
    if not walk.config.helpers:
        return
    obs = CredentialHelperObservation(walk.config.runtime, list(walk.config.helpers),
                                      infer.anonymous_refused(walk.steps))
    walk.record_observed("credential helper", obs, infer.classify_credential_helpers(obs),
                         duration_s=sum(h.duration_s for h in obs.helpers))


async def run(walk: Walk, ref: ImageReference, *, platform: str, layers_full: bool,
              text_causes: list[Cause]) -> list[Cause]:
    """Walk every endpoint in order until one works, then rank the causes."""
    _prefetch_imports(walk)
    checks = HostChecks(walk.config, ref, walk.root, walk.deadline)
    cobs = _config_observation(walk.config)
    walk.record_observed("config", cobs, infer.classify_config(cobs), duration_s=0.0)
    if not walk.config.endpoints:
        walk.record_observed("endpoints", cobs, infer.classify_endpoints(cobs), duration_s=0.0)
    walked: list[tuple[_ClientPath, _Walked]] = []
    for path in _client_paths(walk.config):
        tried = [ew for _p, done in walked for ew, _o in done if ew is not None]
        if walked and walk.remaining() <= 0.5:
            walked.append((path, _not_walked(walk, _path_endpoints(walk.config, path), path)))
            continue
        walked.append((path, await _walk_endpoints(walk, ref, path, platform=platform,
                                                   layers_full=layers_full, checks=checks,
                                                   tried=tried)))
    _record_helpers(walk)
    walk.facts["walked_endpoints"] = _arrange(walk, walked)
    done = [d for _p, path_done in walked for d in path_done]
    checks.after_walk(walk_data([ew for ew, _o in done if ew is not None]))
    host_causes = checks.collect(walk, walk_found=first_problem(walk.steps) is not None)
    problems = infer.config_problems(cobs)
    if problems.code is not None:
        host_causes.append(Cause.from_catalogue(problems.code, problems.confidence,
                                                problems.evidence))
    addresses = {h: a for ew, _o in done if ew is not None for h, a in ew.pins.items() if a}
    walk.facts["addresses"] = addresses
    proxies = {p.label: p.proxy.https_proxy or p.proxy.http_proxy for p, _d in walked
               if p.label is not None}
    return rank(walk.steps, values=_base_values(walk.config, ref, walk.root),
                text_causes=text_causes, host_causes=host_causes, runtime=walk.config.runtime,
                addresses=addresses, endpoints={ep.url: _endpoint_values(ep)
                                                for ep in walk.config.endpoints},
                proxies={k: redact_url(v) if v else None for k, v in proxies.items()})


def _endpoint_values(ep: Endpoint) -> dict[str, str | None]:
    """One endpoint's own values for commands: its URL, and how curl must trust it (its CA from
    certs.d / hosts.toml, or -k for an endpoint the runtime does not verify)."""
    parts = urlsplit(ep.url)
    tls = "-k " if ep.insecure or ep.skip_verify else \
        (f"--cacert {ep.ca_files[0]} " if ep.ca_files else "")
    return {"base_url": f"{parts.scheme}://{parts.netloc}", "scheme": parts.scheme,
            "curl_tls": tls}


def _existing(path: str, root: str) -> str:
    """``path`` or its nearest existing parent (``df`` needs one; the data root may not exist
    before the runtime's first pull)."""
    p = Path(path)
    while str(p) != p.anchor and not (Path(root) / str(p).lstrip("/")).exists():
        p = p.parent
    return str(p)


def _base_values(cfg: PullConfig, ref: ImageReference, root: str = "/") -> dict[str, str | None]:
    """What every cause's commands may use before a step adds its own (host, port...)."""
    proxy = cfg.proxy.https_proxy or cfg.proxy.http_proxy
    data_root = str(cfg.settings.get("data_root") or "")
    return {
        "image": ref.familiar, "registry": ref.registry, "host": ref.host,
        "port": str(ref.port or 443), "registry_repo": f"{ref.registry}/{ref.repository}",
        # Go asks 127.0.0.1 (and ::1) when resolv.conf names no server
        "resolver": next(iter(cfg.resolver.nameservers), "127.0.0.1"),
        "data_root": _existing(data_root, root) if data_root else None,
        "proxy": redact_url(proxy) if proxy else None,
    }


def build_report(walk: Walk, ref: ImageReference, causes: list[Cause], started: float,
                 facts: dict[str, Any], notes: list[str]) -> Report:
    rep = Report(command="diagnose", subject=ref.familiar, causes=causes, steps=walk.steps,
                 facts=facts, notes=[*walk.facts.get("client_notes", []), *notes])
    if walk.facts.get("walked_endpoints"):
        rep.extra["endpoints"] = walk.facts["walked_endpoints"]
    rep.duration_s = time.monotonic() - started
    if not causes and rep.healthy:
        rep.notes.append(f"the pull of {ref.familiar} works from this host: every step passed")
    return rep


def timed_out_report(walk: Walk, ref: ImageReference, started: float,
                     facts: dict[str, Any]) -> Report:
    """What the report says when the absolute deadline cut the walk short (the steps under way
    were recorded as stalls, with what they waited for)."""
    _record_helpers(walk)
    walk.steps.sort(key=lambda s: s.endpoint is not None)  # stable: the configuration's first
    causes = rank(walk.steps, values=_base_values(walk.config, ref, walk.root),
                  runtime=walk.config.runtime)
    walk.record(Step("deadline", Outcome.TIMEOUT,
                     summary="the absolute deadline passed before the walk finished"))
    return build_report(walk, ref, causes, started, facts,
                        ["the walk was cut short by the deadline (--timeout)"])

