"""Inference rules, exhaustively and without sockets: observations in, outcome and cause out."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import json
import time
from dataclasses import dataclass
from typing import Any

import pytest

from pulldoctor.causes import CATALOGUE
from pulldoctor.config.model import ProxyConfig, PullConfig
from pulldoctor.diagnose import infer
from pulldoctor.diagnose.observe import (
    DnsObservation,
    HttpObservation,
    ManifestObservation,
    MtuRetry,
    PlatformObservation,
    Stall,
    TcpObservation,
    TlsObservation,
    TokenObservation,
)
from pulldoctor.diagnose.rank import EndpointOutcome, rank, reported_endpoint
from pulldoctor.diagnose.stages.target import proxy_for
from pulldoctor.diagnose.walk import Waiting, Walk
from pulldoctor.model import Cause, Outcome, Step
from pulldoctor.probes import dns as dnsprobe
from pulldoctor.probes import http as hp
from pulldoctor.probes import registry_api as rp
from pulldoctor.probes import tcp as tcpprobe
from pulldoctor.probes.tls import TlsResult


def q(transport: str, status: str, qtype: str = "A", server: str = "198.18.4.2",
      addrs: list[str] | None = None) -> dnsprobe.DnsQuery:
    return dnsprobe.DnsQuery("r.lab.test.", server, transport, qtype, status,
                             addresses=addrs or [])


def dns_obs(*queries: dnsprobe.DnsQuery, addresses: list[str] | None = None,
            use_vc: bool = False, host: str = "r.lab.test") -> DnsObservation:
    res = dnsprobe.DnsResult(host, addresses=addresses or [], queries=list(queries))
    return DnsObservation(host, "registry", ["198.18.4.2"], res, use_vc=use_vc)


@pytest.mark.parametrize("queries,code", [
    ([q("udp", "timeout")] * 3 + [q("tcp", "answer", addrs=["198.18.2.2"])], "dns.udp_timeout"),
    ([q("udp", "filtered")] * 3 + [q("tcp", "answer", addrs=["198.18.2.2"])], "dns.udp_timeout"),
    ([q("udp", "timeout")] * 3 + [q("tcp", "timeout")], "dns.udp_timeout"),
    ([q("udp", "nxdomain"), q("tcp", "nxdomain")], "dns.nxdomain"),
    ([q("udp", "nodata", "A"), q("udp", "nodata", "AAAA")], "dns.nxdomain"),
    ([q("udp", "servfail"), q("tcp", "servfail")], "dns.servfail"),
    ([q("udp", "refused")], "dns.servfail"),
    ([q("udp", "conn_refused")] * 3 + [q("tcp", "conn_refused")], "dns.resolver_unreachable"),
    ([q("udp", "unreachable")], "dns.resolver_unreachable"),
    ([q("udp", "local_error")], "host.kernel_udp"),
])
def test_dns_failures(queries: list[dnsprobe.DnsQuery], code: str) -> None:
    v = infer.classify_dns(dns_obs(*queries))
    assert v.outcome == Outcome.PROBLEM and v.code == code
    assert v.code in CATALOGUE


def test_dns_firewall_signature_is_most_confident() -> None:
    fw = infer.classify_dns(dns_obs(q("udp", "timeout"), q("tcp", "answer", addrs=["1.2.3.4"]),
                                    addresses=["1.2.3.4"]))
    dead = infer.classify_dns(dns_obs(q("udp", "timeout"), q("tcp", "timeout")))
    assert fw.confidence > dead.confidence
    assert "answers over TCP" in fw.evidence[0]


def test_dns_addresses_are_only_what_the_runtime_gets() -> None:
    """Defect 1 of issue 9: an address only the probe's own TCP query got (UDP dropped) was
    pinned and dialled by a later endpoint's walk, which then called a failing pull healthy."""
    tcp_only = dns_obs(q("udp", "timeout"), q("tcp", "answer", addrs=["198.18.3.2"]),
                       addresses=["198.18.3.2"])
    assert tcp_only.result.addresses == ["198.18.3.2"]  # what the probe saw (evidence)
    assert tcp_only.runtime_addresses == []  # what Go's resolver gets: nothing
    # truncated over UDP: Go retries over TCP, so that answer is the runtime's
    trunc = dns_obs(q("udp", "truncated"), q("tcp", "answer", addrs=["1.1.1.1"]))
    assert trunc.runtime_addresses == ["1.1.1.1"]
    # options use-vc: TCP only, so the TCP answer is the runtime's and UDP loss is irrelevant
    vc = dns_obs(q("udp", "timeout"), q("tcp", "answer", addrs=["1.1.1.1"]), use_vc=True)
    assert vc.runtime_addresses == ["1.1.1.1"]
    assert infer.classify_dns(vc).outcome == Outcome.OK
    vc_dead = dns_obs(q("udp", "answer", addrs=["1.1.1.1"]), q("tcp", "timeout"), use_vc=True)
    assert vc_dead.runtime_addresses == []
    assert infer.classify_dns(vc_dead).code == "dns.udp_timeout"


