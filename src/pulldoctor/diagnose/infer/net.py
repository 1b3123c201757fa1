"""Classifiers of reaching a host: DNS (as Go's resolver sees it), TCP, the proxy tunnel, TLS.
Pure: no sockets, files or clocks."""

from __future__ import annotations

from pulldoctor.causes import Code
from pulldoctor.diagnose.infer.common import Verdict, classify_stall
from pulldoctor.diagnose.observe import (
    DnsObservation,
    MtuRetry,
    ProxyObservation,
    Stall,
    TcpObservation,
    TlsObservation,
)
from pulldoctor.model import Outcome


def classify_dns(obs: DnsObservation) -> Verdict:
    """Name the DNS outcome for one host as Go's resolver would experience it.

    Go asks over UDP and uses TCP only after a truncated reply (``use-vc``: TCP only); so a name
    counts as resolved only when the runtime's own transport got an answer. TCP answering while
    every UDP query was lost is the firewall-drops-UDP signature.
    """
    res, host = obs.result, obs.host
    if res.literal or res.from_hosts_file:
        how = "an IP literal" if res.literal else "/etc/hosts"
        return Verdict(Outcome.OK, evidence=[f"{host} comes from {how}: no DNS query needed"])
    queries = res.queries
    udp_st = [q.status for q in queries if q.transport == "udp"]
    tcp_st = [q.status for q in queries if q.transport == "tcp"]
    servers = sorted({q.server for q in queries if q.transport == ("tcp" if obs.use_vc else "udp")})
    where = ", ".join(servers) or "no resolver"
    lost = udp_st.count("timeout") + udp_st.count("filtered")
    loss = f"{lost}/{len(udp_st)} UDP queries got no reply" if udp_st else "no UDP query sent"

    def code_for(c: Code) -> Code:
        return Code.PROXY_ERROR if obs.proxy_host else c

    if obs.runtime_addresses:
        ev = [f"{host} resolves to {', '.join(obs.runtime_addresses)} via {where}"
              + (" (over TCP: options use-vc)" if obs.use_vc else "")]
        if lost and not obs.use_vc:
            return Verdict(Outcome.WARNING, None, [*ev, f"packet loss: {loss}"])
        return Verdict(Outcome.OK, evidence=ev)
    ev = [f"{host}: no usable answer from {where} ({loss})"]
    for q in queries:
        if q.status != "answer":
            ev.append(f"  {q.transport} {q.qtype} {q.name} @{q.server}: {q.status}"
                      + (f" {q.rcode}" if q.rcode else "") + (f" ({q.detail})" if q.detail else ""))
            if len(ev) > 12:
                break
    if not queries:
        return Verdict(Outcome.PROBLEM, code_for(Code.DNS_RESOLVER_UNREACHABLE),
                       [f"{host}: no resolver configured"], 0.7)
    if obs.use_vc:
        udp_st, tcp_st = tcp_st, []  # the runtime's transport is TCP: judge it as Go would
    elif udp_st and all(s in ("timeout", "filtered") for s in udp_st) and "answer" in tcp_st:
        how = ("this host's firewall rejects them (EPERM)" if "filtered" in udp_st
               else "UDP port 53 is dropped on the path (firewall)")
        return Verdict(Outcome.PROBLEM, code_for(Code.DNS_UDP_TIMEOUT), [
            f"{host}: no UDP query to {where} got a reply, but the same server answers over "
            f"TCP: {how}", *ev], 0.97)
    nodata_types = {q.qtype for q in queries if q.status == "nodata"}
    if "nxdomain" in udp_st + tcp_st or ("answer" not in tcp_st and {"A", "AAAA"} <= nodata_types):
        return Verdict(Outcome.PROBLEM, code_for(Code.DNS_NXDOMAIN),
                       [f"{host}: the name does not exist (NXDOMAIN / no A or AAAA records)", *ev])
    if any(s in ("servfail", "refused") for s in udp_st + tcp_st):
        return Verdict(Outcome.PROBLEM, code_for(Code.DNS_SERVFAIL),
                       [f"{host}: the resolver answered SERVFAIL/REFUSED", *ev])
    if "local_error" in udp_st:
        return Verdict(Outcome.PROBLEM, code_for(Code.HOST_KERNEL_UDP),
                       [f"{host}: this host's kernel refused a UDP socket for the query", *ev],
                       0.85)
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


