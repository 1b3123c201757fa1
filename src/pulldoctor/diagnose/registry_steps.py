"""The registry half of the walk: ping, token, manifest, platform, config blob, layers.

Each function is one recorded step. Credentials go only to the registry's own origin and its token
realm, only over TLS unless the endpoint is configured insecure, and never to a redirect target:
redirects are followed by hand so that the CDN host is resolved, dialled and handshaken as steps of
its own, and so that ``Authorization`` is provably dropped (as moby and containerd drop it).
"""

from __future__ import annotations

import base64
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import httpx

from pulldoctor.causes import Code
from pulldoctor.config.model import Endpoint
from pulldoctor.diagnose import infer
from pulldoctor.diagnose.reach import proxy_for, reach
from pulldoctor.diagnose.timing import cut_by_deadline, first_try, measured_rtt, step_cap
from pulldoctor.diagnose.walk import Walk, broken
from pulldoctor.model import Outcome, Step
from pulldoctor.probes import http as hp
from pulldoctor.probes import mtu
from pulldoctor.probes import registry_api as rp
from pulldoctor.probes.tls import client_context
from pulldoctor.redact import redact_url, register_secret
from pulldoctor.reference import ImageReference

VERIFY_BUDGET = 16 * 1024 * 1024
"""Layers are streamed and verified without ``--layers`` when all of them together are this small."""


@dataclass(slots=True)
class Session:
    """One endpoint's registry conversation."""

    walk: Walk
    ref: ImageReference
    endpoint: Endpoint
    origin: str  # scheme://host[:port]
    accept: str
    platform: str
    layers_full: bool = False
    auth: str | None = None  # an Authorization header value for ``origin`` only
    creds_accepted: bool = False
    challenges: list[hp.Challenge] = field(default_factory=list)
    clients: dict[tuple[str | None, int | None], httpx.AsyncClient] = field(default_factory=dict)

    @property
    def base(self) -> str:
        return self.origin + (self.endpoint.path_prefix or "/v2")

    def client(self, url: str, mss: int | None = None) -> httpx.AsyncClient:
        proxy = proxy_for(url, self.walk.config.proxy)
        key = (proxy, mss)
        if key not in self.clients:
            insecure = self.endpoint.insecure or self.endpoint.skip_verify
            ctx = client_context(self.walk.rooted(list(self.endpoint.ca_files)),
                                 verify=not insecure)
            self.clients[key] = hp.make_client(self.walk.pins, ssl_context=ctx, proxy=proxy, mss=mss)
        return self.clients[key]

    def headers(self, url: str, **extra: str) -> dict[str, str]:
        h = dict(extra)
        if self.auth and rp.same_origin(url, self.origin):
            h["Authorization"] = self.auth
        return h

    async def close(self) -> None:
        for c in self.clients.values():
            await c.aclose()


def _http_data(f: hp.Fetched, what: str) -> dict[str, Any]:
    d: dict[str, Any] = {"kind": "http", "what": what, **f.to_dict()}
    if f.status >= 400:
        d.update(rp.parse_registry_errors(f.status, f.body, f.url).to_dict())
    d["rate_limit"] = rp.rate_limit(f.headers)
    if f.headers.get("date"):
        d["date"] = f.headers["date"]
    return d


async def _fetch_clamped_retry(sess: Session, url: str, headers: dict[str, str], f: hp.Fetched,
                               data: dict[str, Any], budget: float, method: str = "GET") -> None:
    """After a stall, repeat the request with small TCP segments: proves (or rules out) MTU."""
    if f.failure is None or f.failure.kind not in ("stall", "read_timeout"):
        return
    left = min(budget, sess.walk.budget(budget)) - 0.15
    if left < 0.5:
        return
    g = await hp.fetch(sess.client(url, mss=mtu.SMALL_MSS), method, url, headers=headers,
                       timeout=left, read_timeout=min(2.5, left))
    data["clamped_mss"] = mtu.SMALL_MSS
    data["clamped_ok"] = g.failure is None and 200 <= g.status < 300
    data["clamped"] = g.to_dict()
    data["interface_mtus"] = mtu.interface_mtus()
    host = urlsplit(url).hostname or ""
    if sess.walk.pins.get(host):
        data["route"] = await mtu.route_get(sess.walk.pins[host][0], 1.0)