def test_dns_ok_loss_and_shortcuts() -> None:
    ok = infer.classify_dns(dns_obs(q("udp", "answer", addrs=["1.2.3.4"]), addresses=["1.2.3.4"]))
    assert ok.outcome == Outcome.OK
    lossy = infer.classify_dns(dns_obs(q("udp", "answer", addrs=["1.2.3.4"]), q("udp", "timeout"),
                                       addresses=["1.2.3.4"]))
    assert lossy.outcome == Outcome.WARNING and "1/2" in lossy.evidence[-1]
    trunc = infer.classify_dns(dns_obs(q("udp", "truncated"),
                                       q("tcp", "answer", addrs=["1.1.1.1"])))
    assert trunc.outcome == Outcome.OK  # Go retries over TCP after TC
    lit = DnsObservation("1.2.3.4", "registry", [], dnsprobe.DnsResult(
        "1.2.3.4", addresses=["1.2.3.4"], literal=True))
    assert infer.classify_dns(lit).outcome == Outcome.OK and lit.runtime_addresses == ["1.2.3.4"]
    hosts = DnsObservation("h", "registry", [], dnsprobe.DnsResult("h", addresses=["1.1.1.1"],
                                                                   from_hosts_file=True))
    assert infer.classify_dns(hosts).outcome == Outcome.OK
    assert infer.classify_dns(dns_obs()).code == "dns.resolver_unreachable"


def test_dns_of_the_proxy_is_a_proxy_problem() -> None:
    obs = dns_obs(q("udp", "nxdomain"))
    obs.proxy_host = True
    assert infer.classify_dns(obs).code == "proxy.error"


def r(status: str, family: str = "ipv4") -> tcpprobe.TcpResult:
    return tcpprobe.TcpResult("198.18.2.2", 443, family, status)


@pytest.mark.parametrize("results,outcome,code", [
    ([r("ok")], Outcome.OK, None),
    ([r("ok"), r("unreachable", "ipv6")], Outcome.WARNING, None),
    ([r("refused")], Outcome.PROBLEM, "net.refused"),
    ([r("timeout")], Outcome.PROBLEM, "net.tcp_timeout"),
    ([r("timeout"), r("unreachable", "ipv6")], Outcome.PROBLEM, "net.tcp_timeout"),
    ([r("unreachable"), r("unreachable", "ipv6")], Outcome.PROBLEM, "net.unreachable"),
    ([r("reset")], Outcome.PROBLEM, "net.reset"),
    ([r("error")], Outcome.PROBLEM, None),  # no errno that names why: no cause guessed
    ([], Outcome.PROBLEM, "net.unreachable"),
])
def test_tcp(results: list[tcpprobe.TcpResult], outcome: Outcome, code: str | None) -> None:
    v = infer.classify_tcp(TcpObservation("h", 443, results))
    assert (v.outcome, v.code) == (outcome, code)


def test_tcp_to_proxy_is_proxy_error() -> None:
    obs = TcpObservation("p", 3128, [r("refused")], proxy_host=True)
    assert infer.classify_tcp(obs).code == "proxy.error"


def tls(status: str, **kw: Any) -> TlsObservation:
    return TlsObservation(443, TlsResult("h", status, cert={"subject": "CN=x"}), **kw)


