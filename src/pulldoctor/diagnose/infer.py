"""Inference: observations -> outcomes and ranked causes. Pure: no sockets, files or clocks.

Two layers, both pure so every rule is unit-tested without a network:

* ``classify_*`` turn one step's raw observations (the dicts the probes record in ``Step.data``)
  into ``Verdict(outcome, code, evidence, confidence)``. The engine calls them to decide whether
  the walk may continue; the same functions explain the decision in the report.
* :func:`rank` reads the finished walk (steps in walk order) plus optional facts from an error text
  and host-check causes, and returns the ranked :class:`Cause` list. The *first* broken step of the
  endpoint the runtime would report decides the top cause (later steps were blocked, so they prove
  nothing); text and host evidence only confirm it or add lower-ranked alternatives.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from pulldoctor.causes import Code
from pulldoctor.model import Cause, Outcome, Step


@dataclass(slots=True)
class Verdict:
    """How one step ended and which cause (if any) it proves."""

    outcome: Outcome
    code: Code | None = None
    evidence: list[str] = field(default_factory=list)
    confidence: float = 0.9


OK = Verdict(Outcome.OK)


def _udp_status_by_server(queries: list[Mapping[str, Any]]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for q in queries:
        if q.get("transport") == "udp":
            out.setdefault(str(q.get("server")), []).append(str(q.get("status")))
    return out


def classify_dns(data: Mapping[str, Any], *, proxy_host: bool = False) -> Verdict:
    """Name the DNS outcome for one host as Go's resolver would experience it.

    Go asks over UDP and uses TCP only after a truncated reply; so a name counts as resolved only
    when some UDP query answered (or was truncated and TCP answered). TCP answering while every UDP
    query was lost is the firewall-drops-UDP signature.
    """
    host = str(data.get("host", "?"))
    if data.get("literal") or data.get("from_hosts_file"):
        how = "an IP literal" if data.get("literal") else "/etc/hosts"
        return Verdict(Outcome.OK, evidence=[f"{host} comes from {how}: no DNS query needed"])
    queries: list[Mapping[str, Any]] = list(data.get("queries") or [])
    udp = [q for q in queries if q.get("transport") == "udp"]
    tcp = [q for q in queries if q.get("transport") == "tcp"]
    udp_st = [str(q.get("status")) for q in udp]
    tcp_st = [str(q.get("status")) for q in tcp]
    truncated = "truncated" in udp_st
    go_ok = "answer" in udp_st or (truncated and "answer" in tcp_st)
    servers = sorted(_udp_status_by_server(queries))
    where = ", ".join(servers) or "no resolver"
    lost = udp_st.count("timeout") + udp_st.count("filtered")
    loss = f"{lost}/{len(udp_st)} UDP queries got no reply" if udp_st else "no UDP query sent"
    code_for = (lambda c: Code.PROXY_ERROR) if proxy_host else (lambda c: c)
    if go_ok:
        addrs = ", ".join(data.get("addresses") or [])
        ev = [f"{host} resolves to {addrs} via {where}"]
        if lost:
            return Verdict(Outcome.WARNING, None, [*ev, f"packet loss: {loss}"])
        return Verdict(Outcome.OK, evidence=ev)
    ev = [f"{host}: no usable answer from {where} ({loss})"]
    for q in queries:
        if q.get("status") not in ("answer",):
            ev.append(f"  {q.get('transport')} {q.get('qtype')} {q.get('name')} @{q.get('server')}: "
                      f"{q.get('status')}{' ' + str(q.get('rcode')) if q.get('rcode') else ''}"
                      f"{' (' + str(q.get('detail')) + ')' if q.get('detail') else ''}")
            if len(ev) > 12:
                break
    if not queries:
        return Verdict(Outcome.PROBLEM, code_for(Code.DNS_RESOLVER_UNREACHABLE),
                       [f"{host}: no resolver configured"], 0.7)
    if udp_st and all(s in ("timeout", "filtered") for s in udp_st) and "answer" in tcp_st:
        how = ("this host's firewall rejects them (EPERM)" if "filtered" in udp_st
               else "UDP port 53 is dropped on the path (firewall)")
        return Verdict(Outcome.PROBLEM, code_for(Code.DNS_UDP_TIMEOUT), [
            f"{host}: no UDP query to {where} got a reply, but the same server answers over "
            f"TCP: {how}", *ev], 0.97)
    nodata_types = {q.get("qtype") for q in queries if q.get("status") == "nodata"}
    if "nxdomain" in udp_st + tcp_st or ("answer" not in tcp_st and {"A", "AAAA"} <= nodata_types):
        return Verdict(Outcome.PROBLEM, code_for(Code.DNS_NXDOMAIN),
                       [f"{host}: the name does not exist (NXDOMAIN / no A or AAAA records)", *ev])
    if any(s in ("servfail", "refused") for s in udp_st + tcp_st):
        return Verdict(Outcome.PROBLEM, code_for(Code.DNS_SERVFAIL),
                       [f"{host}: the resolver answered SERVFAIL/REFUSED", *ev])
    if "local_error" in udp_st:
        return Verdict(Outcome.PROBLEM, code_for(Code.HOST_KERNEL_UDP),
                       [f"{host}: this host's kernel refused a UDP socket for the query", *ev], 0.85)
    if udp_st and all(s in ("timeout", "filtered") for s in udp_st):
        return Verdict(Outcome.PROBLEM, code_for(Code.DNS_UDP_TIMEOUT), [
            f"{host}: every query to {where} timed out over UDP and TCP: the resolver does not "
            "answer (down, or all DNS traffic dropped)", *ev], 0.85)
    if any(s in ("conn_refused", "unreachable") for s in udp_st):
        return Verdict(Outcome.PROBLEM, code_for(Code.DNS_RESOLVER_UNREACHABLE), [
            f"{host}: the resolver {where} cannot be reached (port unreachable / no route)", *ev])
    if "timeout" in udp_st:
        return Verdict(Outcome.PROBLEM, code_for(Code.DNS_UDP_TIMEOUT), ev, 0.7)
    return Verdict(Outcome.PROBLEM, code_for(Code.DNS_SERVFAIL), ev, 0.4)


def classify_tcp(data: Mapping[str, Any], *, proxy_host: bool = False) -> Verdict:
    """Name the outcome of connecting to every address of a host."""
    results: list[Mapping[str, Any]] = list(data.get("results") or [])
    host = str(data.get("host", "?"))
    ev = [f"{r.get('address')}:{r.get('port')} ({r.get('family')}): {r.get('status')}"
          f"{' ' + str(r.get('errno')) if r.get('errno') else ''}" for r in results]
    if not results:
        return Verdict(Outcome.PROBLEM, Code.NET_UNREACHABLE, [f"{host}: no address to connect to"], 0.5)
    st = [str(r.get("status")) for r in results]
    if "ok" in st:
        if all(s == "ok" for s in st):
            return Verdict(Outcome.OK, evidence=ev)
        return Verdict(Outcome.WARNING, None, [f"{host}: some addresses fail (the runtime falls "
                                                "back to the working one)", *ev])
    wrap = (lambda c: Code.PROXY_ERROR) if proxy_host else (lambda c: c)
    if all(s == "refused" for s in st):
        return Verdict(Outcome.PROBLEM, wrap(Code.NET_REFUSED),
                       [f"{host}: connection refused (nothing listens on that port)", *ev])
    if "timeout" in st:
        return Verdict(Outcome.PROBLEM, wrap(Code.NET_TCP_TIMEOUT),
                       [f"{host}: SYN got no answer: dropped by a firewall or blackholed", *ev])
    if all(s == "unreachable" for s in st):
        return Verdict(Outcome.PROBLEM, wrap(Code.NET_UNREACHABLE),
                       [f"{host}: no route to any address", *ev])
    if "refused" in st:
        return Verdict(Outcome.PROBLEM, wrap(Code.NET_REFUSED), ev, 0.7)
    if "reset" in st:
        return Verdict(Outcome.PROBLEM, wrap(Code.NET_RESET), ev, 0.7)
    return Verdict(Outcome.PROBLEM, wrap(Code.NET_UNREACHABLE), ev, 0.5)


_TLS_CODES = {
    "unknown_authority": Code.TLS_UNKNOWN_AUTHORITY,
    "hostname_mismatch": Code.TLS_HOSTNAME_MISMATCH,
    "expired": Code.TLS_EXPIRED,
    "not_yet_valid": Code.TLS_EXPIRED,
    "http_response": Code.TLS_HTTP_RESPONSE_TO_HTTPS,
    "reset": Code.NET_RESET,
    "ca_error": Code.DAEMON_CONFIG,
}


def classify_tls(data: Mapping[str, Any], *, insecure: bool = False) -> Verdict:
    """Name the TLS outcome; ``insecure`` endpoints skip verification (and may fall back to HTTP)."""
    st = str(data.get("status"))
    host = str(data.get("host", "?"))
    cert = data.get("cert") or {}
    ev = [f"{host}: TLS {st}{': ' + str(data.get('detail')) if data.get('detail') else ''}"]
    if cert:
        ev.append(f"certificate subject={cert.get('subject')} issuer={cert.get('issuer')} "
                  f"SANs={cert.get('san')} valid {cert.get('not_before')} .. {cert.get('not_after')}")
    if st == "ok":
        return Verdict(Outcome.OK, evidence=ev)
    if st == "handshake_timeout":
        clamped = data.get("clamped_ok")
        if clamped:
            return Verdict(Outcome.PROBLEM, Code.NET_MTU, [
                *ev, "the same handshake completes when TCP segments are clamped to "
                f"{data.get('clamped_mss')} bytes: large packets are dropped on the path "
                "(path-MTU blackhole)"], 0.95)
        extra = ["the handshake also stalls with small TCP segments: not a packet-size problem"
                 ] if clamped is False else []
        return Verdict(Outcome.PROBLEM, Code.NET_TLS_HANDSHAKE_TIMEOUT, [*ev, *extra], 0.9)
    if insecure and st in ("unknown_authority", "hostname_mismatch", "expired", "not_yet_valid"):
        return Verdict(Outcome.WARNING, None, [*ev, "the endpoint is insecure: not verified"])
    if insecure and st == "http_response":
        return Verdict(Outcome.WARNING, None, [*ev, "insecure endpoint: the runtime falls back "
                                                     "to plain HTTP"])
    code = _TLS_CODES.get(st)
    return Verdict(Outcome.PROBLEM, code, ev, 0.95 if code else 0.4)


def classify_http(data: Mapping[str, Any], *, what: str, authenticated: bool = False) -> Verdict:
    """Name the outcome of one registry request (ping, token, manifest, blob).

    ``authenticated``: credentials were accepted (a token was issued for them), so a later 401/403
    means this account lacks access (denied) rather than missing credentials (unauthorized).
    """
    failure = data.get("failure")
    status = int(data.get("status") or 0)
    codes = [str(c) for c in data.get("codes") or []]
    url = str(data.get("url", ""))
    ev = [f"{what}: {url} -> " + (f"HTTP {status}" if status else "no response")
          + (f" {codes}" if codes else "")]
    if failure:
        kind = str(failure.get("kind"))
        ev.append(f"{what}: {failure.get('detail')}")
        if kind == "stall" or (kind == "read_timeout" and data.get("clamped_ok") is not None):
            if data.get("clamped_ok"):
                return Verdict(Outcome.PROBLEM, Code.NET_MTU, [*ev, (
                    "the same transfer completes with TCP segments clamped to "
                    f"{data.get('clamped_mss')} bytes: large packets are dropped (path-MTU "
                    "blackhole)")], 0.95)
            return Verdict(Outcome.PROBLEM, Code.NET_REQUEST_TIMEOUT, ev, 0.85)
        mapping = {"read_timeout": Code.NET_REQUEST_TIMEOUT, "reset": Code.NET_RESET,
                   "connect_timeout": Code.NET_TCP_TIMEOUT, "proxy": Code.PROXY_ERROR,
                   "connect_error": Code.NET_UNREACHABLE, "tls": Code.TLS_UNKNOWN_AUTHORITY}
        return Verdict(Outcome.PROBLEM, mapping.get(kind), ev, 0.8 if kind in mapping else 0.3)
    if 200 <= status < 300 or (what == "ping" and status == 401):
        return Verdict(Outcome.OK, evidence=ev)
    if 300 <= status < 400:
        return Verdict(Outcome.OK, evidence=ev)
    if status == 429 or "TOOMANYREQUESTS" in codes:
        limit = data.get("rate_limit") or {}
        return Verdict(Outcome.PROBLEM, Code.REGISTRY_RATE_LIMITED,
                       [*ev, *(f"{k}: {v}" for k, v in limit.items())], 0.97)
    if status == 407:
        return Verdict(Outcome.PROBLEM, Code.PROXY_ERROR, [*ev, "the proxy wants credentials"], 0.9)
    if status >= 500:
        return Verdict(Outcome.PROBLEM, Code.REGISTRY_SERVER_ERROR, ev, 0.9)
    if "DENIED" in codes or status == 403 or (authenticated and status == 401):
        if authenticated and status == 401:
            ev.append("the credentials were accepted, but the token grants no pull on this "
                      "repository")
        return Verdict(Outcome.PROBLEM, Code.REGISTRY_DENIED, ev, 0.9)
    if status == 401 or "UNAUTHORIZED" in codes:
        return Verdict(Outcome.PROBLEM, Code.REGISTRY_UNAUTHORIZED, ev, 0.9)
    if status == 404 and what in ("config blob", "layer"):
        return Verdict(Outcome.PROBLEM, Code.IMAGE_CORRUPT,
                       [*ev, "the manifest names a blob the registry does not have"], 0.8)
    if status == 404:
        return Verdict(Outcome.PROBLEM, Code.REGISTRY_NOT_FOUND, ev, 0.9)
    return Verdict(Outcome.PROBLEM, Code.REGISTRY_SERVER_ERROR, ev, 0.4)


def classify_digest(what: str, expected: str | None, got: str, exp_size: int | None,
                    got_size: int) -> Verdict:
    """Content must hash to its digest and have its declared size."""
    if expected and expected.startswith("sha256:") and expected != got:
        return Verdict(Outcome.PROBLEM, Code.IMAGE_CORRUPT,
                       [f"{what}: expected {expected}, content hashes to {got}"], 0.97)
    if exp_size is not None and exp_size != got_size:
        return Verdict(Outcome.PROBLEM, Code.IMAGE_CORRUPT,
                       [f"{what}: expected {exp_size} bytes, got {got_size}"], 0.95)
    return Verdict(Outcome.OK, evidence=[f"{what}: {got_size} bytes, digest verified"])


def blocked(step_name: str, by: str) -> Step:
    """A step that could not run because an earlier one broke (never counted as failed)."""
    return Step(step_name, Outcome.BLOCKED, summary=f"not run: {by} failed", blocked_by=by)


def first_problem(steps: Iterable[Step]) -> Step | None:
    for s in steps:
        if s.outcome == Outcome.PROBLEM:
            return s
    return None


def rank(
    steps: list[Step],
    *,
    values: Mapping[str, str | None],
    text_causes: list[Cause] | None = None,
    host_causes: list[Cause] | None = None,
) -> list[Cause]:
    """The ranked causes of a finished walk.

    The first PROBLEM step (walk order, endpoints the runtime falls back from excluded by the engine)
    gives the top cause. Later PROBLEM steps with other codes follow with less confidence. A cause
    the error text also names gains confidence; text and host causes the walk did not see are added
    below, lower, unless the walk proved the path healthy (then they stay out: not reproduced).
    """
    by_code: dict[str, Cause] = {}
    order: list[str] = []
    for i, s in enumerate(x for x in steps if x.outcome == Outcome.PROBLEM):
        code = s.data.get("cause")
        if not isinstance(code, str):
            continue
        conf = float(s.data.get("confidence", 0.9)) * (1.0 if i == 0 else 0.6)
        ev = [f"[{s.name}] {e}" for e in s.evidence]
        if code in by_code:  # the same failure seen again (e.g. https then http endpoint)
            known = by_code[code].evidence
            known.extend(e for e in ev if e not in known)
            continue
        by_code[code] = Cause.from_catalogue(code, conf, ev, values)
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
                by_code[c.code] = Cause.from_catalogue(
                    c.code, conf, [f"{label}: {e}" for e in c.evidence], values)
                order.append(c.code)
    ranked = [by_code[c] for c in order]
    if ranked:  # the walk's own first finding stays first; the rest by confidence
        head, tail = ranked[:1], sorted(ranked[1:], key=lambda c: -c.confidence)
        if not walk_found:
            head, tail = [], sorted(ranked, key=lambda c: -c.confidence)
        ranked = head + tail
    return ranked
