"""Inference rules, exhaustively and without sockets: observations in, outcome and cause out."""

from __future__ import annotations

import asyncio
import base64
import json
import time
from typing import Any

import pytest

from pulldoctor.causes import CATALOGUE
from pulldoctor.config.model import ProxyConfig, PullConfig
from pulldoctor.diagnose import infer
from pulldoctor.diagnose.reach import proxy_for
from pulldoctor.diagnose.walk import Walk
from pulldoctor.model import Cause, Outcome, Step
from pulldoctor.probes import http as hp
from pulldoctor.probes import registry_api as rp


def q(transport: str, status: str, qtype: str = "A", server: str = "198.18.4.2",
      addrs: list[str] | None = None) -> dict[str, Any]:
    return {"transport": transport, "status": status, "qtype": qtype, "server": server,
            "name": "r.lab.test.", "addresses": addrs or [], "rcode": None, "detail": ""}


def dns_data(*queries: dict[str, Any], addresses: list[str] | None = None) -> dict[str, Any]:
    return {"host": "r.lab.test", "queries": list(queries), "addresses": addresses or []}


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
def test_dns_failures(queries: list[dict[str, Any]], code: str) -> None:
    v = infer.classify_dns(dns_data(*queries))
    assert v.outcome == Outcome.PROBLEM and v.code == code
    assert v.code in CATALOGUE


def test_dns_firewall_signature_is_most_confident() -> None:
    fw = infer.classify_dns(dns_data(q("udp", "timeout"), q("tcp", "answer", addrs=["1.2.3.4"])))
    dead = infer.classify_dns(dns_data(q("udp", "timeout"), q("tcp", "timeout")))
    assert fw.confidence > dead.confidence
    assert "answers over TCP" in fw.evidence[0]


def test_dns_ok_loss_and_shortcuts() -> None:
    ok = infer.classify_dns(dns_data(q("udp", "answer", addrs=["1.2.3.4"]), addresses=["1.2.3.4"]))
    assert ok.outcome == Outcome.OK
    lossy = infer.classify_dns(dns_data(q("udp", "answer", addrs=["1.2.3.4"]), q("udp", "timeout"),
                                        addresses=["1.2.3.4"]))
    assert lossy.outcome == Outcome.WARNING and "1/2" in lossy.evidence[-1]
    trunc = infer.classify_dns(dns_data(q("udp", "truncated"), q("tcp", "answer", addrs=["1.1.1.1"])))
    assert trunc.outcome == Outcome.OK  # Go retries over TCP after TC
    assert infer.classify_dns({"host": "1.2.3.4", "literal": True}).outcome == Outcome.OK
    assert infer.classify_dns({"host": "h", "from_hosts_file": True}).outcome == Outcome.OK
    assert infer.classify_dns({"host": "h", "queries": []}).code == "dns.resolver_unreachable"


def test_dns_of_the_proxy_is_a_proxy_problem() -> None:
    v = infer.classify_dns(dns_data(q("udp", "nxdomain")), proxy_host=True)
    assert v.code == "proxy.error"


def r(status: str, family: str = "ipv4") -> dict[str, Any]:
    return {"address": "198.18.2.2", "port": 443, "family": family, "status": status,
            "errno": None}


@pytest.mark.parametrize("results,outcome,code", [
    ([r("ok")], Outcome.OK, None),
    ([r("ok"), r("unreachable", "ipv6")], Outcome.WARNING, None),
    ([r("refused")], Outcome.PROBLEM, "net.refused"),
    ([r("timeout")], Outcome.PROBLEM, "net.tcp_timeout"),
    ([r("timeout"), r("unreachable", "ipv6")], Outcome.PROBLEM, "net.tcp_timeout"),
    ([r("unreachable"), r("unreachable", "ipv6")], Outcome.PROBLEM, "net.unreachable"),
    ([r("reset")], Outcome.PROBLEM, "net.reset"),
    ([], Outcome.PROBLEM, "net.unreachable"),
])
def test_tcp(results: list[dict[str, Any]], outcome: Outcome, code: str | None) -> None:
    v = infer.classify_tcp({"host": "h", "results": results})
    assert (v.outcome, v.code) == (outcome, code)


def test_tcp_to_proxy_is_proxy_error() -> None:
    assert infer.classify_tcp({"results": [r("refused")]}, proxy_host=True).code == "proxy.error"


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
    v = infer.classify_tls({"host": "h", "status": status, "cert": {"subject": "CN=x"}})
    assert v.code == code and v.outcome == Outcome.PROBLEM
    assert any("subject=CN=x" in e for e in v.evidence)


def test_tls_insecure_endpoints_and_handshake_stalls() -> None:
    for st in ("unknown_authority", "expired", "http_response"):
        assert infer.classify_tls({"status": st}, insecure=True).outcome == Outcome.WARNING
    assert infer.classify_tls({"status": "ok"}).outcome == Outcome.OK
    stall = {"status": "handshake_timeout"}
    assert infer.classify_tls(stall).code == "net.tls_handshake_timeout"
    assert infer.classify_tls({**stall, "clamped_ok": False}).code == "net.tls_handshake_timeout"
    assert infer.classify_tls({**stall, "clamped_ok": True, "clamped_mss": 536}).code == "net.mtu"


