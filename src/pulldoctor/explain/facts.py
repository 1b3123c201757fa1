"""Facts read out of an error text: which step failed, which host, which resolver, which address.

Facts are what a person would underline in the message before reasoning about it, and they are
the same keys ``diagnose`` fills from its probes, so a text and a re-walk can be compared. Every
regex here is precompiled, anchored on literal words, and uses bounded repetition only, so their
cost is linear in the (already bounded, see :func:`normalize.bounded`) text.

Reading rules come from pull-internals.md: the host in ``lookup <host>`` is the only clue to which
hop failed once moby has dropped the URL (§1.4); ``on <server>`` exists only with Go's own resolver
(§2.1); ``attempts=6`` is 5 real tries (§1.4); the ``udp`` in ``read udp`` is the DNS query (§2.6).
"""

from __future__ import annotations

import re
from typing import Any

from pulldoctor.errors import ReferenceError_
from pulldoctor.redact import redact_url
from pulldoctor.reference import parse_reference

_ADDR = r"(?:(?:\[[0-9a-fA-F:.%\w]{2,64}\]|[\w.<>*-]{1,255}):\d{1,5}|<[\w.-]{1,40}>)"
"""host:port, or the placeholder a reporter pasted in its place (normalize joins its words)."""

LOOKUP = re.compile(
    rf"lookup (?P<host>[\w.*-]{{1,255}})(?: on (?P<server>{_ADDR}))?: (?P<err>[^\n]{{0,200}})"
)
_SOCKOP = re.compile(
    rf"\b(?P<op>read|write|dial|connect) (?P<net>udp|tcp)[46]?"
    rf"(?: (?P<local>{_ADDR})->(?P<remote>{_ADDR})| (?P<addr>{_ADDR}))?(?=: )"
)
URL = re.compile(r"\b(?P<method>Get|Head|Post|GET|HEAD|POST)?\s?\"?(?P<url>https?://[^\s\"'<>]{1,2048})")
_ATTEMPTS = re.compile(r"download failed after attempts=(?P<n>\d{1,4})|Download failed after (?P<m>\d{1,4}) attempts")
_HTTP_STATUS = re.compile(
    r"(?:HTTP status:? |status code(?: \[[^\]\n]{0,80}\])?:? |status from \w{1,8} request to \S{1,2048}: |"
    r"[Ss]tatus:? |StatusCode: |error parsing HTTP |invalid status code from registry |"
    r"unexpected status: |returned error: |: )(?P<code>[1-5]\d\d)\b(?! ?[a-z])"
)
_HTTP_STATUS_NAMED = re.compile(
    r"\b(?P<code>[45]\d\d) (?:Unauthorized|Forbidden|Not Found|Too Many Requests|Internal Server Error|"
    r"Bad Gateway|Service Unavailable|Gateway Time-?out|Request Time-?out|Proxy Authentication Required)"
)
_REGISTRY_CODE = re.compile(
    r"\b(?P<code>unauthorized|denied|toomanyrequests|manifest unknown|name unknown|blob unknown|"
    r"name invalid|manifest invalid|unsupported|tag invalid|unavailable): "
)
DIGEST = re.compile(r"\bsha256:[0-9a-f]{64}\b")
_EXPECTED_DIGEST = re.compile(r"expected (sha256:[0-9a-f]{64})|for digest (sha256:[0-9a-f]{64})")
PLATFORM = re.compile(r"no matching manifest for (?P<p>[\w.-]{1,32}/[\w.-]{1,32}(?:/[\w.-]{1,16})?)|"
                      r"platform[: =]\"?\(?(?P<q>[a-z0-9]{1,16}/[a-z0-9_]{1,16}(?:/v\d)?)")
PROXY = re.compile(rf"proxyconnect tcp: (?:dial tcp )?(?P<a>{_ADDR})?|connecting to (?P<b>{_ADDR}): dial tcp|"
                   rf"(?:HTTPS?_PROXY|https?_proxy)=(?P<c>\S{{1,300}})")