async def ping(sess: Session) -> Step:
    url = sess.base + "/"
    rtt = measured_rtt(sess.walk.steps)

    async def body(step: Step, timeout: float) -> infer.Verdict:
        if cut := cut_by_deadline(timeout, rtt):
            return cut
        first = first_try(timeout, rtt)  # the rest is for the clamped retry after a stall
        f = await hp.fetch(sess.client(url), "GET", url, timeout=first,
                           read_timeout=min(2.5, first), keep_body=64 * 1024)
        step.data.update(_http_data(f, "ping"))
        await _fetch_clamped_retry(sess, url, {}, f, step.data, timeout - f.seconds)
        sess.challenges = hp.parse_www_authenticate(f.headers.get("www-authenticate", ""))
        step.data["challenges"] = [{"scheme": c.scheme, **c.params} for c in sess.challenges]
        return infer.classify_http(step.data, what="ping")

    return await sess.walk.run(f"registry ping {sess.origin}", step_cap(5.0, rtt), body)


def _credential(sess: Session) -> tuple[str, str] | None:
    cfg = sess.walk.config
    host = urlsplit(sess.origin).netloc
    for key in (host, sess.ref.registry, sess.ref.api_host,
                "https://index.docker.io/v1/" if sess.ref.is_docker_hub else ""):
        cred = cfg.credential_for(key) if key else None
        if cred is not None and (cred.password or cred.identity_token):
            register_secret(cred.password)
            register_secret(cred.identity_token)
            return cred.username or "<token>", (cred.password or cred.identity_token or "")
    return None


def _basic(user: str, secret: str) -> str:
    value = "Basic " + base64.b64encode(f"{user}:{secret}".encode()).decode()
    register_secret(value.split(" ", 1)[1])
    return value


async def authenticate(sess: Session) -> Step | None:
    """Get a token (or Basic auth) as the runtime would; None when the registry wants none."""
    bearer = next((c for c in sess.challenges if c.scheme == "bearer"), None)
    basic = next((c for c in sess.challenges if c.scheme == "basic"), None)
    cred = _credential(sess)
    secure = sess.origin.startswith("https://") or sess.endpoint.insecure
    if bearer is None:
        if basic is not None and cred is not None and secure:
            sess.auth, sess.creds_accepted = _basic(*cred), False
        return None
    realm = bearer.params.get("realm", "")
    if not realm.startswith(("https://", "http://")):
        s = Step("token", Outcome.PROBLEM, evidence=[f"challenge has no usable realm: {realm!r}"],
                 data={"kind": "token", "cause": Code.REGISTRY_SERVER_ERROR, "confidence": 0.5})
        return sess.walk.record(s)
    rhost = urlsplit(realm).hostname or ""
    if not sess.walk.pins.get(rhost):
        r = await reach(sess.walk, realm, ca_files=list(sess.endpoint.ca_files),
                        insecure=sess.endpoint.insecure, role="token realm")
        if not r.ok:
            return sess.walk.record(infer.blocked(f"token {rhost}", r.failed or "reach"))
    url = rp.token_url(realm, bearer.params.get("service"), sess.ref.repository)
    send_creds = cred is not None and (realm.startswith("https://") or sess.endpoint.insecure)
    rtt = measured_rtt(sess.walk.steps)

    async def body(step: Step, timeout: float) -> infer.Verdict:
        if cut := cut_by_deadline(timeout, rtt):
            return cut
        t0 = time.monotonic()
        step.data.update({"kind": "token", "realm": redact_url(realm),
                          "with_credentials": send_creds, "credentials_found": cred is not None})
        if send_creds:  # anonymous first: shows what the credentials change (evidence only)
            part = first_try(timeout, rtt, share=1 / 3)
            anon = await hp.fetch(sess.client(url), "GET", url, timeout=part,
                                  read_timeout=min(2.0, part), keep_body=256 * 1024)
            atok = rp.read_token(anon.body) if anon.status == 200 else None
            register_secret(atok)
            aacc = rp.token_access(atok) if atok else None
            step.data["anonymous"] = {"status": anon.status, "token": atok is not None,
                                      "grants_pull": None if aacc is None else
                                      rp.grants_pull(aacc, sess.ref.repository)}
        headers = {"Authorization": _basic(*cred)} if send_creds and cred else {}
        left = max(0.5, timeout - (time.monotonic() - t0))
        f = await hp.fetch(sess.client(url), "GET", url, headers=headers, timeout=left,
                           read_timeout=min(3.0, left), keep_body=256 * 1024)
        step.data.update(_http_data(f, "token"))
        v = infer.classify_http(step.data, what="token")
        if v.outcome != Outcome.OK:
            if f.status == 401:
                v.code = Code.REGISTRY_UNAUTHORIZED
                v.evidence.append("the token server rejected the credentials" if send_creds
                                  else "the token server wants credentials and none are configured")
            return v
        token = rp.read_token(f.body)
        if not token:
            return infer.Verdict(Outcome.PROBLEM, Code.REGISTRY_SERVER_ERROR,
                                 ["token response has no token/access_token"], 0.6)
        register_secret(token)
        sess.auth, sess.creds_accepted = "Bearer " + token, send_creds
        access = rp.token_access(token)
        if access is not None:
            grants = rp.grants_pull(access, sess.ref.repository)
            step.data["token_grants_pull"] = grants
            v.evidence.append(f"token {'grants' if grants else 'does NOT grant'} pull on "
                              f"{sess.ref.repository}"
                              + (" (authenticated)" if send_creds else " (anonymous)"))
        anon_info = step.data.get("anonymous") or {}
        if anon_info.get("grants_pull") is not None:
            v.evidence.append("an anonymous token " + ("also grants" if anon_info["grants_pull"]
                                                       else "does not grant") + " pull")
        return v

    return await sess.walk.run(f"token {rhost}", step_cap(5.0, rtt), body)


