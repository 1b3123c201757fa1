"""The cause catalogue: every root cause pulldoctor can name, in one place.

The codes are the public contract of every JSON output (``explain``, ``scan``, ``diagnose``,
``host``): they may gain finer siblings, never be renamed. Each entry says what the cause means in
plain words, how a person confirms it by hand, and how to fix it, so that a report can always show
an exact next step even when pulldoctor only read a text.

Fix and confirm commands use ``{host}``, ``{resolver}``, ``{image}``, ``{port}``, ``{registry}``
placeholders; :func:`render_commands` fills the ones a report knows and writes the rest as an
upper-case word (``IMAGE``) the reader replaces, as man pages do.
"""

from __future__ import annotations

import string
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum


class Area(StrEnum):
    """The eight areas pull failures come from (plus the reference itself)."""

    NETWORK = "network"
    FIREWALL = "firewall"
    REGISTRY = "registry"
    DNS = "dns"
    IMAGE = "image"
    DAEMON = "daemon"
    KERNEL = "kernel"
    RESOURCES = "resources"
    REFERENCE = "reference"


class Code(StrEnum):
    """Every cause code, the public contract of every JSON output (``code`` in ``causes``).

    A ``StrEnum``: a member *is* its string (``Code.DNS_NXDOMAIN == "dns.nxdomain"``), so JSON and
    comparisons with plain strings are unchanged, while code inside pulldoctor names causes by
    member and a typo is an AttributeError at import instead of a silent miss.
    """

    DNS_UDP_TIMEOUT = "dns.udp_timeout"
    DNS_RESOLVER_UNREACHABLE = "dns.resolver_unreachable"
    DNS_NXDOMAIN = "dns.nxdomain"
    DNS_SERVFAIL = "dns.servfail"
    NET_UNREACHABLE = "net.unreachable"
    NET_TCP_TIMEOUT = "net.tcp_timeout"
    NET_REFUSED = "net.refused"
    NET_RESET = "net.reset"
    NET_TLS_HANDSHAKE_TIMEOUT = "net.tls_handshake_timeout"
    NET_REQUEST_TIMEOUT = "net.request_timeout"
    NET_MTU = "net.mtu"
    PROXY_ERROR = "proxy.error"
    TLS_UNKNOWN_AUTHORITY = "tls.unknown_authority"
    TLS_HOSTNAME_MISMATCH = "tls.hostname_mismatch"
    TLS_EXPIRED = "tls.expired"
    TLS_HTTP_RESPONSE_TO_HTTPS = "tls.http_response_to_https"
    REGISTRY_UNAUTHORIZED = "registry.unauthorized"
    REGISTRY_DENIED = "registry.denied"
    REGISTRY_NOT_FOUND = "registry.not_found"
    REGISTRY_RATE_LIMITED = "registry.rate_limited"
    REGISTRY_SERVER_ERROR = "registry.server_error"
    REGISTRY_CREDENTIAL_HELPER = "registry.credential_helper"
    IMAGE_PLATFORM_MISMATCH = "image.platform_mismatch"
    IMAGE_CORRUPT = "image.corrupt"
    IMAGE_UNSUPPORTED = "image.unsupported"
    IMAGE_POLICY_REJECTED = "image.policy_rejected"
    HOST_DISK_FULL = "host.disk_full"
    HOST_MEMORY = "host.memory"
    HOST_KERNEL_UDP = "host.kernel_udp"
    DAEMON_CONFIG = "daemon.config"
    REF_INVALID = "ref.invalid"


@dataclass(frozen=True, slots=True)
class CauseInfo:
    """What pulldoctor knows about one root cause, independent of any report."""

    code: Code
    area: Area
    title: str
    meaning: str
    confirm: tuple[str, ...]
    fix: tuple[str, ...]
    registry_codes: tuple[str, ...] = ()
    """Registry error codes (distribution's errcode table) that signal this cause."""
    http_statuses: tuple[int, ...] = ()
    """HTTP statuses that signal this cause when no registry code says otherwise."""


def _c(
    code: Code, area: Area, title: str, meaning: str, confirm: tuple[str, ...],
    fix: tuple[str, ...], *, registry_codes: tuple[str, ...] = (),
    http_statuses: tuple[int, ...] = (),
) -> CauseInfo:
    return CauseInfo(code, area, title, meaning, confirm, fix, registry_codes, http_statuses)