IMAGE = re.compile(
    r"(?:pull and unpack image|Failed to pull image|[Pp]ulling image|Back-off pulling image|"
    r"PullImage|failed to resolve reference|failed to get sandbox image|Failed to inspect image|"
    r"pull image) \\?\"(?P<a>[^\s\"\\]{1,512})\\?\"|"
    r"(?:initializing source |Error copying )(?:docker://)?(?P<b>[^\s:\"]{1,512}(?::[\w.-]{1,128})?)|"
    r"pull access denied for (?P<c>[^\s,]{1,512})|manifest for (?P<d>\S{1,512}) not found|"
    r"resolve source metadata for (?P<e>\S{1,512}?):? |Error: unable to pull (?P<f>\S{1,512}?):? |"
    r"\bdocker (?:pull|run)(?: --?[\w-]{1,32}(?:[ =][^\s-]\S{0,64})?){0,8} (?P<g>[\w./:@-]{1,512})|"
    r"\bimage=\"(?P<h>[^\s\"\\]{1,512})\""
)
_MIRRORS = re.compile(r"\(Mirrors also failed: \[(?P<body>[^\n]{0,4000}?)\]\): ")
_MIRROR_REF = re.compile(r"(?:^|\]: |\n|\[)(?P<h>[\w.-]{1,253}(?::\d{1,5})?)/[\w./-]{1,255}(?:[:@][\w.:-]{1,128})?: ")
_PING_HOST = re.compile(r"pinging (?:container|docker) registry (?P<h>[\w.:\[\]-]{1,255})")
_FROM_HOST = re.compile(r"pulling from host (?P<h>[\w.:-]{1,255}) failed")

_DOC_URL = re.compile(r"^https?://(?:www\.|docs\.)docker\.com/|^https?://(?:www\.)?github\.com/")

_CDN_HINT = re.compile(r"cloudflare\.docker\.com|cloudfront\.net|r2\.cloudflarestorage\.com|"
                      r"storage\.googleapis\.com|\.s3[.-][\w.-]{0,64}amazonaws\.com|blob\.core\.windows\.net|"
                      r"pkg-containers\.githubusercontent\.com|\.cdn\.|akamai|fastly")

_STEP_MARKERS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("unpack", re.compile(r"failed to register layer|ApplyLayer|[Pp]rocessing tar file|adding layer with|"
                          r"failed to extract layer|failed to unpack|[Ll]chown|unpacking failed|"
                          r"invalid tar header")),
    ("config", re.compile(r"error pulling image configuration|reading config blob|copying config|"
                          r"image config verification failed|config-sha256")),
    ("layer", re.compile(r"/blobs/|fetching blob|reading blob|[Ee]rror writing blob|httpReadSeeker|"
                         r"failed to copy|layer-sha256|filesystem layer verification|Downloading|"
                         r"Download failed|storing blob")),
    ("token", re.compile(r"/token\b|oauth token|failed to authorize|auth token|"
                         r"authorization server|no basic auth credentials")),
    ("ping", re.compile(r"/v2/\"?(?:[:\s]|$)|/v1/_ping|pinging (?:container|docker) registry|"
                        r"/v1/repositories", re.MULTILINE)),
    ("manifest", re.compile(r"/manifests/|reading manifest|manifest for \S+ not found|manifest unknown|"
                            r"no matching manifest|no match for platform|pull access denied|"
                            r"toomanyrequests")),
    ("resolve", re.compile(r"failed to resolve reference|failed to resolve source metadata|"
                           r"failed to resolve image")),
)

_RESOLVER_KINDS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"^127\.0\.0\.53$"), "systemd-resolved stub"),
    (re.compile(r"^127\.0\.0\.11$"),
     "docker embedded DNS (the pulling daemon runs in a container: DinD/kind/CI)"),
    (re.compile(r"^127\.0\.1\.1$"), "NetworkManager dnsmasq stub"),
    (re.compile(r"^(?:127\.|::1$)"), "local resolver on loopback"),
    (re.compile(r"^192\.168\.65\.\d+$"), "Docker Desktop VM resolver"),
    (re.compile(r"^10\.0\.2\.3$"), "VirtualBox/QEMU NAT resolver"),
    (re.compile(r"^10\.(?:96|43|100)\.0\.10$"), "Kubernetes cluster DNS (CoreDNS service)"),
    (re.compile(r"^169\.254\.169\.253$"), "AWS VPC resolver"),
    (re.compile(r"^168\.63\.129\.16$"), "Azure resolver"),
    (re.compile(r"^169\.254\.169\.254$"), "GCE metadata resolver"),
)

