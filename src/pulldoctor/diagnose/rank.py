"""Ranking a finished walk: which endpoint's error the runtime reports, and the causes in order.

Pure: steps (with their classifiers' verdicts) in, causes out. The *first* broken step of the
endpoint whose error the runtime reports decides the top cause (later steps were blocked, so they
prove nothing); text and host evidence only confirm it or add lower-ranked alternatives.

Which endpoint's error the runtime reports differs by runtime (docs/pull-internals.md):

* dockerd (graph-driver store): the **last** endpoint tried (``pullEndpoints``);
* containerd >= 2.0 (and dockerd's containerd image store): ``Resolve`` ranks the hosts' errors
  (transport < 404 < other 4xx/5xx; blobs are fetched only after a resolve worked) and keeps the
  **first** host's error within a rank;
* containers/image (podman, skopeo, CRI-O): the primary's (last) error, with the mirrors' errors
  printed before it (``(Mirrors also failed: [...]): primary: err``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

from pulldoctor.advice import incomplete
from pulldoctor.causes import CLIENT_ENV
from pulldoctor.diagnose import infer
from pulldoctor.diagnose.observe import (
    BlobObservation,
    CredentialHelperObservation,
    DnsObservation,
    HttpObservation,
    ManifestObservation,
    PingObservation,
    ProxyObservation,
    Stall,
    TcpObservation,
    TlsObservation,
    TokenObservation,
)
from pulldoctor.model import Cause, Outcome, Step

_WALKED = frozenset({"walked"})
"""The context of every diagnose cause: the report is itself the walk ("run diagnose" is moot)."""


@dataclass(slots=True)
class EndpointOutcome:
    """How one endpoint's walk ended."""

    url: str
    is_mirror: bool
    ok: bool
    failed: Step | None  # the first step that broke it (None: it worked, or was not walked)
    stage: str | None = None  # the stage that step belongs to ("manifest", "config blob", ...)
    walked: bool = True


def _containerd_rank(o: EndpointOutcome) -> int:
    """containerd's ``Resolve`` priority of this endpoint's failure (higher is reported)."""
    if o.stage in ("config blob", "layers"):
        return 5  # the reference resolved here: the fetch's error is what remains
    obs = o.failed.observation if o.failed is not None else None
    http = obs.http if isinstance(obs, ManifestObservation) else None
    if http is not None and http.fetched.failure is None and http.status >= 400:
        return 2 if http.status == 404 else 3
    return 1


def reported_endpoint(runtime: str, image_store: str, outcomes: Sequence[EndpointOutcome]
                      ) -> int | None:
    """Index of the endpoint whose error the runtime reports (None: nothing was walked).

    When an endpoint worked, the runtime pulled from it: that one is "reported" (its warnings).
    """
    walked = [i for i, o in enumerate(outcomes) if o.walked]
    if not walked:
        return None
    ok = [i for i in walked if outcomes[i].ok]
    if ok:
        return ok[0]
    if runtime == "containerd" or (runtime == "docker" and image_store == "containerd"):
        best = max(_containerd_rank(outcomes[i]) for i in walked)
        return next(i for i in walked if _containerd_rank(outcomes[i]) == best)
    return walked[-1]  # dockerd's graph driver and containers/image: the last one tried


def _step_values(step: Step, base: Mapping[str, str | None],
                addresses: Mapping[str, list[str]] | None = None,
                endpoints: Mapping[str, Mapping[str, str | None]] | None = None,
                ) -> dict[str, str | None]:
    """The placeholders of a cause's commands, from the step that proved it (host, port, the
    address dialled, the interface a stall went out of...); ``addresses``: what each host
    resolved to in the walk; ``endpoints``: each endpoint's own values (its URL, how curl
    trusts it), under the step's endpoint."""
    v: dict[str, str | None] = dict(base)
    if endpoints and step.endpoint is not None and step.endpoint in endpoints:
        v.update(endpoints[step.endpoint])
    obs = step.observation
    url: str | None = None
    retry = obs.retry if isinstance(obs, TlsObservation | HttpObservation) else None
    if retry is None and isinstance(obs, PingObservation | ManifestObservation | BlobObservation):
        retry = obs.http.retry
    if retry is not None and retry.route and retry.route.get("dev"):
        v["iface"] = str(retry.route["dev"])
    if isinstance(obs, DnsObservation | TcpObservation) and obs.proxy_host:
        pass  # the proxy's own host: the commands still name the registry (through the proxy)
    elif isinstance(obs, DnsObservation):
        v["host"] = obs.host
        addrs = obs.runtime_addresses or obs.result.addresses
        if addrs:
            v["address"] = addrs[0]
    elif isinstance(obs, TcpObservation):
        v.update(host=obs.host, port=str(obs.port))
        if obs.results:
            v["address"] = obs.results[0].address
    elif isinstance(obs, TlsObservation):
        url = f"https://{obs.host}:{obs.port}/"
    elif isinstance(obs, ProxyObservation):
        host, _, port = obs.target.rpartition(":")
        v.update(host=host, port=port)
    elif isinstance(obs, CredentialHelperObservation):
        broken = [h for h in obs.helpers if h.status.broken]
        if broken:
            v["helper"] = broken[0].helper
    elif isinstance(obs, Stall) and obs.target:
        url = obs.target if "://" in obs.target else None
        if url is None and ":" in obs.target:
            host, _, port = obs.target.rpartition(":")
            v.update(host=host, port=port)
    else:
        http = http_of(obs)
        url = http.fetched.url if http is not None else None
    if url:
        parts = urlsplit(url)
        v.update(host=parts.hostname, scheme=parts.scheme,
                 port=str(parts.port or (443 if parts.scheme == "https" else 80)),
                 base_url=f"{parts.scheme}://{parts.netloc}")
    name = v.get("host")
    if "address" not in v and name and addresses and addresses.get(name):
        v["address"] = addresses[name][0]
    return v