@pytest.mark.parametrize("status,code", [
    ("unknown_authority", "tls.unknown_authority"),
    ("hostname_mismatch", "tls.hostname_mismatch"),
    ("expired", "tls.expired"),
    ("not_yet_valid", "tls.expired"),
    ("http_response", "tls.http_response_to_https"),
    ("reset", "net.reset"),
    ("ca_error", "daemon.config"),
])
def test_tls(status: str, code: str) -> None:
    v = infer.classify_tls(tls(status))
    assert v.code == code and v.outcome == Outcome.PROBLEM
    assert any("subject=CN=x" in e for e in v.evidence)


def test_tls_insecure_endpoints_and_handshake_stalls() -> None:
    for st in ("unknown_authority", "expired"):
        assert infer.classify_tls(tls(st, insecure=True)).outcome == Outcome.WARNING
    # plain HTTP on an insecure https:// endpoint: the runtime falls back to its http://
    # endpoint (docker, containers/image) and goes no further on this one...
    fb = infer.classify_tls(tls("http_response", insecure=True, http_fallback=True))
    assert fb.outcome == Outcome.WARNING and fb.ends_endpoint
    # ...but without a plain-HTTP endpoint after it (containerd skip_verify) the pull fails there
    no_fb = infer.classify_tls(tls("http_response", insecure=True))
    assert no_fb.code == "tls.http_response_to_https"
    assert infer.classify_tls(tls("ok")).outcome == Outcome.OK
    assert infer.classify_tls(tls("handshake_timeout")).code == "net.tls_handshake_timeout"
    slow = infer.classify_tls(tls("handshake_timeout", retry=MtuRetry(536, False)))
    assert slow.code == "net.tls_handshake_timeout" and "not a packet-size" in slow.evidence[-1]
    mtu = infer.classify_tls(tls("handshake_timeout", retry=MtuRetry(536, True)))
    assert mtu.code == "net.mtu"
    skipped = infer.classify_tls(tls("handshake_timeout", retry=MtuRetry(536, None, "no time")))
    assert skipped.code == "net.tls_handshake_timeout" and "not tested" in skipped.evidence[-1]


def http(status: int = 0, *, what: str = "manifest", codes: list[str] | None = None,
         failure: str | None = None, retry: MtuRetry | None = None, auth: bool = False,
         blob: bool = False, rate: dict[str, str] | None = None) -> HttpObservation:
    url = "https://r/v2/"
    f = hp.Fetched(url, status, {}, failure=hp.HttpFailure(failure, "x", url) if failure else None)
    err = rp.RegistryError(status, list(codes or []), url=url) if status >= 400 else None
    return HttpObservation(what, f, error=err, retry=retry, authenticated=auth, blob=blob,
                           rate_limit=rate or {})


@pytest.mark.parametrize("obs,code", [
    (http(200), None),
    (http(401, what="ping"), None),
    (http(307, what="config blob", blob=True), None),
    (http(401, codes=["UNAUTHORIZED"]), "registry.unauthorized"),
    (http(401, codes=["UNAUTHORIZED"], auth=True), "registry.denied"),
    (http(403, codes=["DENIED"]), "registry.denied"),
    (http(404, codes=["MANIFEST_UNKNOWN"]), "registry.not_found"),
    (http(404, codes=["NAME_UNKNOWN"]), "registry.not_found"),
    (http(404, codes=["BLOB_UNKNOWN"], what="config blob", blob=True), "image.corrupt"),
    (http(404, what="layer 1/1", blob=True), "image.corrupt"),
    (http(429, codes=["TOOMANYREQUESTS"]), "registry.rate_limited"),
    (http(500, what="ping"), "registry.server_error"),
    (http(503), "registry.server_error"),
    (http(407, what="ping"), "proxy.error"),
    (http(failure="read_timeout", what="ping"), "net.request_timeout"),
    (http(failure="stall", what="layer 1/1"), "net.request_timeout"),
    (http(failure="stall", what="layer 1/1", retry=MtuRetry(536, True)), "net.mtu"),
    (http(failure="reset", what="config blob"), "net.reset"),
    (http(failure="proxy", what="ping"), "proxy.error"),
    (http(failure="refused", what="config blob"), "net.refused"),
    (http(failure="unreachable", what="config blob"), "net.unreachable"),
    (http(failure="connect_error", what="config blob"), None),
])
def test_http(obs: HttpObservation, code: str | None) -> None:
    v = infer.classify_http(obs)
    assert v.code == code
    assert (v.outcome == Outcome.OK) == (code is None and obs.fetched.failure is None)