_ALL: tuple[CauseInfo, ...] = (
    _c(
        Code.DNS_UDP_TIMEOUT, Area.DNS, "DNS queries over UDP get no answer",
        "The resolver never answered the UDP query: it is down, a firewall drops UDP port 53, "
        "or packets are lost. The 'udp' in the message is the name lookup, not the image transfer.",
        ("dig +notcp +tries=1 +time=2 @{resolver} {host}",
         "dig +tcp +tries=1 +time=2 @{resolver} {host}",
         "pulldoctor diagnose {image}"),
        ("nft list ruleset | grep -n 'udp dport 53'   # remove the rule that drops DNS",
         "resolvectl status   # check the stub's upstream servers are reachable",
         "set a reachable nameserver in /etc/resolv.conf (or the stub's upstreams)"),
    ),
    _c(
        Code.DNS_RESOLVER_UNREACHABLE, Area.DNS, "The DNS resolver cannot be reached",
        "Queries to the configured resolver fail at once: no route to it, nothing listening on "
        "port 53 (connection refused), or the local stub resolver is not running.",
        ("cat /etc/resolv.conf", "ip route get {resolver}", "ss -lunp 'sport = :53'"),
        ("systemctl restart systemd-resolved   # if the stub 127.0.0.53 is dead",
         "point /etc/resolv.conf at a resolver this host can reach"),
    ),
    _c(
        Code.DNS_NXDOMAIN, Area.DNS, "The registry host name does not exist",
        "The resolver says the name does not exist (NXDOMAIN or no address records): a typo in "
        "the registry address, a split-horizon zone, or a missing search domain.",
        ("dig @{resolver} {host}", "getent hosts {host}"),
        ("check the registry host in the image reference: {image}",
         "add the internal zone's resolver or search domain to /etc/resolv.conf"),
    ),
    _c(
        Code.DNS_SERVFAIL, Area.DNS, "The resolver answers with a failure",
        "The resolver replied SERVFAIL or REFUSED (Go prints 'server misbehaving'): its upstream "
        "or the zone's DNSSEC is broken, or it refuses to recurse for this host.",
        ("dig @{resolver} {host}", "dig +trace {host}"),
        ("fix or replace the resolver {resolver}; check its upstream forwarders",),
    ),
    _c(
        Code.NET_UNREACHABLE, Area.NETWORK, "No route to the registry",
        "The kernel has no route to the registry's address (network or host unreachable), "
        "typically a missing default route or IPv6 address without IPv6 connectivity.",
        ("ip route get {address}", "ip -6 route"),
        ("add the missing route, or disable IPv6 for the daemon if it has no IPv6 route",),
    ),
    _c(
        Code.NET_TCP_TIMEOUT, Area.FIREWALL, "TCP connections to the registry time out",
        "SYNs to the registry get no answer: a firewall drops them, or the route blackholes them.",
        ("nc -vz -w 3 {host} {port}", "nft list ruleset", "ip route get {address}"),
        ("allow outbound TCP to {host}:{port} in the firewall",
         "set HTTPS_PROXY for the daemon if this network only allows a proxy out"),
    ),
    _c(
        Code.NET_REFUSED, Area.REGISTRY, "TCP connection refused",
        "The registry host answered with a reset: nothing listens on that port, usually a wrong "
        "port in the reference or a registry that is not running.",
        ("nc -vz -w 3 {host} {port}",),
        ("check the port in the image reference {image}; start the registry",),
    ),
    _c(
        Code.NET_RESET, Area.NETWORK, "Connection reset or closed mid-transfer",
        "The connection was reset or ended early (EOF) while talking to the registry: a flaky "
        "path, a middlebox, or a registry front that drops connections.",
        ("curl -v -o /dev/null https://{host}/v2/", "pulldoctor diagnose --layers {image}"),
        ("retry; if it persists, find the middlebox or proxy resetting connections",),
    ),
    _c(
        Code.NET_TLS_HANDSHAKE_TIMEOUT, Area.NETWORK, "TLS handshake never completes",
        "TCP connects but the TLS handshake stalls: often a path-MTU problem (the certificate "
        "flight is large), packet loss, or a proxy that swallows the handshake.",
        ("openssl s_client -connect {host}:{port} -servername {host} </dev/null",
         "ip link show   # compare MTUs along the path"),
        ("lower the MTU of the interface or tunnel on the path, or fix ICMP filtering",),
    ),
    _c(
        Code.NET_REQUEST_TIMEOUT, Area.NETWORK, "Request or download exceeded its deadline",
        "A request or download ran past its deadline: the registry or the path to it is too "
        "slow (a stalled response, a congested link, a bandwidth limit), or setting up the "
        "connection itself took too long (then DNS, TCP or a proxy are the suspects).",
        ("curl -o /dev/null -w '%{{speed_download}}\\n' https://{host}/v2/",),
        ("retry later, or use a mirror closer to this host",),
    ),
    _c(
        Code.NET_MTU, Area.NETWORK, "Path-MTU blackhole",
        "Small exchanges work but large packets are silently dropped and the ICMP 'fragmentation "
        "needed' messages that would fix it never arrive: transfers stall.",
        ("ip link show", "tracepath -n {host}", "ping -M do -s 1472 -c 2 {host}"),
        ("ip link set dev IFACE mtu 1400   # match the smallest link on the path",
         "set \"mtu\" in /etc/docker/daemon.json to the same value",
         "allow ICMP type 3 code 4 (fragmentation needed) through the firewall"),
    ),
    _c(
        Code.PROXY_ERROR, Area.DAEMON, "The HTTP proxy fails or is wrongly applied",
        "The proxy the runtime uses is unreachable, rejects the request, needs credentials, or "
        "is applied to a host that NO_PROXY should exclude (or not applied where it must be).",
        ("systemctl show --property=Environment docker",
         "curl -v -x \"$HTTPS_PROXY\" https://{host}/v2/"),
        ("fix the proxy address in /etc/systemd/system/docker.service.d/http-proxy.conf "
         "or daemon.json \"proxies\", then: systemctl daemon-reload && systemctl restart docker",),
        http_statuses=(407,),
    ),
    _c(
        Code.TLS_UNKNOWN_AUTHORITY, Area.REGISTRY, "Registry certificate is not trusted",
        "The certificate chain ends at a CA this host does not trust: a private CA, or a "
        "TLS-intercepting proxy re-signing traffic.",
        ("openssl s_client -connect {host}:{port} -servername {host} -showcerts </dev/null",),
        ("mkdir -p /etc/docker/certs.d/{registry} && cp ca.crt /etc/docker/certs.d/{registry}/ca.crt",
         "for containerd: set ca in /etc/containerd/certs.d/{registry}/hosts.toml"),
    ),
    _c(
        Code.TLS_HOSTNAME_MISMATCH, Area.REGISTRY, "Certificate is for another host name",
        "The registry presented a certificate whose names (SANs) do not include the host the "
        "client asked for: a wrong address in the reference, or a misconfigured front.",
        ("openssl s_client -connect {host}:{port} -servername {host} </dev/null "
         "| openssl x509 -noout -ext subjectAltName",),
        ("use the host name the certificate is issued for, or reissue it with {host} in its SANs",),
    ),
    _c(
        Code.TLS_EXPIRED, Area.REGISTRY, "Certificate expired or not yet valid",
        "The certificate's validity window does not include now: it expired, or this host's clock "
        "is wrong (then every certificate looks invalid).",
        ("openssl s_client -connect {host}:{port} </dev/null | openssl x509 -noout -dates",
         "timedatectl"),
        ("renew the registry certificate; or fix the clock: timedatectl set-ntp true",),
    ),
    _c(
        Code.TLS_HTTP_RESPONSE_TO_HTTPS, Area.REGISTRY, "Plain-HTTP registry spoken to over HTTPS",
        "The registry speaks plain HTTP but the client used HTTPS, because the registry is not "
        "listed as insecure.",
        ("curl -v http://{registry}/v2/",),
        ("add \"insecure-registries\": [\"{registry}\"] to /etc/docker/daemon.json and restart "
         "dockerd (containerd: hosts.toml with server = \"http://{registry}\")",),
    ),
    _c(
        Code.REGISTRY_UNAUTHORIZED, Area.REGISTRY, "Missing or wrong registry credentials",
        "The registry answered 401: no credentials were sent, or they were rejected.",
        ("docker login {registry}", "pulldoctor diagnose {image}"),
        ("docker login {registry}   # or fix the imagePullSecret / auth.json",),
        registry_codes=("UNAUTHORIZED",), http_statuses=(401,),
    ),
    _c(
        Code.REGISTRY_DENIED, Area.REGISTRY, "Access denied, or the repository does not exist",
        "The registry refused this repository (403 / DENIED). Registries answer the same way for a "
        "repository that does not exist, so check the name before the permissions.",
        ("pulldoctor diagnose {image}",),
        ("check the repository name in {image}; grant this account pull access",),
        registry_codes=("DENIED",), http_statuses=(403,),
    ),
    _c(
        Code.REGISTRY_NOT_FOUND, Area.REGISTRY, "Tag, digest or repository not found",
        "The registry has no manifest for this tag or digest (or no such repository).",
        ("skopeo list-tags docker://{registry_repo}",),
        ("check the tag in {image} against the tags the repository has",),
        registry_codes=("MANIFEST_UNKNOWN", "NAME_UNKNOWN"), http_statuses=(404,),
    ),
    _c(
        Code.REGISTRY_RATE_LIMITED, Area.REGISTRY, "Registry rate limit reached",
        "The registry answered 429 TOOMANYREQUESTS: the pull quota of this address or account "
        "is used up.",
        ("pulldoctor diagnose {image}   # reads the ratelimit-* headers",),
        ("docker login (authenticated pulls have a larger quota), or configure a pull-through "
         "mirror",),
        registry_codes=("TOOMANYREQUESTS",), http_statuses=(429,),
    ),
    _c(
        Code.REGISTRY_SERVER_ERROR, Area.REGISTRY, "The registry failed (5xx)",
        "The registry (or a gateway in front of it) returned a 5xx server error.",
        ("curl -sv https://{host}/v2/ -o /dev/null",),
        ("retry later; check the registry's status page or logs",),
        registry_codes=("UNKNOWN", "UNAVAILABLE"), http_statuses=(500, 501, 502, 503, 504),
    ),
    _c(
        Code.REGISTRY_CREDENTIAL_HELPER, Area.REGISTRY, "The credential helper is missing or fails",
        "The client configuration names a credential helper for this registry (config.json "
        "'credsStore'/'credHelpers', registries.conf 'credential-helpers') that is not on PATH or "
        "fails when asked: typically after uninstalling Docker Desktop or copying a config.json "
        "from another machine. The pull fails before any credentials are sent.",
        ("grep -E 'credsStore|credHelpers' ~/.docker/config.json",
         "command -v docker-credential-HELPER",
         "pulldoctor host {image}"),
        ("remove \"credsStore\" (or the registry's \"credHelpers\" entry) from ~/.docker/config.json, "
         "or install the helper it names",),
    ),
    _c(
        Code.IMAGE_PLATFORM_MISMATCH, Area.IMAGE, "No image for this platform",
        "The image index has no manifest for this host's OS/architecture.",
        ("docker manifest inspect {image}", "skopeo inspect --raw docker://{image}"),
        ("pull with --platform matching an available one, or publish a build for this platform",),
    ),
    _c(
        Code.IMAGE_CORRUPT, Area.IMAGE, "Content does not match its digest",
        "A manifest, config or layer did not hash to its digest or had the wrong size: corrupt "
        "storage in the registry, a broken cache or proxy, or a bad local content store.",
        ("pulldoctor diagnose --layers {image}",),
        ("re-push the image; clear a caching proxy; remove the partial content and pull again",),
        registry_codes=("BLOB_UNKNOWN", "MANIFEST_BLOB_UNKNOWN", "DIGEST_INVALID", "SIZE_INVALID"),
    ),
    _c(
        Code.IMAGE_UNSUPPORTED, Area.IMAGE, "Unsupported manifest format",
        "The manifest is Docker schema 1 or an unknown media type, which current runtimes refuse.",
        ("skopeo inspect --raw docker://{image} | head",),
        ("re-push the image with a current client (schema 2 / OCI)",),
        registry_codes=("MANIFEST_INVALID", "MANIFEST_UNVERIFIED", "UNSUPPORTED"),
    ),
    _c(
        Code.IMAGE_POLICY_REJECTED, Area.IMAGE, "The signature policy rejects the image",
        "containers/image's trust policy (/etc/containers/policy.json, with registries.d for "
        "signature locations) rejects this image: a 'reject' rule for its scope, or a required "
        "signature that is missing or does not verify. podman, skopeo, buildah and CRI-O enforce it.",
        ("cat /etc/containers/policy.json", "ls /etc/containers/registries.d/",
         "pulldoctor host {image}"),
        ("add a policy.json scope for {registry} that accepts it (insecureAcceptAnything, or "
         "signedBy with the right key), or sign the image",),
    ),
    _c(
        Code.HOST_DISK_FULL, Area.RESOURCES, "No space left where images are stored",
        "The runtime's data root (or its temp dir) has no free space or no free inodes.",
        ("df -h /var/lib/docker /var/lib/containerd", "df -i /var/lib/docker"),
        ("docker system prune   # or free space / grow the file system",),
    ),
    _c(
        Code.HOST_MEMORY, Area.RESOURCES, "Out of memory during pull or unpack",
        "The pulling process (or the unpacker) was killed or failed to allocate memory.",
        ("dmesg | grep -i oom", "free -h"),
        ("free memory or raise the runtime's memory limit",),
    ),
    _c(
        Code.HOST_KERNEL_UDP, Area.KERNEL, "Kernel UDP limits reached",
        "The kernel dropped or refused UDP: ephemeral ports exhausted, socket buffers overflowing "
        "(RcvbufErrors), or the conntrack table full.",
        ("nstat -az UdpRcvbufErrors UdpSndbufErrors UdpInErrors",
         "sysctl net.ipv4.ip_local_port_range", "conntrack -S"),
        ("sysctl -w net.ipv4.ip_local_port_range='1024 65535'",
         "sysctl -w net.core.rmem_max=8388608",
         "sysctl -w net.netfilter.nf_conntrack_max=262144"),
    ),
    _c(
        Code.DAEMON_CONFIG, Area.DAEMON, "Runtime configuration is wrong or ignored",
        "The runtime's configuration (daemon.json, containerd config.toml / hosts.toml, "
        "registries.conf) is invalid, or a setting does not do what it is expected to.",
        ("dockerd --validate --config-file /etc/docker/daemon.json", "pulldoctor host {image}"),
        ("fix the setting pulldoctor names, then restart the runtime",),
    ),
    _c(
        Code.REF_INVALID, Area.REFERENCE, "The image reference is malformed",
        "The reference does not parse: upper-case repository, bad characters, a scheme, or a "
        "malformed tag or digest.",
        ("pulldoctor explain 'invalid reference format'",),
        ("write the reference as [HOST[:PORT]/]NAME[:TAG|@sha256:DIGEST], lower-case",),
        registry_codes=("NAME_INVALID", "TAG_INVALID"),
    ),
)