_RETRYABLE_ATTEMPTS_MAX = 6  # moby: defaultMaxSchemaPullAttempts (5) + the printed off-by-one


def _host_of(addr: str) -> str:
    """``10.0.0.2:53`` -> ``10.0.0.2``; ``[fd00::1]:53`` -> ``fd00::1``."""
    if addr.startswith("["):
        return addr[1:addr.find("]")] if "]" in addr else addr
    return addr.rsplit(":", 1)[0] if ":" in addr else addr


def _url_host(url: str) -> str:
    rest = url.split("://", 1)[-1]
    hostport = rest.split("/", 1)[0].split("?", 1)[0]
    hostport = hostport.rsplit("@", 1)[-1]
    return _host_of(hostport) if re.search(r":\d+$", hostport) else hostport.strip("[]")


def _clean_url(url: str) -> str:
    """The URL without its query (CDN URLs carry signatures) and without userinfo."""
    url = url.rstrip(".,:;)\"'")
    base, sep, _ = url.partition("?")
    return redact_url(base + ("?…" if sep else ""))


def resolver_kind(resolver: str | None, lookup_seen: bool) -> str | None:
    """Name the resolver by its address; ``None`` when nothing is known."""
    if resolver:
        for rx, kind in _RESOLVER_KINDS:
            if rx.search(resolver):
                return kind
        return "nameserver from the pulling host's /etc/resolv.conf"
    if lookup_seen:
        return "libc resolver (cgo getaddrinfo: no server in the message)"
    return None


def image_of(text: str) -> str | None:
    m = IMAGE.search(text)
    if not m:
        return None
    value = next((g for g in m.groups() if g), None)
    return value.rstrip(".,:;") if value else None


def registry_host(image: str | None, text: str) -> str | None:
    """The registry API host the pull talked to first (for telling a CDN hop apart)."""
    for rx in (_PING_HOST, _FROM_HOST):
        m = rx.search(text)
        if m:
            return _host_of(m.group("h")) if re.search(r":\d+$", m.group("h")) else m.group("h")
    if image:
        try:
            return parse_reference(image.removeprefix("docker://")).host
        except ReferenceError_:
            pass
    first = URL.search(text)
    return _url_host(first.group("url")) if first else None


def step_of(text: str) -> str | None:
    for name, rx in _STEP_MARKERS:
        if rx.search(text):
            return name
    return None


def extract(text: str) -> dict[str, Any]:
    """All facts found in a normalized text, with stable keys; absent facts are left out."""
    facts: dict[str, Any] = {}
    step = step_of(text)
    if step:
        facts["step"] = step
    image = image_of(text)
    if image:
        facts["image"] = image
    _where(text, facts)
    _registry_answer(text, facts)
    _content(text, facts)
    host = facts.get("host")
    registry = _image_registry(image)
    if registry and host and registry not in (host, _hub_host(host)):
        facts["registry"] = registry  # the failing request went elsewhere (token service, CDN)
    if host and step in ("config", "layer"):
        reg = registry_host(image, text)
        facts["cdn_host"] = bool(_CDN_HINT.search(host)) or (reg is not None and host != reg
                                                              and not host.endswith(reg))
    return facts


def _image_registry(image: str | None) -> str | None:
    """The registry the image names (what ``docker login`` takes), if the reference parses."""
    if not image:
        return None
    try:
        return parse_reference(image.removeprefix("docker://")).registry
    except ReferenceError_:
        return None


def _hub_host(host: str) -> str:
    """Docker Hub's API host is docker.io's: one registry for the login."""
    return "docker.io" if host in ("registry-1.docker.io", "index.docker.io") else host