def test_connect_errors_are_named_by_their_errno_only() -> None:
    """Defect 1 of issue 9: a refused CDN port read as "no route" (net.unreachable), because
    httpx's ConnectError was mapped to it whatever the socket said."""
    import errno

    import httpx

    def wrapped(code: int | None) -> BaseException:
        inner = OSError(code, "x") if code else OSError("All connection attempts failed")
        try:
            try:
                raise inner
            except OSError as exc:
                raise httpx.ConnectError("All connection attempts failed") from exc
        except httpx.ConnectError as outer:
            return outer

    assert hp.classify_exception(wrapped(errno.ECONNREFUSED), "u").kind == "refused"
    assert hp.classify_exception(wrapped(errno.EHOSTUNREACH), "u").kind == "unreachable"
    assert hp.classify_exception(wrapped(None), "u").kind == "connect_error"
    v = infer.classify_http(http(failure="connect_error"))
    assert v.code is None and "no errno" in v.evidence[-1]


def test_rate_limit_headers_are_evidence() -> None:
    v = infer.classify_http(http(429, rate={"ratelimit-remaining": "0;w=21600"}))
    assert any("ratelimit-remaining: 0;w=21600" in e for e in v.evidence)


def test_digest_and_size() -> None:
    good = "sha256:" + "a" * 64
    assert infer.classify_digest("x", good, good, 3, 3).outcome == Outcome.OK
    bad = infer.classify_digest("x", good, "sha256:" + "b" * 64, 3, 3)
    assert bad.code == "image.corrupt" and "hashes to" in bad.evidence[0]
    assert infer.classify_digest("x", None, "", 3, 4).code == "image.corrupt"


def test_stalls_are_evidence_when_long_enough() -> None:
    """Defect 3 of issue 9: a step cut by the deadline was dropped, and the walk said "works"."""
    hs = infer.classify_stall(Stall("tls", "the ClientHello's answer", 0.6, by_deadline=True))
    assert hs.outcome == Outcome.TIMEOUT and hs.code == "net.tls_handshake_timeout"
    assert "waiting for the ClientHello's answer" in hs.evidence[0]
    req = infer.classify_stall(Stall("http", "GET /v2/", 1.0, by_deadline=False))
    assert req.code == "net.request_timeout"
    short = infer.classify_stall(Stall("tls", "x", 0.1, by_deadline=True))
    assert short.outcome == Outcome.TIMEOUT and short.code is None
    slow_link = infer.classify_stall(Stall("http", "x", 2.0, by_deadline=True, rtt_s=1.2))
    assert slow_link.code is None  # less than four round trips of this link: proves nothing


def step(name: str, outcome: Outcome, code: str | None = None, conf: float = 0.9) -> Step:
    return Step(name, outcome, evidence=[f"{name} evidence"], cause=code,
                confidence=conf if code else None)


def test_rank_first_problem_wins_and_blocked_steps_prove_nothing() -> None:
    steps = [step("dns", Outcome.OK), step("tcp", Outcome.PROBLEM, "net.tcp_timeout", 0.8),
             infer.blocked("ping", "tcp"), step("later", Outcome.PROBLEM, "registry.server_error",
                                                0.99)]
    causes = rank(steps, values={"host": "r.lab.test", "port": "443"})
    assert [c.code for c in causes] == ["net.tcp_timeout", "registry.server_error"]
    assert causes[0].confidence > causes[1].confidence
    assert "nc -vz -w 3 r.lab.test 443" in causes[0].confirm
    # a diagnosis prints only commands that run as printed: no ADDRESS left for the reader
    assert not any("ADDRESS" in f for f in causes[0].confirm)


def test_rank_counts_a_stall_that_proves_a_cause() -> None:
    steps = [step("tcp", Outcome.OK), step("tls", Outcome.TIMEOUT, "net.tls_handshake_timeout"),
             step("deadline", Outcome.TIMEOUT)]
    assert [c.code for c in rank(steps, values={})] == ["net.tls_handshake_timeout"]


