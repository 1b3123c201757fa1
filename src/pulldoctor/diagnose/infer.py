"""Classifiers: a step's typed observation -> outcome and cause. Pure: no sockets, files, clocks.

Every cause the walk proves is decided here, by one ``classify_*`` per kind of observation (the
stage that made the observation calls it; nothing else in the walk names a cause), so every rule
is unit-tested without a network. HTTP answers are classified by the catalogue's own table
(:func:`pulldoctor.causes.cause_for_registry_error`, as go-containerregistry's transport does)
plus the context the table cannot know: a ping's 401 is the expected challenge, a 404 for a blob
the manifest named is corruption, a 401 after accepted credentials is a denial.

Ranking the finished walk's causes is :mod:`pulldoctor.diagnose.rank`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from pulldoctor.causes import Code, cause_for_registry_error
from pulldoctor.diagnose.observe import (
    BlobObservation,
    ConfigObservation,
    DnsObservation,
    HostChecksObservation,
    HttpObservation,
    ManifestObservation,
    MtuRetry,
    PingObservation,
    PlatformObservation,
    ProxyObservation,
    Stall,
    TcpObservation,
    TlsObservation,
    TokenObservation,
)
from pulldoctor.model import Outcome, Step


@dataclass(slots=True)
class Verdict:
    """How one step ended and which cause (if any) it proves.

    ``ends_endpoint``: the step is fine, but the runtime goes no further on this endpoint (an
    insecure ``https://`` endpoint that speaks plain HTTP: the runtime falls back to its
    ``http://`` endpoint).
    """

    outcome: Outcome
    code: Code | None = None
    evidence: list[str] = field(default_factory=list)
    confidence: float = 0.9
    ends_endpoint: bool = False


OK = Verdict(Outcome.OK)


# ----------------------------------------------------------------------------- configuration
def classify_config(obs: ConfigObservation) -> Verdict:
    """The configuration step: a warning when files are broken or a shell proxy is ignored."""
    eps = ", ".join(url + (" (mirror)" if mirror else "") for url, mirror in obs.endpoints)
    ev = [f"runtime {obs.runtime}; endpoints in order: {eps}",
          f"resolvers: {', '.join(obs.nameservers) or '(none: Go uses 127.0.0.1, ::1)'}"]
    ev += [f"problem: {p}" for p in obs.problems]
    warn = bool(obs.problems)
    if obs.shell_proxy and obs.runtime in ("docker", "containerd") and not obs.proxy_set:
        warn = True  # a classic: the proxy is set in the shell, where the daemon never sees it
        ev.append(f"this shell sets HTTPS_PROXY={obs.shell_proxy}, but {obs.runtime}d does not "
                  "see it (only daemon.json \"proxies\" or the service's environment apply); "
                  "the walk goes direct, as the daemon does")
    return Verdict(Outcome.WARNING if warn else Outcome.OK, None, ev)


def classify_endpoints(obs: ConfigObservation) -> Verdict:
    """No endpoint left for the image is a configuration problem (nothing to pull from)."""
    if obs.endpoints:
        return OK
    return Verdict(Outcome.PROBLEM, Code.DAEMON_CONFIG,
                   ["the configuration leaves no endpoint for this image"], 0.6)


def config_problems(obs: ConfigObservation) -> Verdict:
    """Files the runtime could not read are supporting evidence of a configuration cause."""
    if not obs.problems:
        return OK
    return Verdict(Outcome.WARNING, Code.DAEMON_CONFIG,
                   [f"configuration problem: {p}" for p in obs.problems], 0.6)


# ----------------------------------------------------------------------------- DNS, TCP, TLS
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


def _retry_evidence(retry: MtuRetry | None, what: str) -> list[str]:
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
        more = _retry_evidence(obs.retry, "handshake")
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


# ----------------------------------------------------------------------------- HTTP
_TRANSPORT: dict[str, tuple[Code, float]] = {
    "read_timeout": (Code.NET_REQUEST_TIMEOUT, 0.8), "reset": (Code.NET_RESET, 0.8),
    "connect_timeout": (Code.NET_TCP_TIMEOUT, 0.8), "proxy": (Code.PROXY_ERROR, 0.8),
    "refused": (Code.NET_REFUSED, 0.8), "unreachable": (Code.NET_UNREACHABLE, 0.8),
    "tls": (Code.TLS_UNKNOWN_AUTHORITY, 0.8),
}
"""Transport failures by what was observed; ``connect_error`` (no errno) names no cause."""

_TABLE_CONFIDENCE = {Code.REGISTRY_RATE_LIMITED: 0.97}


def classify_http(obs: HttpObservation) -> Verdict:
    """Name the outcome of one registry request (ping, token, manifest, blob)."""
    f, what = obs.fetched, obs.what
    codes = list(obs.error.codes) if obs.error is not None else []
    ev = [f"{what}: {f.url} -> " + (f"HTTP {f.status}" if f.status else "no response")
          + (f" {codes}" if codes else "")]
    if f.failure is not None:
        ev.append(f"{what}: {f.failure.detail}")
        kind = f.failure.kind
        more = _retry_evidence(obs.retry, "transfer")
        if obs.retry is not None and obs.retry.ok and kind in ("stall", "read_timeout"):
            return Verdict(Outcome.PROBLEM, Code.NET_MTU, [*ev, *more], 0.95)
        if obs.deadline_cut and kind in ("stall", "read_timeout", "connect_timeout"):
            waiting = (f"a SYN-ACK from {f.url}" if kind == "connect_timeout" else
                       f"the rest of the body after {f.size} bytes of {f.url}" if kind == "stall"
                       else f"the answer to {what} {f.url}")
            v = classify_stall(Stall("tcp" if kind == "connect_timeout" else "http", waiting,
                                     f.seconds, True))
            return Verdict(v.outcome, v.code, [*v.evidence, *ev, *more], v.confidence)
        if kind == "stall" or (kind == "read_timeout" and obs.retry is not None):
            sure = obs.retry is not None and obs.retry.ok is False
            return Verdict(Outcome.PROBLEM, Code.NET_REQUEST_TIMEOUT, [*ev, *more],
                           0.85 if sure or obs.retry is None else 0.6)
        if kind in _TRANSPORT:
            code, conf = _TRANSPORT[kind]
            return Verdict(Outcome.PROBLEM, code, ev, conf)
        return Verdict(Outcome.PROBLEM, None, [*ev, "the request failed and no errno says why"],
                       0.3)
    status = f.status
    if 200 <= status < 400 or (what == "ping" and status == 401):
        return Verdict(Outcome.OK, evidence=ev)
    if obs.blob and status == 404:
        return Verdict(Outcome.PROBLEM, Code.IMAGE_CORRUPT,
                       [*ev, "the manifest names a blob the registry does not have"], 0.8)
    if obs.authenticated and status == 401:
        return Verdict(Outcome.PROBLEM, Code.REGISTRY_DENIED, [
            *ev, "the credentials were accepted, but the token grants no pull on this "
            "repository"], 0.9)
    found = cause_for_registry_error(status, codes)
    if found is None:
        return Verdict(Outcome.PROBLEM, Code.REGISTRY_SERVER_ERROR, ev, 0.4)
    code = found
    if code == Code.REGISTRY_RATE_LIMITED:
        ev += [f"{k}: {v}" for k, v in obs.rate_limit.items()]
    if code == Code.PROXY_ERROR:
        ev.append("the proxy wants credentials")
    return Verdict(Outcome.PROBLEM, code, ev, _TABLE_CONFIDENCE.get(code, 0.9))


def classify_ping(obs: PingObservation) -> Verdict:
    return classify_http(obs.http)


def classify_token(obs: TokenObservation) -> Verdict:
    """The token request: what the realm said, and what the token grants."""
    if not obs.realm_usable:
        return Verdict(Outcome.PROBLEM, Code.REGISTRY_SERVER_ERROR,
                       [f"challenge has no usable realm: {obs.realm!r}"], 0.5)
    if obs.http is None:
        return Verdict(Outcome.PROBLEM, None, ["no token request was made"], 0.3)
    v = classify_http(obs.http)
    if v.outcome != Outcome.OK:
        if obs.http.status == 401:
            v.code = Code.REGISTRY_UNAUTHORIZED
            v.evidence.append("the token server rejected the credentials" if obs.with_credentials
                              else "the token server wants credentials and none are configured")
        return v
    if not obs.token_found:
        return Verdict(Outcome.PROBLEM, Code.REGISTRY_SERVER_ERROR,
                       ["token response has no token/access_token"], 0.6)
    if obs.grants_pull is not None:
        v.evidence.append(f"token {'grants' if obs.grants_pull else 'does NOT grant'} pull on "
                          f"{obs.repository}"
                          + (" (authenticated)" if obs.with_credentials else " (anonymous)"))
    if obs.anonymous is not None and obs.anonymous.grants_pull is not None:
        v.evidence.append("an anonymous token " + ("also grants" if obs.anonymous.grants_pull
                                                   else "does not grant") + " pull")
    return v


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


def classify_manifest(obs: ManifestObservation) -> Verdict:
    """A manifest: the request, its digest and size, and whether the runtime can read it."""
    v = classify_http(obs.http)
    if v.outcome != Outcome.OK:
        return v
    f, what = obs.http.fetched, obs.http.what
    d = classify_digest(what, obs.expected_digest, f.sha256, obs.expected_size, f.size)
    if d.outcome != Outcome.OK:
        return d
    m = obs.manifest
    if m is None:
        return Verdict(Outcome.PROBLEM, None, [f"{what}: no manifest body was read"], 0.3)
    if m.unsupported:
        return Verdict(Outcome.PROBLEM, Code.IMAGE_UNSUPPORTED, [f"{what}: {m.unsupported}"])
    if not m.is_index and m.config is None:
        return Verdict(Outcome.PROBLEM, Code.IMAGE_UNSUPPORTED,
                       [f"{what}: an image manifest that names no config blob"], 0.8)
    limits = [f"{k}: {v}" for k, v in obs.http.rate_limit.items()]
    return Verdict(Outcome.OK, evidence=[f"{what}: {m.media_type} {f.sha256}", *d.evidence,
                                         *limits])


def classify_platform(obs: PlatformObservation) -> Verdict:
    if obs.chosen is None:
        return Verdict(Outcome.PROBLEM, Code.IMAGE_PLATFORM_MISMATCH, [
            f"the index offers {', '.join(obs.offered) or 'no platform'}; "
            f"this pull wants {obs.wanted}"], 0.97)
    return Verdict(Outcome.OK, evidence=[f"{obs.wanted} -> {obs.chosen.get('digest')}"])


def classify_blob(obs: BlobObservation) -> Verdict:
    """One hop of a blob: a redirect, or the content verified against its digest and size."""
    v = classify_http(obs.http)
    f, what = obs.http.fetched, obs.http.what
    if v.outcome != Outcome.OK:
        return v
    if 300 <= f.status < 400:
        host = (obs.http.location or "").split("://", 1)[-1].split("/", 1)[0]
        v.evidence.append(f"redirected to {host} (Authorization is not sent there)")
        return v
    if obs.method == "HEAD":
        got = int(f.headers.get("content-length", "-1") or -1)
        if obs.expected_size is not None and got >= 0 and got != obs.expected_size:
            return classify_digest(what, None, "", obs.expected_size, got)
        return v
    d = classify_digest(what, obs.digest, f.sha256, obs.expected_size, f.size)
    rate = (f"{f.size} bytes in {f.seconds:.2f}s ({f.throughput_mbps} Mbit/s)"
            if f.throughput_mbps else f"{f.size} bytes")
    return Verdict(d.outcome, d.code, [*v.evidence, *d.evidence, rate], d.confidence)


# ----------------------------------------------------------------------------- stalls, host
STALL_MIN_S = 0.25
"""Silence shorter than this proves nothing, whatever the link."""
STALL_RTTS = 4.0

_STALL_CAUSES: dict[str, tuple[Code, float]] = {
    "dns": (Code.DNS_UDP_TIMEOUT, 0.6), "tcp": (Code.NET_TCP_TIMEOUT, 0.7),
    "proxy": (Code.PROXY_ERROR, 0.6), "tls": (Code.NET_TLS_HANDSHAKE_TIMEOUT, 0.8),
    "http": (Code.NET_REQUEST_TIMEOUT, 0.8),
}


def classify_stall(obs: Stall) -> Verdict:
    """A step cut short while waiting: the silence itself is evidence, when it was long enough.

    A TLS handshake that never completes is ``net.tls_handshake_timeout``, a request with no
    response ``net.request_timeout``, a connect with no SYN-ACK ``net.tcp_timeout``. Silence
    shorter than :data:`STALL_MIN_S`, or than four measured round trips, proves nothing: then
    what ran out was the diagnosis's own time, and the step says so.
    """
    cut = "the deadline (--timeout) cut it" if obs.by_deadline else "its own time ran out"
    ev = [f"no answer after {obs.waited_s:.2f}s while waiting for {obs.waiting_for}; {cut}"]
    floor = max(STALL_MIN_S, STALL_RTTS * obs.rtt_s if obs.rtt_s else 0.0)
    if obs.waited_s < floor or obs.stage not in _STALL_CAUSES:
        ev.append("too short to prove a stall on this link (raise --timeout)")
        return Verdict(Outcome.TIMEOUT, None, ev)
    code, conf = _STALL_CAUSES[obs.stage]
    return Verdict(Outcome.TIMEOUT, code, ev, conf)


def classify_host_checks(obs: HostChecksObservation, *, walk_found: bool) -> Verdict:
    if obs.crashed:
        return Verdict(Outcome.CRASHED, None, [f"host checks failed: {obs.crashed}"])
    if not obs.finished:
        return Verdict(Outcome.SKIPPED, None, ["host checks did not finish before the deadline"
                                               + (" (not needed)" if walk_found else "")])
    if obs.codes:
        return Verdict(Outcome.WARNING, None,
                       ["host checks found: " + ", ".join(obs.codes), *obs.evidence])
    return Verdict(Outcome.OK, None, ["host checks found nothing wrong"])


# ----------------------------------------------------------------------------- helpers
def ruled_out(step: Step) -> frozenset[str]:
    """What this step's evidence rules out, so a fix never contradicts it (``"mtu"`` when the
    exchange also stalled with small segments)."""
    obs = step.observation
    retry = obs.retry if isinstance(obs, TlsObservation | HttpObservation) else None
    return frozenset({"mtu"}) if retry is not None and retry.ok is False else frozenset()


def blocked(step_name: str, by: str) -> Step:
    """A step that could not run because an earlier one broke (never counted as failed)."""
    return Step(step_name, Outcome.BLOCKED, summary=f"not run: {by} failed", blocked_by=by)