def http_of(obs: object) -> HttpObservation | None:
    if isinstance(obs, HttpObservation):
        return obs
    if isinstance(obs, PingObservation | ManifestObservation | BlobObservation):
        return obs.http
    if isinstance(obs, TokenObservation):
        return obs.http
    return None


def _step_context(step: Step) -> frozenset[str]:
    """What a cause proved by ``step`` says about the report (see :func:`pulldoctor.advice.render`):
    walked; what its evidence ruled out; the shell's environment when only ctr/nerdctl pull on
    its path."""
    ctx = _WALKED | infer.ruled_out(step)
    if step.client is not None and set(step.client.split("+")) == {"cli"}:
        ctx |= {CLIENT_ENV}
    return ctx


def first_problem(steps: Sequence[Step]) -> Step | None:
    """The first step that failed with a cause (or was cut by a stall that proves one)."""
    return next((s for s in steps if s.outcome == Outcome.PROBLEM
                 or (s.outcome == Outcome.TIMEOUT and s.cause is not None)), None)


def rank(
    steps: Sequence[Step],
    *,
    values: Mapping[str, str | None],
    text_causes: list[Cause] | None = None,
    host_causes: list[Cause] | None = None,
    runtime: str | None = None,
    addresses: Mapping[str, list[str]] | None = None,
    endpoints: Mapping[str, Mapping[str, str | None]] | None = None,
    proxies: Mapping[str, str | None] | None = None,
) -> list[Cause]:
    """The ranked causes of a finished walk.

    ``steps`` come with the reported endpoint's first (see :func:`reported_endpoint`). The first
    PROBLEM step (or TIMEOUT step whose stall proves a cause) gives the top cause; later ones
    with other codes follow with less confidence. A cause the error text also names gains
    confidence; text and host causes the walk did not see are added below, lower, unless the
    walk proved the path healthy (then text causes stay out: not reproduced).

    Commands are for ``runtime`` and filled from the step that proved each cause; only complete
    ones are kept (a diagnosis prints commands that run as printed), and none contradicts what
    the step ruled out (:func:`pulldoctor.diagnose.infer.ruled_out`). ``proxies``: the proxy of
    each client path walked (``Step.client``), for a step on that path; a step on the path of
    ctr/nerdctl alone gets their advice (the shell's environment, :data:`CLIENT_ENV`).
    """
    by_code: dict[str, Cause] = {}
    order: list[str] = []
    failing = [s for s in steps if s.cause is not None
               and s.outcome in (Outcome.PROBLEM, Outcome.TIMEOUT)]
    for i, s in enumerate(failing):
        code = s.cause
        assert code is not None
        conf = (s.confidence if s.confidence is not None else 0.9) * (1.0 if i == 0 else 0.6)
        ev = [f"[{s.name}] {e}" for e in s.evidence]
        if code in by_code:  # the same failure seen again (e.g. https then http endpoint)
            known = by_code[code].evidence
            known.extend(e for e in ev if e not in known)
            continue
        vals = _step_values(s, values, addresses, endpoints)
        if proxies and s.client is not None and s.client in proxies:
            vals["proxy"] = proxies[s.client]
        by_code[code] = Cause.from_catalogue(
            code, conf, ev, vals, runtime=runtime, context=_step_context(s), complete=True)
        order.append(code)
    walk_found = bool(order)
    for extra, weight, label in ((host_causes or [], 0.7, "host check"),
                                 (text_causes or [], 0.5, "error text")):
        for c in extra:
            if c.code in by_code:
                cur = by_code[c.code]
                cur.confidence = round(min(0.99, cur.confidence + 0.05), 2)
                cur.evidence.append(f"{label} agrees: " + "; ".join(c.evidence[:2]))
            elif walk_found or label == "host check":
                conf = c.confidence * weight
                cause = Cause.from_catalogue(
                    c.code, conf, [f"{label}: {e}" for e in c.evidence], values,
                    runtime=runtime, context=_WALKED, complete=True)
                if label == "host check":  # the check's own exact fix first (host reports it)
                    cause.fix = [*[f for f in c.fix if f not in cause.fix and not incomplete(f)],
                                 *cause.fix]
                    cause.advice = [*[a for a in c.advice if a not in cause.advice],
                                    *cause.advice]
                by_code[c.code] = cause
                order.append(c.code)
    ranked = [by_code[c] for c in order]
    if ranked:  # the walk's own first finding stays first; the rest by confidence
        head, tail = ranked[:1], sorted(ranked[1:], key=lambda c: -c.confidence)
        if not walk_found:
            head, tail = [], sorted(ranked, key=lambda c: -c.confidence)
        ranked = head + tail
    return ranked