def test_rank_with_text_and_host_causes() -> None:
    text = [Cause.from_catalogue("net.tcp_timeout", 0.8, ["dial tcp ... i/o timeout"]),
            Cause.from_catalogue("dns.udp_timeout", 0.5, ["lookup ..."])]
    steps = [step("tcp", Outcome.PROBLEM, "net.tcp_timeout", 0.9)]
    causes = rank(steps, values={}, text_causes=text)
    assert causes[0].code == "net.tcp_timeout" and causes[0].confidence == 0.95
    assert any("error text agrees" in e for e in causes[0].evidence)
    assert causes[1].code == "dns.udp_timeout" and causes[1].confidence < 0.5
    # a healthy walk does not adopt the text's guess: it was not reproduced from this host
    assert rank([step("dns", Outcome.OK)], values={}, text_causes=text) == []
    host = [Cause.from_catalogue("host.disk_full", 0.9, ["/var/lib/docker 100% full"])]
    only_host = rank([step("dns", Outcome.OK)], values={}, host_causes=host)
    assert [c.code for c in only_host] == ["host.disk_full"]


def test_proxy_for_follows_go_semantics() -> None:
    p = ProxyConfig(https_proxy="proxy.lab.test:3128", http_proxy=None,
                    no_proxy="internal.example,.corp,198.18.0.0/15")
    assert proxy_for("https://registry.lab.test/v2/", p) == "http://proxy.lab.test:3128"
    assert proxy_for("http://registry.lab.test/v2/", p) is None
    assert proxy_for("https://internal.example/v2/", p) is None
    assert proxy_for("https://a.corp/v2/", p) is None
    assert proxy_for("https://198.18.2.2:5000/v2/", p) is None
    assert proxy_for("https://127.0.0.1:5000/v2/", p) is None
    assert proxy_for("https://x/", ProxyConfig(https_proxy="http://p:1", no_proxy="*")) is None


def test_www_authenticate_parsing() -> None:
    chs = hp.parse_www_authenticate(
        'Bearer realm="https://auth.lab.test/token",service="registry.lab.test",'
        'scope="repository:a/b:pull,push"')
    assert chs[0].scheme == "bearer"
    assert chs[0].params == {"realm": "https://auth.lab.test/token", "service": "registry.lab.test",
                             "scope": "repository:a/b:pull,push"}
    assert hp.parse_www_authenticate('Basic realm="Registry Realm"')[0].params["realm"] == \
        "Registry Realm"
    assert hp.parse_www_authenticate("") == []


def test_registry_errors_tokens_platforms_manifests() -> None:
    body = b'{"errors":[{"code":"DENIED","message":"requested access to the resource is denied"}]}'
    err = rp.parse_registry_errors(403, body, "https://r/v2/x")
    assert err.codes == ["DENIED"] and "denied: requested access" in str(err)
    assert rp.parse_registry_errors(502, b"<html>", "u").codes == []
    assert rp.token_url("https://a/token", "svc", "x/y") == \
        "https://a/token?service=svc&scope=repository%3Ax%2Fy%3Apull"
    claims = {"access": [{"type": "repository", "name": "x/y", "actions": ["pull"]}]}
    jwt = "e30." + base64.urlsafe_b64encode(json.dumps(claims).encode()).decode().rstrip("=") + ".s"
    assert rp.grants_pull(rp.token_access(jwt) or [], "x/y")
    assert not rp.grants_pull(rp.token_access(jwt) or [], "x/z")
    assert rp.token_access("opaque") is None
    assert rp.read_token(b'{"access_token":"t1"}') == "t1" and rp.read_token(b"{}") is None
    index = {"manifests": [
        {"digest": "d1", "platform": {"os": "linux", "architecture": "arm64", "variant": "v8"}},
        {"digest": "d2", "platform": {"os": "linux", "architecture": "amd64"}},
        {"digest": "d3", "platform": {"os": "unknown", "architecture": "unknown"}}]}
    assert rp.choose_platform(index, "linux/amd64")[0]["digest"] == "d2"  # type: ignore[index]
    assert rp.choose_platform(index, "linux/arm64")[0]["digest"] == "d1"  # type: ignore[index]
    chosen, offered = rp.choose_platform(index, "linux/s390x")
    assert chosen is None and offered == ["linux/arm64/v8", "linux/amd64"]
    assert rp.read_manifest(b'{"schemaVersion":1}', "").unsupported
    assert rp.read_manifest(json.dumps(index).encode(), rp.MT_OCI_INDEX).is_index
    m = rp.read_manifest(b'{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json",'
                         b'"config":{"digest":"c","size":1},"layers":[{"digest":"l","size":2}]}', "")
    assert m.config == {"digest": "c", "size": 1} and len(m.layers) == 1
    assert rp.read_manifest(b"nope", "").unsupported == "manifest is not JSON"
    assert not rp.same_origin("https://r:5000/v2/", "https://cdn/x")
    assert rp.same_origin("https://r:5000/v2/", "https://r:5000/v2/b")