def _where(text: str, facts: dict[str, Any]) -> None:
    """Which host, resolver, addresses and transport the failing request or lookup used."""
    all_urls = [m for m in (URL.finditer(text) if "://" in text else ())
                if not _DOC_URL.search(m.group("url"))]
    with_method = [m.group("url") for m in all_urls if m.group("method")]
    urls = with_method or [m.group("url") for m in all_urls]
    lookup = None
    if "lookup " in text:
        for lookup in LOOKUP.finditer(text):  # noqa: B007 - the innermost (last) lookup is wanted
            pass
    sockops = list(_SOCKOP.finditer(text)) if ("udp" in text or "tcp" in text) else []

    host: str | None = None
    resolver: str | None = None
    if lookup:
        host = lookup.group("host")
        if lookup.group("server"):
            resolver = _host_of(lookup.group("server"))
    dial_addr: str | None = None
    for op in sockops:
        if op.group("remote"):
            facts["local_addr"] = op.group("local")
            facts["remote_addr"] = op.group("remote")
            facts["transport"] = op.group("net")
            if op.group("net") == "udp" and op.group("remote").endswith(":53") and not resolver:
                resolver = _host_of(op.group("remote"))
        elif op.group("addr"):
            dial_addr = op.group("addr")
            facts.setdefault("transport", op.group("net"))
            facts.setdefault("remote_addr", dial_addr)
    if lookup and any(o.group("net") == "udp" for o in sockops):
        facts["transport"] = "udp"  # the name lookup's transport, not the image transfer's
    if host is None and urls:
        host = _url_host(urls[-1])
    if host is None and dial_addr and not re.match(r"^[\d.]+:|^\[", dial_addr):
        host = _host_of(dial_addr)
    if host is None:
        m = _PING_HOST.search(text) or _FROM_HOST.search(text)
        if m:
            host = _host_of(m.group("h")) if re.search(r":\d+$", m.group("h")) else m.group("h")
    for key in ("local_addr", "remote_addr"):
        if str(facts.get(key, "")).startswith("<"):
            del facts[key]  # a placeholder the reporter pasted: the address is unknown
    redacted = bool(resolver and resolver.startswith("<"))
    if redacted:
        resolver = None
    if host:
        facts["host"] = host
    if resolver:
        facts["resolver"] = resolver
    kind = resolver_kind(resolver, lookup is not None and not redacted)
    if kind:
        facts["resolver_kind"] = kind
    if urls:
        facts["url"] = _clean_url(urls[-1])
    m_mir = _MIRRORS.search(text) if "Mirrors also failed" in text else None
    if m_mir:  # containers/image tried these mirrors first; the error shown last is the primary's
        facts["mirrors_failed"] = list(dict.fromkeys(
            m.group("h") for m in _MIRROR_REF.finditer(m_mir.group("body"))))
    m_px = PROXY.search(text) if ("proxy" in text or "PROXY" in text or "connecting to" in text) else None
    if m_px:
        value = m_px.group("a") or m_px.group("b") or m_px.group("c")
        if value:
            facts["proxy"] = redact_url(value)


def _registry_answer(text: str, facts: dict[str, Any]) -> None:
    """Retry count, HTTP status and registry error code."""
    m_att = _ATTEMPTS.search(text) if "ttempts" in text else None
    if m_att:
        if m_att.group("n"):
            n = int(m_att.group("n"))
            facts["attempts"] = n
            facts["real_attempts"] = n - 1 if n == _RETRYABLE_ATTEMPTS_MAX else n
        else:
            facts["attempts"] = facts["real_attempts"] = int(m_att.group("m"))
    m_st = _HTTP_STATUS_NAMED.search(text) or _HTTP_STATUS.search(text)
    # "(HTTP code 500)" is the Docker Engine API's own status, not the registry's
    if m_st and not re.search(r"\(HTTP code " + m_st.group("code") + r"\)", text[:m_st.end() + 2]):
        facts["http_status"] = int(m_st.group("code"))
    m_rc = _REGISTRY_CODE.search(text)
    if m_rc:
        facts["registry_code"] = m_rc.group("code").upper().replace(" ", "_")


def _content(text: str, facts: dict[str, Any]) -> None:
    """Digest and platform of the content involved."""
    m_dg = _EXPECTED_DIGEST.search(text) if "sha256:" in text else None
    if m_dg:
        facts["digest"] = m_dg.group(1) or m_dg.group(2)
    else:
        m_d = DIGEST.search(text) if "sha256:" in text else None
        if m_d:
            facts["digest"] = m_d.group(0)
    m_pf = PLATFORM.search(text) if "latform" in text or "matching manifest" in text else None
    if m_pf:
        facts["platform"] = m_pf.group("p") or m_pf.group("q")