async def get_manifest(sess: Session, reference: str, what: str,
                       expected_size: int | None = None) -> tuple[Step, rp.ManifestInfo | None]:
    url = rp.manifest_url(sess.base, sess.ref.repository, reference)
    info: list[rp.ManifestInfo] = []
    rtt = measured_rtt(sess.walk.steps)

    async def body(step: Step, timeout: float) -> infer.Verdict:
        if cut := cut_by_deadline(timeout, rtt):
            return cut
        first = first_try(timeout, rtt)
        f = await hp.fetch(sess.client(url), "GET", url,
                           headers=sess.headers(url, Accept=sess.accept), timeout=first,
                           read_timeout=min(2.5, first))
        step.data.update(_http_data(f, what))
        await _fetch_clamped_retry(sess, url, sess.headers(url, Accept=sess.accept), f, step.data,
                                   timeout - f.seconds)
        v = infer.classify_http(step.data, what="manifest", authenticated=sess.creds_accepted)
        if v.outcome != Outcome.OK:
            return v
        expected = reference if reference.startswith("sha256:") else \
            f.headers.get("docker-content-digest")
        d = infer.classify_digest(what, expected, f.sha256, expected_size, f.size)
        if d.outcome != Outcome.OK:
            return d
        m = rp.read_manifest(f.body, f.headers.get("content-type", ""))
        step.data.update({"media_type": m.media_type, "digest": f.sha256})
        if m.unsupported:
            return infer.Verdict(Outcome.PROBLEM, Code.IMAGE_UNSUPPORTED, [f"{what}: {m.unsupported}"])
        info.append(m)
        limits = [f"{k}: {v}" for k, v in rp.rate_limit(f.headers).items()]
        return infer.Verdict(Outcome.OK, evidence=[f"{what}: {m.media_type} {f.sha256}",
                                                   *d.evidence, *limits])

    step = await sess.walk.run(what, step_cap(5.0, rtt), body)
    return step, (info[0] if info else None)


async def choose_platform(sess: Session, index: rp.ManifestInfo) -> tuple[Step, dict[str, Any]]:
    chosen, offered = rp.choose_platform(index.doc, sess.platform)
    s = Step("platform", Outcome.OK, data={"kind": "platform", "wanted": sess.platform,
                                           "offered": offered})
    if chosen is None:
        s.outcome = Outcome.PROBLEM
        s.data.update({"cause": Code.IMAGE_PLATFORM_MISMATCH, "confidence": 0.97})
        s.evidence = [f"the index offers {', '.join(offered) or 'no platform'}; "
                      f"this pull wants {sess.platform}"]
    else:
        s.evidence = [f"{sess.platform} -> {chosen.get('digest')}"]
    s.summary = s.evidence[0]
    sess.walk.record(s)
    return s, (chosen or {})