@dataclass
class Seen:
    """A stand-in observation for the walk's own mechanics (no probe is involved)."""

    text: str

    def to_dict(self) -> dict[str, Any]:
        return {"kind": "seen", "text": self.text}


def classify_seen(obs: Seen) -> infer.Verdict:
    return infer.Verdict(Outcome.OK, evidence=[obs.text])


WAIT = Waiting("http", "the test's answer")


def test_walk_steps_crash_and_timeout_on_their_own() -> None:
    seen: list[str] = []
    walk = Walk(PullConfig("docker", "x"), time.monotonic() + 5,
                on_step=lambda s: seen.append(s.name))

    async def boom(timeout: float) -> Seen:
        raise RuntimeError("password=hunter22 leaked?")

    async def slow(timeout: float) -> Seen:
        await asyncio.sleep(timeout + 5)
        return Seen("late")

    async def fine(timeout: float) -> Seen:
        return Seen("fine")

    async def main() -> None:
        await walk.observe("crash", 1.0, boom, classify_seen, WAIT)
        await walk.observe("slow", 0.3, slow, classify_seen, WAIT)
        await walk.observe("fine", 1.0, fine, classify_seen, WAIT)

    asyncio.run(main())
    assert [s.outcome for s in walk.steps] == [Outcome.CRASHED, Outcome.TIMEOUT, Outcome.OK]
    assert "hunter22" not in walk.steps[0].summary
    assert "waiting for the test's answer" in walk.steps[1].summary
    assert walk.steps[2].to_dict()["data"] == {"kind": "seen", "text": "fine"}
    assert seen == ["crash", "slow", "fine"]


def test_walk_past_deadline_does_not_start_steps() -> None:
    walk = Walk(PullConfig("docker", "x"), time.monotonic() - 1)

    async def fine(timeout: float) -> Seen:
        return Seen("fine")

    asyncio.run(walk.observe("late", 1.0, fine, classify_seen, WAIT))
    assert walk.steps[0].outcome == Outcome.TIMEOUT


def test_a_step_cut_by_the_absolute_deadline_says_what_it_waited_for() -> None:
    """Defect 3 of issue 9: the deadline cancelled the running step, which was then never
    recorded; the report said "every step passed" and exited 0."""
    walk = Walk(PullConfig("docker", "x"), time.monotonic() + 0.9)

    async def hangs(timeout: float) -> Seen:
        await asyncio.sleep(60)
        return Seen("never")

    async def main() -> None:
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(max(0.1, walk.remaining() - 0.1)):
                await walk.observe("tls h:443", 9.0, hangs, classify_seen,
                                   Waiting("tls", "h's answer to the TLS ClientHello"))

    asyncio.run(main())
    (st,) = walk.steps
    assert st.outcome == Outcome.TIMEOUT and st.cause == "net.tls_handshake_timeout"
    assert "ClientHello" in st.summary and st.to_dict()["data"]["kind"] == "stall"