def classify_tcp(obs: TcpObservation) -> Verdict:
    """Name the outcome of connecting to every address of a host."""
    results, host = obs.results, obs.host
    ev = [f"{r.address}:{r.port} ({r.family}): {r.status}"
          f"{' ' + r.errno_name if r.errno_name else ''}" for r in results]
    if not results:
        return Verdict(Outcome.PROBLEM, Code.NET_UNREACHABLE,
                       [f"{host}: no address to connect to"], 0.5)
    st = [r.status for r in results]
    if "ok" in st:
        if all(s == "ok" for s in st):
            return Verdict(Outcome.OK, evidence=ev)
        return Verdict(Outcome.WARNING, None, [f"{host}: some addresses fail (the runtime falls "
                                                "back to the working one)", *ev])

    def wrap(c: Code) -> Code:
        return Code.PROXY_ERROR if obs.proxy_host else c

    if obs.deadline_cut and "timeout" in st and not {"refused", "unreachable"} & set(st):
        waited = max((r.latency_s or 0.0) for r in results)
        v = classify_stall(Stall("tcp", f"a SYN-ACK from {host}:{obs.port}", waited, True))
        v.code = wrap(v.code) if v.code else None
        v.evidence += ev
        return v
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
    return Verdict(Outcome.PROBLEM, None, [*ev, f"{host}: the connect failed without an errno "
                                                "that names why"], 0.3)


def classify_proxy(obs: ProxyObservation) -> Verdict:
    """The CONNECT tunnel through the runtime's proxy."""
    if obs.error is None:
        return Verdict(Outcome.OK, evidence=[f"proxy tunnel to {obs.target} is open"])
    return Verdict(Outcome.PROBLEM, Code.PROXY_ERROR, [
        f"proxy {obs.proxy} could not open a tunnel to {obs.target}: {obs.error}"], 0.95)


_TLS_CODES = {
    "unknown_authority": Code.TLS_UNKNOWN_AUTHORITY,
    "hostname_mismatch": Code.TLS_HOSTNAME_MISMATCH,
    "expired": Code.TLS_EXPIRED,
    "not_yet_valid": Code.TLS_EXPIRED,
    "http_response": Code.TLS_HTTP_RESPONSE_TO_HTTPS,
    "reset": Code.NET_RESET,
    "ca_error": Code.DAEMON_CONFIG,
}


def retry_evidence(retry: MtuRetry | None, what: str) -> list[str]:
    if retry is None:
        return []
    if retry.ok is None:
        return [f"not repeated with small TCP segments ({retry.skipped}): packet size not tested"]
    if retry.ok:
        return [f"the same {what} completes when TCP segments are clamped to {retry.mss} bytes: "
                "large packets are dropped on the path (path-MTU blackhole)"]
    return [f"the {what} also stalls with small TCP segments ({retry.mss} bytes): not a "
            "packet-size problem"]


def classify_tls(obs: TlsObservation) -> Verdict:
    """Name the TLS outcome; insecure endpoints skip verification (and may fall back to HTTP)."""
    r = obs.result
    st = r.status
    ev = [f"{r.host}: TLS {st}{': ' + r.detail if r.detail else ''}"]
    cert = r.cert
    if cert:
        ev.append(f"certificate subject={cert.get('subject')} issuer={cert.get('issuer')} "
                  f"SANs={cert.get('san')} valid {cert.get('not_before')} .. "
                  f"{cert.get('not_after')}")
    if st == "ok":
        return Verdict(Outcome.OK, evidence=ev)
    if st == "handshake_timeout":
        more = retry_evidence(obs.retry, "handshake")
        if obs.retry is not None and obs.retry.ok:
            return Verdict(Outcome.PROBLEM, Code.NET_MTU, [*ev, *more], 0.95)
        if obs.deadline_cut:
            v = classify_stall(Stall("tls", f"{r.host}'s answer to the TLS ClientHello",
                                     r.latency_s or 0.0, True))
            return Verdict(v.outcome, v.code, [*v.evidence, *ev, *more], v.confidence)
        return Verdict(Outcome.PROBLEM, Code.NET_TLS_HANDSHAKE_TIMEOUT, [*ev, *more], 0.9)
    if obs.insecure and st in ("unknown_authority", "hostname_mismatch", "expired",
                               "not_yet_valid"):
        return Verdict(Outcome.WARNING, None, [*ev, "the endpoint is insecure: not verified"])
    if obs.insecure and st == "http_response" and obs.http_fallback:
        return Verdict(Outcome.WARNING, None, [*ev, "insecure registry: the runtime falls back to "
                                                    "its plain-HTTP endpoint"], ends_endpoint=True)
    code = _TLS_CODES.get(st)
    return Verdict(Outcome.PROBLEM, code, ev, 0.95 if code else 0.4)