@pytest.mark.parametrize("data,what,auth,code", [
    ({"status": 200}, "manifest", False, None),
    ({"status": 401}, "ping", False, None),
    ({"status": 307}, "config blob", False, None),
    ({"status": 401, "codes": ["UNAUTHORIZED"]}, "manifest", False, "registry.unauthorized"),
    ({"status": 401, "codes": ["UNAUTHORIZED"]}, "manifest", True, "registry.denied"),
    ({"status": 403, "codes": ["DENIED"]}, "manifest", False, "registry.denied"),
    ({"status": 404, "codes": ["MANIFEST_UNKNOWN"]}, "manifest", False, "registry.not_found"),
    ({"status": 404, "codes": ["NAME_UNKNOWN"]}, "manifest", False, "registry.not_found"),
    ({"status": 404, "codes": ["BLOB_UNKNOWN"]}, "config blob", False, "image.corrupt"),
    ({"status": 404}, "layer", False, "image.corrupt"),
    ({"status": 429, "codes": ["TOOMANYREQUESTS"]}, "manifest", False, "registry.rate_limited"),
    ({"status": 500}, "ping", False, "registry.server_error"),
    ({"status": 503}, "manifest", False, "registry.server_error"),
    ({"status": 407}, "ping", False, "proxy.error"),
    ({"failure": {"kind": "read_timeout", "detail": "x"}}, "ping", False, "net.request_timeout"),
    ({"failure": {"kind": "stall", "detail": "x"}}, "layer", False, "net.request_timeout"),
    ({"failure": {"kind": "stall", "detail": "x"}, "clamped_ok": True}, "layer", False, "net.mtu"),
    ({"failure": {"kind": "reset", "detail": "x"}}, "config blob", False, "net.reset"),
    ({"failure": {"kind": "proxy", "detail": "x"}}, "ping", False, "proxy.error"),
])
def test_http(data: dict[str, Any], what: str, auth: bool, code: str | None) -> None:
    v = infer.classify_http({"url": "https://r/v2/", **data}, what=what, authenticated=auth)
    assert v.code == code
    assert (v.outcome == Outcome.OK) == (code is None)


def test_rate_limit_headers_are_evidence() -> None:
    v = infer.classify_http({"status": 429, "rate_limit": {"ratelimit-remaining": "0;w=21600"}},
                            what="manifest")
    assert any("ratelimit-remaining: 0;w=21600" in e for e in v.evidence)


def test_digest_and_size() -> None:
    good = "sha256:" + "a" * 64
    assert infer.classify_digest("x", good, good, 3, 3).outcome == Outcome.OK
    bad = infer.classify_digest("x", good, "sha256:" + "b" * 64, 3, 3)
    assert bad.code == "image.corrupt" and "hashes to" in bad.evidence[0]
    assert infer.classify_digest("x", None, "", 3, 4).code == "image.corrupt"


def step(name: str, outcome: Outcome, code: str | None = None, conf: float = 0.9) -> Step:
    data: dict[str, Any] = {"cause": code, "confidence": conf} if code else {}
    return Step(name, outcome, evidence=[f"{name} evidence"], data=data)


def test_rank_first_problem_wins_and_blocked_steps_prove_nothing() -> None:
    steps = [step("dns", Outcome.OK), step("tcp", Outcome.PROBLEM, "net.tcp_timeout", 0.8),
             infer.blocked("ping", "tcp"), step("later", Outcome.PROBLEM, "registry.server_error",
                                                0.99)]
    causes = infer.rank(steps, values={"host": "r.lab.test"})
    assert [c.code for c in causes] == ["net.tcp_timeout", "registry.server_error"]
    assert causes[0].confidence > causes[1].confidence
    assert any("r.lab.test" in f for f in causes[0].confirm)


def test_rank_with_text_and_host_causes() -> None:
    text = [Cause.from_catalogue("net.tcp_timeout", 0.8, ["dial tcp ... i/o timeout"]),
            Cause.from_catalogue("dns.udp_timeout", 0.5, ["lookup ..."])]
    steps = [step("tcp", Outcome.PROBLEM, "net.tcp_timeout", 0.9)]
    causes = infer.rank(steps, values={}, text_causes=text)
    assert causes[0].code == "net.tcp_timeout" and causes[0].confidence == 0.95
    assert any("error text agrees" in e for e in causes[0].evidence)
    assert causes[1].code == "dns.udp_timeout" and causes[1].confidence < 0.5
    # a healthy walk does not adopt the text's guess: it was not reproduced from this host
    assert infer.rank([step("dns", Outcome.OK)], values={}, text_causes=text) == []
    host = [Cause.from_catalogue("host.disk_full", 0.9, ["/var/lib/docker 100% full"])]
    only_host = infer.rank([step("dns", Outcome.OK)], values={}, host_causes=host)
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


def test_walk_steps_crash_and_timeout_on_their_own() -> None:
    seen: list[str] = []
    walk = Walk(PullConfig("docker", "x"), time.monotonic() + 5, on_step=lambda s: seen.append(s.name))

    async def boom(step: Step, timeout: float) -> infer.Verdict:
        raise RuntimeError("password=hunter22 leaked?")

    async def slow(step: Step, timeout: float) -> infer.Verdict:
        await asyncio.sleep(timeout + 5)
        return infer.OK

    async def fine(step: Step, timeout: float) -> infer.Verdict:
        return infer.Verdict(Outcome.OK, evidence=["fine"])

    async def main() -> None:
        await walk.run("crash", 1.0, boom)
        await walk.run("slow", 0.2, slow)
        await walk.run("fine", 1.0, fine)

    asyncio.run(main())
    assert [s.outcome for s in walk.steps] == [Outcome.CRASHED, Outcome.TIMEOUT, Outcome.OK]
    assert "hunter22" not in walk.steps[0].summary
    assert seen == ["crash", "slow", "fine"]


def test_walk_past_deadline_does_not_start_steps() -> None:
    walk = Walk(PullConfig("docker", "x"), time.monotonic() - 1)

    async def fine(step: Step, timeout: float) -> infer.Verdict:
        return infer.OK

    asyncio.run(walk.run("late", 1.0, fine))
    assert walk.steps[0].outcome == Outcome.TIMEOUT