def test_manifest_checks() -> None:
    body = (b'{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json",'
            b'"config":{"digest":"c","size":1},"layers":[]}')
    digest = "sha256:" + hashlib.sha256(body).hexdigest()

    def man(raw: bytes, expected: str | None = None) -> ManifestObservation:
        f = hp.Fetched("https://r/v2/x/manifests/v1", 200, {}, body=raw, size=len(raw),
                       sha256="sha256:" + hashlib.sha256(raw).hexdigest())
        return ManifestObservation(HttpObservation("manifest", f), "v1", expected,
                                   manifest=rp.read_manifest(raw, ""))

    assert infer.classify_manifest(man(body, digest)).outcome == Outcome.OK
    assert infer.classify_manifest(man(body, "sha256:" + "0" * 64)).code == "image.corrupt"
    assert infer.classify_manifest(man(b'{"schemaVersion":1}')).code == "image.unsupported"
    no_config = b'{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json"}'
    assert infer.classify_manifest(man(no_config)).code == "image.unsupported"
    plat = PlatformObservation("linux/amd64", ["linux/arm64"], None)
    assert infer.classify_platform(plat).code == "image.platform_mismatch"


def test_token_outcomes() -> None:
    def tok(status: int, *, creds: bool = False, found: bool = True) -> TokenObservation:
        return TokenObservation("https://auth/token", "x/y", creds, creds, http=http(status),
                                token_found=found)

    assert infer.classify_token(tok(200)).outcome == Outcome.OK
    assert infer.classify_token(tok(200, found=False)).code == "registry.server_error"
    bad = infer.classify_token(tok(401, creds=True))
    assert bad.code == "registry.unauthorized" and "rejected the credentials" in bad.evidence[-1]
    assert infer.classify_token(tok(503)).code == "registry.server_error"
    odd = TokenObservation("ftp://x", "x/y", False, False, realm_usable=False)
    assert infer.classify_token(odd).code == "registry.server_error"


def _outcome(url: str, *, mirror: bool = False, ok: bool = False, stage: str | None = None,
             status: int | None = None, walked: bool = True) -> EndpointOutcome:
    failed = None
    if not ok and walked:
        obs = (ManifestObservation(http(status), "v1") if status is not None else None)
        failed = Step(f"{stage} {url}", Outcome.PROBLEM, observation=obs)
    return EndpointOutcome(url, mirror, ok, failed, stage, walked)


def test_the_endpoint_whose_error_the_runtime_reports() -> None:
    """Issue 9, defect 2: which endpoint's error the runtime prints (pull-internals §1.7, §3.2,
    §4.2), so the report shows that endpoint first and ranks its cause first."""
    mirror_down = _outcome("https://mirror", mirror=True, stage="registry host")
    hub_404 = _outcome("https://hub", stage="manifest", status=404)
    hub_down = _outcome("https://hub", stage="registry host")
    # dockerd (graph driver) and containers/image: the last endpoint tried
    assert reported_endpoint("docker", "graphdriver", [mirror_down, hub_404]) == 1
    assert reported_endpoint("podman", "", [mirror_down, hub_down]) == 1
    # containerd: ranked (transport < 404 < other 4xx/5xx), the first host within a rank
    assert reported_endpoint("containerd", "", [mirror_down, hub_404]) == 1
    assert reported_endpoint("containerd", "", [mirror_down, hub_down]) == 0
    assert reported_endpoint("docker", "containerd", [mirror_down, hub_down]) == 0
    denied = _outcome("https://mirror", mirror=True, stage="manifest", status=403)
    assert reported_endpoint("containerd", "", [denied, hub_404]) == 0
    # one worked: the runtime pulled from it
    assert reported_endpoint("containerd", "", [mirror_down, _outcome("https://hub", ok=True)]) == 1
    assert reported_endpoint("docker", "graphdriver", [_outcome("x", walked=False)]) is None


def test_steps_are_grouped_under_a_heading_per_endpoint() -> None:
    from pulldoctor.model import Report
    from pulldoctor.report.view import report_data, step_groups

    rep = Report("diagnose", steps=[
        Step("config", Outcome.OK),
        Step("dns r", Outcome.OK, endpoint="http://r"), Step("tcp r", Outcome.OK, endpoint="http://r"),
        Step("dns r", Outcome.OK, endpoint="https://r"), Step("host checks", Outcome.OK)],
        facts={"endpoints": ["https://r", "http://r"]},
        extra={"endpoints": [{"url": "http://r", "mirror": False, "outcome": "failed",
                              "reported": True, "note": "the error dockerd reports"}]})
    groups = step_groups(report_data(rep))
    assert [(t, [s["name"] for s in g]) for t, g in groups] == [
        (None, ["config"]),
        ("Endpoint 2 of 2, http://r: the error dockerd reports", ["dns r", "tcp r"]),
        ("Endpoint 1 of 2, https://r", ["dns r"]),
        ("Whole diagnosis", ["host checks"])]