async def get_blob(sess: Session, desc: dict[str, Any], what: str, *, cap: float,
                   method: str = "GET") -> Step:
    """Fetch (or HEAD) a blob, following redirects by hand, verifying digest and size."""
    digest, size = str(desc.get("digest", "")), desc.get("size")
    url = rp.blob_url(sess.base, sess.ref.repository, digest)
    for _hop in range(5):
        probe, loc = await _blob_request(sess, url, digest, size, what, cap, method)
        if probe.outcome != Outcome.OK or not loc:
            return probe
        target = rp.resolve_location(url, str(loc))
        thost = urlsplit(target).hostname or ""
        if method == "HEAD":
            return probe  # a redirect answers a HEAD: the blob exists
        if not sess.walk.pins.get(thost):
            r = await reach(sess.walk, target, ca_files=list(sess.endpoint.ca_files),
                            insecure=sess.endpoint.insecure, role="blob redirect")
            if not r.ok:
                return sess.walk.record(infer.blocked(what, r.failed or "reach"))
        url = target
    return probe


async def _blob_request(sess: Session, url: str, digest: str, size: Any, what: str, cap: float,
                        method: str) -> tuple[Step, str | None]:
    location: list[str] = []
    rtt = measured_rtt(sess.walk.steps)

    async def body(step: Step, timeout: float) -> infer.Verdict:
        if cut := cut_by_deadline(timeout, rtt):
            return cut
        headers = sess.headers(url)  # only the registry's own origin gets Authorization
        first = first_try(timeout, rtt)
        f = await hp.fetch(sess.client(url), method, url, headers=headers, timeout=first,
                           read_timeout=min(3.0, first), keep_body=0)
        step.data.update(_http_data(f, what))
        step.data["authorization_sent"] = "Authorization" in headers
        await _fetch_clamped_retry(sess, url, headers, f, step.data, timeout - f.seconds, method)
        v = infer.classify_http(step.data, what=what.split(" ")[0] if what.startswith("layer")
                                else what, authenticated=sess.creds_accepted)
        if v.outcome != Outcome.OK:
            return v
        if 300 <= f.status < 400:
            raw = f.headers.get("location", "")
            location.append(raw)
            step.data["location"] = redact_url(raw.split("?", 1)[0])
            v.evidence.append(f"redirected to {urlsplit(raw).netloc}"
                              " (Authorization is not sent there)")
            return v
        if method == "HEAD":
            got = int(f.headers.get("content-length", "-1"))
            if isinstance(size, int) and got >= 0 and got != size:
                return infer.classify_digest(what, None, "", size, got)
            return v
        d = infer.classify_digest(what, digest, f.sha256, size if isinstance(size, int) else None,
                                  f.size)
        rate = (f"{f.size} bytes in {f.seconds:.2f}s ({f.throughput_mbps} Mbit/s)"
                if f.throughput_mbps else f"{f.size} bytes")
        return infer.Verdict(d.outcome, d.code, [*v.evidence, *d.evidence, rate], d.confidence)

    step = await sess.walk.run(f"{what} {urlsplit(url).hostname}", step_cap(cap, rtt), body)
    return step, (location[0] if location else None)


async def layers(sess: Session, manifest: rp.ManifestInfo) -> list[Step]:
    """HEAD every layer; stream and verify them when small enough or when ``--layers`` is set."""
    import asyncio

    descs = manifest.layers
    total = sum(int(d.get("size") or 0) for d in descs)
    full = sess.layers_full or total <= VERIFY_BUDGET
    method = "GET" if full else "HEAD"
    out: list[Step] = []
    sem = asyncio.Semaphore(3)  # the runtimes download three layers at a time

    async def one(i: int, d: dict[str, Any]) -> Step:
        async with sem:
            cap = max(3.0, sess.walk.remaining() - 1.0)
            return await get_blob(sess, d, f"layer {i + 1}/{len(descs)}", cap=cap, method=method)

    out = list(await asyncio.gather(*(one(i, d) for i, d in enumerate(descs))))
    return out


def any_broken(steps: list[Step]) -> Step | None:
    """The first step that failed or could not run (a layer behind an unreachable CDN)."""
    return next((s for s in steps if broken(s) or s.outcome == Outcome.BLOCKED), None)
