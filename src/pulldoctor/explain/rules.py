"""The rule table: which wording points at which cause, and how sure that wording makes us.

One :class:`Rule` per piece of expert knowledge, each small and named, all in :data:`RULES`. A rule
matches the *runtime's* wording (pull-internals.md says where each string is produced), names one
cause with a confidence, and may name alternatives the same words are also consistent with, plus the
check that tells them apart (``distinguish``). Candidates from all matching rules are merged by cause
code (highest confidence wins, evidence is pooled) and ranked.

Confidence is ordinal, not a probability: specific wording (``server misbehaving``) outranks generic
wording (``context deadline exceeded``) that often wraps it. Patterns use bounded repetition only.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from pulldoctor.causes import Code, render_commands
from pulldoctor.explain.prefilter import Gated
from pulldoctor.model import Cause

_H = r"(?:\[[0-9a-fA-F:.%\w]{2,64}\]|[\w.<>*-]{1,255})"  # a host or [v6] address as Go prints it
_A = _H + r":\d{1,5}"  # host:port
DIAGNOSE = "pulldoctor diagnose {image}   # re-walks the pull step by step and proves which one fails"


@dataclass(frozen=True, slots=True)
class Rule:
    """One piece of knowledge: wording -> cause (and the alternatives it does not exclude)."""

    name: str
    code: Code
    pattern: re.Pattern[str]
    confidence: float
    also: tuple[tuple[Code, float], ...] = ()
    distinguish: tuple[str, ...] = ()
    unless: re.Pattern[str] | None = None
    needles: tuple[str, ...] | None = None
    """Words one of which every match contains; derived from the pattern when not given."""


def _r(name: str, code: Code, pattern: str, confidence: float, *,
       also: tuple[tuple[Code, float], ...] = (), distinguish: tuple[str, ...] = (),
       unless: str | None = None, needles: tuple[str, ...] | None = None) -> Rule:
    return Rule(name, code, re.compile(pattern), confidence, also, distinguish,
                re.compile(unless) if unless else None, needles)


_DNS_UDP_VS_TCP = ("dig +notcp +tries=1 +time=2 @{resolver} {host}  vs  "
                   "dig +tcp +tries=1 +time=2 @{resolver} {host}   # only TCP answers: UDP/53 is dropped")
_LOOKUP = r"lookup [\w.*-]{1,255}(?: on " + _A + r")?: "

RULES: tuple[Rule, ...] = (
    # --- DNS (the "udp" in these messages is the name lookup, never the image transfer) -----
    _r("dns_read_udp_timeout", Code.DNS_UDP_TIMEOUT,
       _LOOKUP + r"read udp " + _A + "->" + _A + r": i/o timeout", 0.92,
       also=((Code.DNS_RESOLVER_UNREACHABLE, 0.3), (Code.HOST_KERNEL_UDP, 0.15)),
       distinguish=(_DNS_UDP_VS_TCP, "nstat -az UdpRcvbufErrors   # kernel drops instead of the network")),
    _r("dns_lookup_timeout", Code.DNS_UDP_TIMEOUT, _LOOKUP + r"[^\n]{0,80}?i/o timeout", 0.85,
       also=((Code.DNS_RESOLVER_UNREACHABLE, 0.3),), distinguish=(_DNS_UDP_VS_TCP,)),
    _r("dial_tcp_no_address_timeout", Code.DNS_UDP_TIMEOUT, r"dial tcp: i/o timeout", 0.75,
       also=((Code.NET_TCP_TIMEOUT, 0.3),),
       distinguish=("dig @{resolver} {host}   # no answer: DNS; an answer: then nc -vz -w 3 {host} 443",
                    "'dial tcp' without an address means the lookup inside the dial never finished")),
    _r("dns_resolver_refused", Code.DNS_RESOLVER_UNREACHABLE,
       _LOOKUP + r"(?:read|write|dial) udp[^\n]{0,140}?connection refused", 0.92),
    # Go's net.OpError for the resolver's own socket, when a wrapper dropped the "lookup" prefix:
    # port 53 over UDP is only ever the name lookup (pull-internals.md 2.6)
    _r("dns_socket_timeout", Code.DNS_UDP_TIMEOUT,
       r"read udp " + _A + "->" + _H + r":53: i/o timeout", 0.85,
       also=((Code.DNS_RESOLVER_UNREACHABLE, 0.3),), distinguish=(_DNS_UDP_VS_TCP,)),
    _r("dns_socket_refused", Code.DNS_RESOLVER_UNREACHABLE,
       r"(?:read|write|dial) udp (?:" + _A + "->)?" + _H
       + r":53: (?:read: |write: |connect: )?connection refused", 0.88),
    _r("dns_resolver_no_route", Code.DNS_RESOLVER_UNREACHABLE,
       r"dial udp " + _A + r": (?:connect: )?(?:network is unreachable|no route to host|"
       r"socket: permission denied)", 0.9),
    _r("dns_eai_again", Code.DNS_RESOLVER_UNREACHABLE,
       r"lookup [\w.*-]{1,255}: (?:Try again|Temporary failure in name resolution)|"
       r"Temporary failure in name resolution", 0.62,
       also=((Code.DNS_UDP_TIMEOUT, 0.45),),
       distinguish=("cat /etc/resolv.conf && dig @NAMESERVER {host}   # refused/unreachable vs "
                    "no answer (libc prints 'Try again' for both)",)),
    _r("dns_servfail", Code.DNS_SERVFAIL, r"server misbehaving|lame referral", 0.9),
    _r("dns_nxdomain", Code.DNS_NXDOMAIN,
       r"(?:" + _LOOKUP + r")?no such host|Name or service not known|nodename nor servname provided",
       0.86, distinguish=("dig @{resolver} {host}; grep -E 'search|ndots' /etc/resolv.conf",)),
    _r("dns_garbled", Code.DNS_SERVFAIL,
       r"cannot unmarshal DNS message|invalid DNS response|no answer from DNS server", 0.5,
       also=((Code.DNS_UDP_TIMEOUT, 0.3),)),
    _r("dns_udp_eperm", Code.DNS_UDP_TIMEOUT,
       r"(?:write|dial|read) udp[^\n]{0,140}?operation not permitted", 0.55,
       also=((Code.HOST_KERNEL_UDP, 0.3),),
       distinguish=("nft list ruleset | grep -n 'dport 53'   # a local reject gives EPERM",)),
    _r("kernel_udp_limits", Code.HOST_KERNEL_UDP,
       r"(?:read|write|dial) udp[^\n]{0,140}?(?:no buffer space available|cannot assign requested "
       r"address|resource temporarily unavailable)|nf_conntrack: table full", 0.75),
    # --- TCP / transport -------------------------------------------------------------------
    _r("tcp_connect_timeout", Code.NET_TCP_TIMEOUT,
       r"dial tcp " + _A + r": (?:i/o timeout|connect: connection timed out|connectex: A connection "
       r"attempt failed)|connect: connection timed out", 0.86,
       also=((Code.PROXY_ERROR, 0.15),),
       distinguish=("nc -vz -w 3 {host} 443   # times out here too: a firewall or route drops SYNs",
                    "systemctl show --property=Environment docker   # does this network need a proxy?"),
       unless=r"proxyconnect|error connecting to proxy|connecting to " + _A + r": dial tcp"),
    _r("tcp_refused", Code.NET_REFUSED,
       r"dial tcp " + _A + r": (?:getsockopt: |connect: |connectex: )?(?:connection refused|"
       r"No connection could be made because the target machine actively refused it)", 0.86,
       distinguish=("nc -vz -w 3 {host} {port}   # refused here too: nothing listens there, or a "
                    "firewall REJECTs the dial",),
       unless=r"proxyconnect|error connecting to proxy|connecting to " + _A + r": dial tcp"),
    # a public registry does not refuse 443 itself: a middlebox does, typically on a network that
    # only lets a proxy out (loopback and private addresses are real local services, not this)
    _r("refused_public_address", Code.PROXY_ERROR,
       r"dial tcp (?!127\.|10\.|192\.168\.|172\.(?:1[6-9]|2\d|3[01])\.|0\.0\.0\.0)"
       r"\d{1,3}(?:\.\d{1,3}){3}:\d{1,5}: (?:getsockopt: |connect: |connectex: )?connection refused",
       0.3, distinguish=("nc -vz -w 3 {host} 443   # refused here too while the registry is up "
                         "elsewhere: a firewall REJECTs direct dials; is a proxy required?",),
       unless=r"proxyconnect|error connecting to proxy|connecting to " + _A + r": dial tcp"),
    # 0.0.0.0 is never a registry's address: the name was blackholed locally (/etc/hosts, a DNS
    # filter), so the configured route to the registry (mirror, hosts entry) is suspect. A runner-up
    # only: the refusal itself is real, and scan's shapes blank addresses (the top cause may not
    # depend on one)
    _r("dial_unspecified_address", Code.DAEMON_CONFIG, r"dial tcp (?:0\.0\.0\.0|\[::\]):\d{1,5}", 0.6,
       distinguish=("getent hosts {host}; grep -n '{host}' /etc/hosts   # 0.0.0.0 comes from a "
                    "hosts entry or a DNS filter, not from the registry",
                    "docker info | grep -A3 'Registry Mirrors'   # a mirror that is not used",)),
    _r("tcp_unreachable", Code.NET_UNREACHABLE,
       r"dial tcp " + _A + r": (?:getsockopt: |connect: )?(?:no route to host|network is unreachable)|"
       r"dial tcp \[[0-9a-fA-F:.%\w]{2,64}\]:\d{1,5}: (?:connect: )?cannot assign requested address",
       0.86),
    _r("tls_handshake_timeout", Code.NET_TLS_HANDSHAKE_TIMEOUT, r"TLS handshake timeout", 0.86,
       also=((Code.NET_MTU, 0.3),),
       distinguish=("openssl s_client -connect {host}:443 -servername {host} </dev/null   "
                    "# stalls after ClientHello with large certs: MTU",)),
    _r("connection_reset", Code.NET_RESET,
       r"connection reset by peer|broken pipe|server sent GOAWAY|tls: bad record MAC|unexpected EOF|"
       r"http2: stream closed|stream error: stream ID \d{1,10}; INTERNAL_ERROR", 0.8),
    _r("bare_eof", Code.NET_RESET, r"(?::|\]) EOF\b", 0.55),
    _r("stalled_transfer", Code.NET_MTU,
       r"read tcp " + _A + "->" + _A + r": (?:read: )?(?:connection timed out|i/o timeout)", 0.5,
       also=((Code.NET_REQUEST_TIMEOUT, 0.45),),
       distinguish=("pulldoctor diagnose --layers {image}   # small replies work, large ones stall: MTU",)),
    _r("request_timeout", Code.NET_REQUEST_TIMEOUT,
       r"context deadline exceeded|Client\.Timeout exceeded[^\n)]{0,40}|timeout awaiting response "
       r"headers|because of no progress in \S{1,20}|request canceled(?! while waiting for connection)",
       0.7),
    _r("waiting_for_connection", Code.NET_REQUEST_TIMEOUT,
       r"request canceled while waiting for connection[^\n]{0,60}", 0.6,
       also=((Code.DNS_UDP_TIMEOUT, 0.4), (Code.NET_TCP_TIMEOUT, 0.35)),
       distinguish=(DIAGNOSE.replace("proves which one fails", "times DNS, TCP and TLS separately"),
                    "dig @{resolver} {host} && nc -vz -w 3 {host} 443")),
    _r("v1_network_timed_out", Code.DNS_UDP_TIMEOUT,
       r"Network timed out while trying to connect to \S{1,300}", 0.5,
       also=((Code.NET_TCP_TIMEOUT, 0.45), (Code.NET_REQUEST_TIMEOUT, 0.35)),
       distinguish=("dig {host}   # no answer: DNS", "nc -vz -w 3 {host} 443   # no connect: TCP")),
    # the front end's 408 page: a GET has no body, so its *headers* did not arrive whole -- lost
    # full-size segments on the way to the registry (every such thread was fixed by the MTU)
    _r("http_408_incomplete_request", Code.NET_MTU,
       r"didn't send a complete request in time", 0.6, also=((Code.NET_REQUEST_TIMEOUT, 0.45),),
       distinguish=("ping -M do -s 1472 -c 3 {host}   # 'message too long' or no reply: "
                    "lower the MTU (daemon.json \"mtu\", or the interface)",)),
    _r("http_408", Code.NET_REQUEST_TIMEOUT, r"\b408\b|Request Time-?out", 0.5,
       also=((Code.NET_MTU, 0.35),),
       distinguish=("pulldoctor diagnose --layers {image}   # the request body never arrived whole: MTU",)),
    # --- proxy ----------------------------------------------------------------------------
    _r("proxyconnect", Code.PROXY_ERROR, r"proxyconnect tcp[^\n]{0,200}", 0.92,
       also=((Code.DAEMON_CONFIG, 0.3),),
       distinguish=("systemctl show --property=Environment docker containerd   # the proxy the "
                    "runtime uses; curl -v -x \"$HTTPS_PROXY\" https://{host}/v2/",)),
    _r("proxy_connect_error", Code.PROXY_ERROR, r"error connecting to proxy[^\n]{0,200}", 0.9),
    _r("proxy_auth", Code.PROXY_ERROR, r"Proxy Authentication Required|\b407\b", 0.86),
    _r("desktop_proxy_connect", Code.PROXY_ERROR,
       r"connecting to " + _A + r": dial tcp " + _A + r": [^\n]{0,160}", 0.7,
       unless=r"via direct connection"),
    _r("desktop_direct_connect_timeout", Code.NET_TCP_TIMEOUT,
       r"via direct connection[^\n]{0,300}?(?:connectex: A connection attempt failed|i/o timeout|"
       r"connection timed out)", 0.88),
    _r("dial_invalid_argument", Code.PROXY_ERROR, r"dial tcp " + _A + r": connect: invalid argument", 0.4,
       also=((Code.DAEMON_CONFIG, 0.3),)),
    # --- TLS ------------------------------------------------------------------------------
    _r("http_response_to_https", Code.TLS_HTTP_RESPONSE_TO_HTTPS,
       r"server gave HTTP response to HTTPS client|first record does not look like a TLS handshake", 0.95),
    _r("tls_spoken_to_http", Code.DAEMON_CONFIG, r"malformed HTTP response[^\n]{0,40}", 0.7,
       distinguish=("curl -v https://{host}/v2/   # the registry speaks TLS: use https:// "
                    "in hosts.toml / drop it from insecure-registries",)),
    _r("unknown_authority", Code.TLS_UNKNOWN_AUTHORITY,
       r"x509: certificate signed by unknown authority|certificate is not trusted|"
       r"unable to get local issuer certificate|x509: [^\n]{0,40}self[- ]signed certificate", 0.92,
       # the CA is often installed, but where this client does not read it (ctr ignores the CRI
       # config, docker reads certs.d/<host:port>, containerd reads hosts.toml via config_path)
       also=((Code.DAEMON_CONFIG, 0.3),),
       distinguish=("openssl s_client -connect {host}:443 -servername {host} -CAfile CA.crt "
                    "</dev/null   # verifies with the CA: it is installed where this client "
                    "does not read it",)),
    # TLS alert 116: the registry wants a client certificate and none was sent
    _r("client_cert_required", Code.DAEMON_CONFIG, r"tls: certificate required", 0.8,
       distinguish=("grep -rn client /etc/containerd/certs.d/{registry}/ /etc/docker/certs.d/"
                    "{registry}/   # the client cert/key the registry requires is not configured "
                    "(or not read)",)),
    _r("hostname_mismatch", Code.TLS_HOSTNAME_MISMATCH,
       r"x509: certificate is valid for [^\n]{0,300}?, not \S{1,255}|relies on legacy Common Name field|"
       r"certificate is not valid for any names|because it doesn't contain any IP SANs", 0.92),
    _r("cert_expired", Code.TLS_EXPIRED, r"x509: certificate has expired or is not yet valid[^\n]{0,120}", 0.92,
       distinguish=("timedatectl   # a wrong clock makes every certificate look expired",)),
    # --- registry answers -----------------------------------------------------------------
    _r("rate_limited", Code.REGISTRY_RATE_LIMITED,
       r"toomanyrequests[^\n]{0,120}|Too Many Requests|[Ss]tatus:? 429\b|\b429 Too|pull rate limit", 0.95),
    _r("pull_access_denied", Code.REGISTRY_DENIED,
       r"pull access denied[^\n]{0,200}|not found: does not exist or no pull access", 0.75,
       also=((Code.REGISTRY_NOT_FOUND, 0.55),),
       distinguish=("docker login {registry} && docker pull {image}   # still denied with valid "
                    "credentials: the repository does not exist (Hub answers both the same way)",
                    DIAGNOSE)),
    _r("denied", Code.REGISTRY_DENIED,
       r"denied: [^\n]{0,160}|requested access to the resource is denied|\b403 Forbidden|"
       r"status(?: code)?:? 403\b|HTTP 403 response|: denied(?m:[.\"]{0,2}\s{0,4}$)|insufficient_scope|"
       r"\b403 \(Forbidden\)|invalid status code from registry 403", 0.8, unless=r"Authorization Token has expired|pull access denied"),
    _r("token_expired", Code.REGISTRY_UNAUTHORIZED,
       r"Authorization Token has expired|token (?:has )?expired", 0.86),
    _r("unauthorized", Code.REGISTRY_UNAUTHORIZED,
       r"unauthorized: [^\n]{0,160}|authentication required|\b401 Unauthorized|no basic auth credentials|"
       r"incorrect username or password|invalid username/password|status(?: code)?:? 401\b|"
       r"HTTP 401 response|401 Client Error|\b401 unauthorized|invalid status code from registry 401",
       0.85),
    _r("ghcr_stale_token", Code.REGISTRY_UNAUTHORIZED,
       r"https://ghcr\.io/v2/[^\n]{0,300}?denied: denied", 0.84, also=((Code.REGISTRY_DENIED, 0.6),),
       distinguish=("docker logout ghcr.io && docker pull {image}   # works (public image) or asks "
                    "for login: the stored ghcr token was stale; ghcr answers 'denied' instead of 401",)),
    _r("hub_missing_repository", Code.REGISTRY_DENIED,
       r"denied: requested access to the resource is denied\s{1,8}unauthorized: authentication required",
       0.88, also=((Code.REGISTRY_NOT_FOUND, 0.6),),
       distinguish=("docker login docker.io && docker pull {image}   # still refused: the repository "
                    "does not exist (Hub answers DENIED+UNAUTHORIZED for missing and private repos)",)),
    _r("quay_not_authorized", Code.REGISTRY_NOT_FOUND,
       r"access to the requested resource is not authorized", 0.45,
       distinguish=("skopeo inspect --creds USER docker://{image}   # not found with valid "
                    "credentials: the repository or tag does not exist (quay answers 401 for both)",)),
    _r("not_found", Code.REGISTRY_NOT_FOUND,
       r"manifest unknown|manifest for \S{1,300} not found|repository \S{1,300} not found|name unknown|"
       r"blob unknown|could not fetch content descriptor[^\n]{0,200}|\b404 Not Found|\bnot found\b|"
       r"invalid status code from registry 404",
       0.85, unless=r"no match for platform|no matching manifest|not found locally|"
                    r"executable file not found|does not exist or no pull access"),
    _r("server_error", Code.REGISTRY_SERVER_ERROR,
       r"(?<!HTTP code )\b5\d\d (?:Internal Server Error|Bad Gateway|Service Unavailable|Gateway Time-?out)|"
       r"\b5\d\d \((?:Internal Server Error|Bad Gateway|Service Unavailable)\)|"
       r"StatusCode: 5\d\d|unavailable: service unavailable|HTTP 5\d\d response|"
       r"unexpected HTTP status: 5\d\d", 0.85,
       needles=("Internal Server Error", "Bad Gateway", "Service Unavailable", "Gateway Time",
                "StatusCode: 5", "service unavailable", "response", "HTTP status: 5")),
    _r("ping_bad_gateway", Code.REGISTRY_SERVER_ERROR,
       r"(?:pinging (?:docker|container) registry|ping attempt failed)[^\n]{0,300}?\b50[234]\b", 0.8,
       also=((Code.PROXY_ERROR, 0.45),),
       distinguish=("env | grep -i -e proxy -e no_proxy   # a proxy that cannot reach an internal "
                    "registry answers 502: add the registry to NO_PROXY",)),
    # docker-py / the Engine API's own 500 wraps whatever the daemon hit: any inner cause wins
    _r("engine_api_500", Code.REGISTRY_SERVER_ERROR, r"\b5\d\d Server Error", 0.5),
    _r("proxy_bare_status", Code.PROXY_ERROR,
       r"https?://[^\s\"]{1,500}\\?\"?: (?:Internal Server Error|Bad Gateway|Service Unavailable|"
       r"Gateway Timeout|Forbidden)\b", 0.75,
       distinguish=("a bare status text after the URL (no code) is Go's report of a proxy refusing "
                    "CONNECT: env | grep -i proxy; curl -v -x \"$HTTPS_PROXY\" https://{host}/v2/",)),
    # --- image content --------------------------------------------------------------------
    _r("platform_mismatch", Code.IMAGE_PLATFORM_MISMATCH,
       r"(?i:no matching manifest for) [^\n]{0,80}|no match for platform in manifest|"
       r"does not match the specified platform|image platform[^\n]{0,80}?does not match|"
       r"no image found in (?:image index|manifest list) for architecture", 0.95,
       needles=("atching manifest", "ATCHING MANIFEST", "no match for platform",
                "does not match the specified platform", "does not match", "no image found in ")),
    _r("empty_content", Code.IMAGE_CORRUPT,
       r"unexpected commit digest sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
       0.6, also=((Code.IMAGE_UNSUPPORTED, 0.45), (Code.NET_RESET, 0.35)),
       distinguish=("the body received was empty (sha256 of zero bytes): skopeo inspect --raw "
                    "docker://{image}, then pull once more without a caching proxy",)),
    _r("digest_mismatch", Code.IMAGE_CORRUPT,
       r"unexpected commit (?:digest|size)[^\n]{0,200}|verification failed for digest \S{1,80}|"
       r"Digest did not match[^\n]{0,160}|does not match provided manifest digest|"
       r"layers from manifest don't match image configuration|invalid tar header|digest mismatch",
       0.85, unless=r"unexpected commit digest sha256:e3b0c442"),
    _r("unsupported_manifest", Code.IMAGE_UNSUPPORTED,
       r"schema ?1\b|unsupported media ?type|unknown media ?type|manifest\.v1\+(?:prettyjws|json)|"
       r"Image Format v1|mediaType in manifest should be|unsupported manifest|unsupported schema version|"
       r"encountered unknown type|Unexpected media type|unsupported image-specific operation on artifact",
       0.85),
    # --- host resources, reference, daemon configuration -----------------------------------
    _r("disk_full", Code.HOST_DISK_FULL, r"no space left on device|disk quota exceeded", 0.95),
    _r("unpack_io_error", Code.HOST_DISK_FULL,
       r"(?:failed to (?:extract|register|mount|apply)|ApplyLayer)[^\n]{0,400}?input/output error", 0.5,
       distinguish=("df -h /var/lib/docker /var/lib/containerd; lvs   # a full thin pool or LV "
                    "answers writes with EIO, not ENOSPC",)),
    _r("out_of_memory", Code.HOST_MEMORY, r"cannot allocate memory|out of memory|OOMKilled", 0.85),
    _r("killed_helper", Code.HOST_MEMORY, r"signal: (?:9 \()?[Kk]illed", 0.6,
       distinguish=("dmesg | grep -i -e oom -e killed   # the OOM killer names the process",)),
    _r("invalid_reference", Code.REF_INVALID,
       r"invalid reference format[^\n]{0,60}|repository name must be lowercase|"
       r"couldn't parse image reference|InvalidImageName|invalid repository name", 0.95),
    _r("userns_lchown", Code.DAEMON_CONFIG,
       r"(?:failed to register layer|ApplyLayer)[^\n]{0,400}?[Ll]chown[^\n]{0,400}?invalid argument|"
       r"subordinate IDs|insufficient UIDs or GIDs|cannot be mapped to a host ID", 0.8,
       distinguish=("cat /etc/subuid /etc/subgid   # userns-remap / rootless needs 65536 IDs",)),
    _r("config_file_unreadable", Code.DAEMON_CONFIG,
       r"failed to decode hosts\.toml|failed to parse TOML|loading registries configuration|"
       r"unable to configure the Docker daemon with file[^\n]{0,200}|failed to load (?:TOML|plugin config)",
       0.95, distinguish=("the configuration file named here does not parse, so its settings "
                          "(CAs, mirrors, proxies) were never applied: fix it first",)),
    _r("short_name", Code.DAEMON_CONFIG,
       r"short-name \S{1,300} did not resolve to an alias|no unqualified-search registries|"
       r"short-name resolution enforced but cannot prompt|no registries configured while trying to pull|"
       r"is blocked in /etc/containers/registries\.conf", 0.9),
    _r("invalid_mirror", Code.DAEMON_CONFIG,
       r"invalid mirror[^\n]{0,160}|invalid registry endpoint|invalid (?:insecure-)?registr[^\n]{0,80}", 0.85),
    _r("never_pull", Code.DAEMON_CONFIG, r"ErrImageNeverPull", 0.7),
)


_GATES: tuple[Gated, ...] = tuple(Gated(r.pattern, needles=r.needles) for r in RULES)
"""Each rule's pattern behind its literal-word prefilter (same order as RULES)."""