def test_a_proxy_failure_on_ctrs_path_is_the_shells_not_containerds_unit() -> None:
    def proxy_step(client: str | None) -> Step:
        s = step("tcp proxy", Outcome.PROBLEM, "proxy.error")
        s.client = client
        return s

    vals = {"base_url": "https://r.lab.test", "curl_tls": ""}
    cli = rank([proxy_step("cli")], values=vals, runtime="containerd",
               proxies={"cli": "http://shell.corp:8080", "cri": None})[0]
    assert "env | grep -i _proxy" in cli.confirm
    assert not any("systemctl" in c for c in cli.confirm + cli.fix)
    assert any("shell ctr or nerdctl runs from" in a for a in cli.advice)
    assert any("-x http://shell.corp:8080 " in c for c in cli.confirm)  # that path's own proxy
    for client in ("cri", "cri+cli", None):  # containerd's unit is (also) where the proxy is
        cri = rank([proxy_step(client)], values=vals, runtime="containerd")[0]
        assert "systemctl show --property=Environment containerd" in cri.confirm, client
        assert "env | grep -i _proxy" not in cri.confirm
    podman = rank([proxy_step(None)], values=vals, runtime="podman")[0]
    assert "env | grep -i _proxy" in podman.confirm


def test_the_config_step_says_which_proxy_applies_to_which_client() -> None:
    from pulldoctor.diagnose.observe import ClientProxy, ConfigObservation

    def obs(cli: str | None, cli_walked: bool = True, client: str = "auto") -> ConfigObservation:
        return ConfigObservation({}, "containerd", [("https://r", False)], ["198.18.4.2"], [],
                                 proxy_set=False, clients=[
                                     ClientProxy("cri", "the CRI", None, None, "unit", True),
                                     ClientProxy("cli", "ctr", cli, None, "shell", cli_walked)],
                                 client=client)

    differ = infer.classify_config(obs("http://p:1"))
    assert differ.outcome == Outcome.WARNING
    assert "the CRI: no proxy (direct) [unit]; walked" in differ.evidence
    assert "ctr: proxy http://p:1 [shell]; walked" in differ.evidence
    assert any("each path is walked" in e for e in differ.evidence)
    one = infer.classify_config(obs("http://p:1", cli_walked=False, client="cri"))
    assert "ctr: proxy http://p:1 [shell]; not walked (--client cri)" in one.evidence
    assert any("only the walked path is proven" in e for e in one.evidence)
    same = infer.classify_config(obs(None))
    assert same.outcome == Outcome.OK
    assert not any("different proxies" in e for e in same.evidence)
    # the old shell-proxy warning is dockerd's alone now ("containerdd does not see it")
    assert not any("does not see it" in e for e in differ.evidence)


def test_steps_of_two_client_paths_get_a_heading_each() -> None:
    from pulldoctor.model import Report
    from pulldoctor.report.view import report_data, step_groups

    rep = Report("diagnose", steps=[
        Step("config", Outcome.OK),
        Step("tcp p", Outcome.PROBLEM, endpoint="https://r", client="cli"),
        Step("dns r", Outcome.OK, endpoint="https://r", client="cri"),
        Step("host checks", Outcome.OK)],
        facts={"endpoints": ["https://r"]},
        extra={"endpoints": [
            {"url": "https://r", "mirror": False, "outcome": "failed", "reported": True,
             "note": "as ctr: fails", "client": "cli"},
            {"url": "https://r", "mirror": False, "outcome": "ok", "reported": True,
             "note": "as the CRI: works", "client": "cri"}]})
    groups = step_groups(report_data(rep))
    assert [(t, [s["name"] for s in g]) for t, g in groups] == [
        (None, ["config"]),
        ("Endpoint 1 of 1, https://r: as ctr: fails", ["tcp p"]),
        ("Endpoint 1 of 1, https://r: as the CRI: works", ["dns r"]),
        ("Whole diagnosis", ["host checks"])]