CATALOGUE: Mapping[Code, CauseInfo] = {c.code: c for c in _ALL}
"""Every cause by code, in the order the table above defines them."""

CODES: tuple[Code, ...] = tuple(CATALOGUE)

if set(CODES) != set(Code) or len(CODES) != len(_ALL):  # pragma: no cover - caught at import
    raise RuntimeError("causes.py: every Code needs exactly one catalogue entry")


def info(code: str) -> CauseInfo:
    """The catalogue entry for ``code``; raises KeyError for an unknown code (a programming bug)."""
    return CATALOGUE[Code(code)]


def cause_for_registry_error(status: int, registry_codes: Iterable[str] = ()) -> Code | None:
    """The cause a registry's error response signals, by table lookup (as go-containerregistry's
    transport classifies errors): a registry error code first (it is the more specific), then
    the HTTP status. None when neither is in the catalogue's tables.

    Context the table cannot know (a 404 for a blob the manifest named is corruption, a 401 after
    accepted credentials is a denial) is the caller's, in ``diagnose.infer``.
    """
    for rc in registry_codes:
        for ci in _ALL:
            if rc.upper() in ci.registry_codes:
                return ci.code
    for ci in _ALL:
        if status in ci.http_statuses:
            return ci.code
    return None


class _Partial(dict[str, str]):
    def __missing__(self, key: str) -> str:
        return key.upper()


def render_commands(commands: tuple[str, ...], values: Mapping[str, str | None]) -> list[str]:
    """Fill the placeholders a report knows; unknown ones become ``NAME`` for the reader."""
    known = _Partial({k: v for k, v in values.items() if v})
    fmt = string.Formatter()
    return [fmt.vformat(c, (), known) for c in commands]