def values_for(facts: Mapping[str, Any]) -> dict[str, str | None]:
    """Placeholders for the catalogue's commands, from the facts of this text."""
    image = facts.get("image")
    host = facts.get("host")
    registry = facts.get("registry") or host
    addr = facts.get("remote_addr")
    return {
        "image": image, "host": host, "resolver": facts.get("resolver"), "registry": registry,
        "address": addr.rsplit(":", 1)[0].strip("[]") if isinstance(addr, str) else None,
        "port": addr.rsplit(":", 1)[1] if isinstance(addr, str) and ":" in addr else None,
        "registry_repo": image,
    }


Candidate = tuple[Code, float, list[str], tuple[str, ...]]
"""(code, confidence, evidence, distinguish templates) before any command is rendered."""


def rank(text: str) -> list[Candidate]:
    """Every candidate cause for ``text``, most likely first; evidence = the matched substrings.

    Nothing is rendered here, so ``scan`` can rank thousands of lines cheaply.
    """
    best: dict[Code, tuple[float, list[str], tuple[str, ...]]] = {}

    def add(code: Code, conf: float, evidence: list[str], distinguish: tuple[str, ...]) -> None:
        old = best.get(code)
        if old is None:
            best[code] = (conf, evidence, distinguish)
            return
        ev = old[1] + [e for e in evidence if e not in old[1]]
        di = old[2] + tuple(d for d in distinguish if d not in old[2])
        best[code] = (max(old[0], conf), ev, di)

    for rule, gate in zip(RULES, _GATES, strict=True):
        m = gate.search(text)
        if m is None or (rule.unless is not None and rule.unless.search(text)):
            continue
        evidence = [m.group(0).strip()[:300]]
        add(rule.code, rule.confidence, evidence, rule.distinguish)
        for code, conf in rule.also:
            add(code, conf, evidence, rule.distinguish)
    ranked = sorted(best.items(), key=lambda kv: -kv[1][0])
    return [(code, conf, ev, di) for code, (conf, ev, di) in ranked]


def evaluate(text: str, facts: Mapping[str, Any]) -> list[Cause]:
    """:func:`rank`, as report causes with their commands filled from ``facts``."""
    values = values_for(facts)
    return [Cause.from_catalogue(code, conf, ev, values, render_commands(di, values))
            for code, conf, ev, di in rank(text)]
