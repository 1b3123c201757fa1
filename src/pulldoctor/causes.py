"""The cause catalogue: every root cause pulldoctor can name, in one place.

The codes are the public contract of every JSON output (``explain``, ``scan``, ``diagnose``,
``host``): they may gain finer siblings, never be renamed. Each entry says what the cause means in
plain words, how a person confirms it by hand, and how to fix it, so that a report can always show
an exact next step even when pulldoctor only read a text.

Fix and confirm items are typed (:class:`Advice`): a shell command to run (:func:`run`) or a
sentence to read (:func:`say`), never one printed as the other; an item may be for one runtime
only (docker: daemon.json, certs.d, systemd drop-ins; containerd: hosts.toml, config.toml;
podman, i.e. containers/image: registries.conf, auth.json, containers certs.d), and may be left out
when the evidence rules it out (``unless=("mtu",)``: a stall proven not size-related) or when the
report is itself a diagnosis (``unless=("walked",)``). They use placeholders (``{host}``,
``{port}``, ``{registry}``, ``{base_url}``...) that :mod:`pulldoctor.advice` fills; this module
holds all of the catalogue's text and nothing else decides it.
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


RUNTIMES: tuple[str, ...] = ("docker", "containerd", "podman")
"""The runtimes fix and confirm items can be specific to ("podman": containers/image, so also
skopeo, buildah and CRI-O)."""


@dataclass(frozen=True, slots=True)
class Advice:
    """One fix or confirm item: a shell command (``command``) or a sentence for a person."""

    text: str
    command: bool = True
    runtimes: tuple[str, ...] = ()  # only for these runtimes; () for all
    unless: tuple[str, ...] = ()  # left out when the report says any of these ("mtu", "walked")
    when: tuple[str, ...] = ()  # only when the report says one of these; () always


def run(text: str, *, runtimes: tuple[str, ...] = (), unless: tuple[str, ...] = (),
        when: tuple[str, ...] = ()) -> Advice:
    """A command, runnable as printed once its placeholders are filled."""
    return Advice(text, True, runtimes, unless, when)


def say(text: str, *, runtimes: tuple[str, ...] = (), unless: tuple[str, ...] = (),
        when: tuple[str, ...] = ()) -> Advice:
    """A sentence: never printed as a command."""
    return Advice(text, False, runtimes, unless, when)


CLIENT_ENV = "client-env"
"""Report context: the process that pulls is the caller (ctr, nerdctl), whose proxy is the
shell's environment, not the daemon's unit (containerd's ``--client cli`` path)."""


D, C, P = ("docker",), ("containerd",), ("podman",)


@dataclass(frozen=True, slots=True)
class CauseInfo:
    """What pulldoctor knows about one root cause, independent of any report."""

    code: Code
    area: Area
    title: str
    meaning: str
    confirm: tuple[Advice, ...]
    fix: tuple[Advice, ...]
    registry_codes: tuple[str, ...] = ()
    """Registry error codes (distribution's errcode table) that signal this cause."""
    http_statuses: tuple[int, ...] = ()
    """HTTP statuses that signal this cause when no registry code says otherwise."""


def _c(
    code: Code, area: Area, title: str, meaning: str, confirm: tuple[Advice, ...],
    fix: tuple[Advice, ...], *, registry_codes: tuple[str, ...] = (),
    http_statuses: tuple[int, ...] = (),
) -> CauseInfo:
    return CauseInfo(code, area, title, meaning, confirm, fix, registry_codes, http_statuses)


_SELF = run("pulldoctor diagnose {image}", unless=("walked",))
_CURL = "curl -sS -m 10 -o /dev/null -w '%{{http_code}} %{{time_total}}s\\n' "
_TLS_PEEK = "timeout 5 openssl s_client -connect {host}:{port} -servername {host} </dev/null"

_ALL: tuple[CauseInfo, ...] = (
    _c(
        Code.DNS_UDP_TIMEOUT, Area.DNS, "DNS queries over UDP get no answer",
        "The resolver never answered the UDP query: it is down, a firewall drops UDP port 53, "
        "or packets are lost. The 'udp' in the message is the name lookup, not the image transfer.",
        (run("dig +notcp +tries=1 +time=2 @{resolver} {host}"),
         run("dig +tcp +tries=1 +time=2 @{resolver} {host}"), _SELF),
        (run("nft list ruleset | grep -n 'udp dport 53'   # find the rule that drops DNS"),
         run("resolvectl status   # check the stub's upstream servers are reachable"),
         say("set a reachable nameserver in /etc/resolv.conf (or the stub's upstreams)")),
    ),
    _c(
        Code.DNS_RESOLVER_UNREACHABLE, Area.DNS, "The DNS resolver cannot be reached",
        "Queries to the configured resolver fail at once: no route to it, nothing listening on "
        "port 53 (connection refused), or the local stub resolver is not running.",
        (run("cat /etc/resolv.conf"), run("ip route get {resolver}"),
         run("ss -lunp 'sport = :53'")),
        (run("systemctl restart systemd-resolved   # if the stub 127.0.0.53 is dead"),
         say("point /etc/resolv.conf at a resolver this host can reach")),
    ),
    _c(
        Code.DNS_NXDOMAIN, Area.DNS, "The registry host name does not exist",
        "The resolver says the name does not exist (NXDOMAIN or no address records): a typo in "
        "the registry address, a split-horizon zone, or a missing search domain.",
        (run("dig @{resolver} {host}"), run("getent hosts {host}")),
        (say("check the registry host in the image reference: {image}"),
         say("add the internal zone's resolver or search domain to /etc/resolv.conf")),
    ),
    _c(
        Code.DNS_SERVFAIL, Area.DNS, "The resolver answers with a failure",
        "The resolver replied SERVFAIL or REFUSED (Go prints 'server misbehaving'): its upstream "
        "or the zone's DNSSEC is broken, or it refuses to recurse for this host.",
        (run("dig @{resolver} {host}"),
         run("dig +cd @{resolver} {host}   # answers with DNSSEC checking off: a bad signature")),
        (say("fix or replace the resolver {resolver}; check its upstream forwarders"),),
    ),
    _c(
        Code.NET_UNREACHABLE, Area.NETWORK, "No route to the registry",
        "The kernel has no route to the registry's address (network or host unreachable), "
        "typically a missing default route or IPv6 address without IPv6 connectivity.",
        (run("ip route get {address}"), run("ip -6 route")),
        (say("add the missing route, or disable IPv6 for the runtime if it has no IPv6 route"),),
    ),
    _c(
        Code.NET_TCP_TIMEOUT, Area.FIREWALL, "TCP connections to the registry time out",
        "SYNs to the registry get no answer: a firewall drops them, or the route blackholes them.",
        (run("nc -vz -w 3 {host} {port}"), run("nft list ruleset"), run("ip route get {address}")),
        (say("allow outbound TCP to {host}:{port} in the firewall"),
         say("if this network only lets a proxy out, give dockerd HTTPS_PROXY (daemon.json "
             "\"proxies\" or a systemd drop-in in /etc/systemd/system/docker.service.d/)",
             runtimes=D),
         say("if this network only lets a proxy out, give containerd HTTPS_PROXY (a systemd "
             "drop-in in /etc/systemd/system/containerd.service.d/)", runtimes=C),
         say("if this network only lets a proxy out, set HTTPS_PROXY in the environment podman, "
             "skopeo or CRI-O runs with", runtimes=P)),
    ),
    _c(
        Code.NET_REFUSED, Area.REGISTRY, "TCP connection refused",
        "The registry host answered with a reset: nothing listens on that port, usually a wrong "
        "port in the reference or a registry that is not running.",
        (run("nc -vz -w 3 {host} {port}"),),
        (say("check the port in the image reference {image}; start the registry"),),
    ),
    _c(
        Code.NET_RESET, Area.NETWORK, "Connection reset or closed mid-transfer",
        "The connection was reset or ended early (EOF) while talking to the registry: a flaky "
        "path, a middlebox, or a registry front that drops connections.",
        (run(_CURL + "{curl_tls}{base_url}/v2/"), run("pulldoctor diagnose --layers {image}")),
        (say("retry; if it persists, find the middlebox or proxy resetting connections"),),
    ),
    _c(
        Code.NET_TLS_HANDSHAKE_TIMEOUT, Area.NETWORK, "TLS handshake never completes",
        "TCP connects but the TLS handshake stalls: often a path-MTU problem (the certificate "
        "flight is large), packet loss, or a proxy that swallows the handshake.",
        (run(_TLS_PEEK), run("ip link show   # compare MTUs along the path", unless=("mtu",))),
        (say("lower the MTU of the interface or tunnel on the path, or let ICMP 'fragmentation "
             "needed' through", unless=("mtu",)),
         say("find what holds the handshake: a proxy or firewall that passes TCP but not TLS, "
             "or a registry front that accepts connections and never answers")),
    ),
    _c(
        Code.NET_REQUEST_TIMEOUT, Area.NETWORK, "Request or download exceeded its deadline",
        "A request or download ran past its deadline: the registry or the path to it is too "
        "slow (a stalled response, a congested link, a bandwidth limit), or setting up the "
        "connection itself took too long (then DNS, TCP or a proxy are the suspects).",
        (run(_CURL + "{curl_tls}{base_url}/v2/"),),
        (say("retry later, or use a mirror closer to this host"),),
    ),
    _c(
        Code.NET_MTU, Area.NETWORK, "Path-MTU blackhole",
        "Small exchanges work but large packets are silently dropped and the ICMP 'fragmentation "
        "needed' messages that would fix it never arrive: transfers stall.",
        (run("ip link show"), run("ip route get {address}"),
         run("ping -M do -s 1472 -c 2 -W 2 {host}   # full-size packets, never fragmented")),
        (run("ip link set dev {iface} mtu 1400   # match the smallest link on the path"),
         say("let ICMP type 3 code 4 (fragmentation needed) through the firewall, or clamp the "
             "TCP MSS to the path MTU on the router")),
    ),
    _c(
        Code.PROXY_ERROR, Area.DAEMON, "The HTTP proxy fails or is wrongly applied",
        "The proxy the runtime uses is unreachable, rejects the request, needs credentials, or "
        "is applied to a host that NO_PROXY should exclude (or not applied where it must be).",
        (run("systemctl show --property=Environment docker", runtimes=D),
         run("systemctl show --property=Environment containerd", runtimes=C,
             unless=(CLIENT_ENV,)),
         run("env | grep -i _proxy", runtimes=P),
         run("env | grep -i _proxy", runtimes=C, when=(CLIENT_ENV,)),
         run(_CURL + "-x {proxy} {curl_tls}{base_url}/v2/")),
        (say("fix the proxy address in /etc/systemd/system/docker.service.d/http-proxy.conf or "
             "daemon.json \"proxies\"", runtimes=D),
         run("systemctl daemon-reload && systemctl restart docker", runtimes=D),
         say("fix the proxy address in /etc/systemd/system/containerd.service.d/http-proxy.conf",
             runtimes=C, unless=(CLIENT_ENV,)),
         run("systemctl daemon-reload && systemctl restart containerd", runtimes=C,
             unless=(CLIENT_ENV,)),
         say("fix or unset HTTPS_PROXY / NO_PROXY in the shell ctr or nerdctl runs from: they "
             "fetch with its environment (kubelet's pulls use containerd.service's)", runtimes=C,
             when=(CLIENT_ENV,)),
         say("fix HTTPS_PROXY / NO_PROXY in the environment podman, skopeo or CRI-O runs with "
             "(CRI-O: its systemd unit's Environment)", runtimes=P)),
        http_statuses=(407,),
    ),
    _c(
        Code.TLS_UNKNOWN_AUTHORITY, Area.REGISTRY, "Registry certificate is not trusted",
        "The certificate chain ends at a CA this host does not trust: a private CA, or a "
        "TLS-intercepting proxy re-signing traffic.",
        (run(_TLS_PEEK.replace("</dev/null", "-showcerts </dev/null")),),
        (run("mkdir -p /etc/docker/certs.d/{registry} && "
             "cp ca.crt /etc/docker/certs.d/{registry}/ca.crt", runtimes=D),
         run("mkdir -p /etc/containerd/certs.d/{registry} && "
             "cp ca.crt /etc/containerd/certs.d/{registry}/ca.crt", runtimes=C),
         say("name it in /etc/containerd/certs.d/{registry}/hosts.toml (ca = \"ca.crt\"); the CRI "
             "reads that directory when config_path points at /etc/containerd/certs.d",
             runtimes=C),
         run("mkdir -p /etc/containers/certs.d/{registry} && "
             "cp ca.crt /etc/containers/certs.d/{registry}/ca.crt", runtimes=P),
         say("or add the CA to the system trust store (update-ca-certificates) and restart the "
             "runtime")),
    ),
    _c(
        Code.TLS_HOSTNAME_MISMATCH, Area.REGISTRY, "Certificate is for another host name",
        "The registry presented a certificate whose names (SANs) do not include the host the "
        "client asked for: a wrong address in the reference, or a misconfigured front.",
        (run(_TLS_PEEK + " 2>/dev/null | openssl x509 -noout -ext subjectAltName"),),
        (say("use the host name the certificate is issued for, or reissue it with {host} in its "
             "SANs"),),
    ),
    _c(
        Code.TLS_EXPIRED, Area.REGISTRY, "Certificate expired or not yet valid",
        "The certificate's validity window does not include now: it expired, or this host's clock "
        "is wrong (then every certificate looks invalid).",
        (run(_TLS_PEEK + " 2>/dev/null | openssl x509 -noout -dates"), run("date -u")),
        (say("renew the registry certificate"),
         run("timedatectl set-ntp true   # if this host's clock is wrong")),
    ),
    _c(
        Code.TLS_HTTP_RESPONSE_TO_HTTPS, Area.REGISTRY, "Plain-HTTP registry spoken to over HTTPS",
        "The registry speaks plain HTTP but the client used HTTPS, because the registry is not "
        "listed as insecure.",
        (run(_CURL + "http://{host}:{port}/v2/"),),
        (say("add \"insecure-registries\": [\"{registry}\"] to /etc/docker/daemon.json", runtimes=D),
         run("systemctl restart docker", runtimes=D),
         say("create /etc/containerd/certs.d/{registry}/hosts.toml with server = "
             "\"http://{registry}\" (config_path must point at /etc/containerd/certs.d)",
             runtimes=C),
         say("add to /etc/containers/registries.conf: [[registry]] location = \"{registry}\", "
             "insecure = true", runtimes=P),
         say("or serve the registry over TLS")),
    ),
    _c(
        Code.REGISTRY_UNAUTHORIZED, Area.REGISTRY, "Missing or wrong registry credentials",
        "The registry answered 401: no credentials were sent, or they were rejected.",
        (run(_CURL + "{curl_tls}{manifest_url}   # 401 without credentials"), _SELF),
        (run("{docker_login}", runtimes=D),
         say("containerd's CRI gets credentials from the kubelet (an imagePullSecret for "
             "{registry}); ctr needs --user", runtimes=C),
         run("podman login {registry}   # writes auth.json", runtimes=P),
         say("or fix the stored credentials (config.json, auth.json, the imagePullSecret)")),
        registry_codes=("UNAUTHORIZED",), http_statuses=(401,),
    ),
    _c(
        Code.REGISTRY_DENIED, Area.REGISTRY, "Access denied, or the repository does not exist",
        "The registry refused this repository (403 / DENIED). Registries answer the same way for a "
        "repository that does not exist, so check the name before the permissions.",
        (run(_CURL + "{curl_tls}{manifest_url}"), _SELF),
        (say("check the repository name in {image}; grant this account pull access"),),
        registry_codes=("DENIED",), http_statuses=(403,),
    ),
    _c(
        Code.REGISTRY_NOT_FOUND, Area.REGISTRY, "Tag, digest or repository not found",
        "The registry has no manifest for this tag or digest (or no such repository).",
        (run("skopeo list-tags {skopeo_flags}docker://{registry_repo}"),),
        (say("check the tag in {image} against the tags the repository has"),),
        registry_codes=("MANIFEST_UNKNOWN", "NAME_UNKNOWN"), http_statuses=(404,),
    ),
    _c(
        Code.REGISTRY_RATE_LIMITED, Area.REGISTRY, "Registry rate limit reached",
        "The registry answered 429 TOOMANYREQUESTS: the pull quota of this address or account "
        "is used up.",
        (run("pulldoctor diagnose {image}   # reads the ratelimit-* headers", unless=("walked",)),),
        (run("{docker_login}   # authenticated pulls have a larger quota", runtimes=D),
         run("podman login {registry}   # authenticated pulls have a larger quota", runtimes=P),
         say("log in (authenticated pulls have a larger quota), or configure a pull-through "
             "mirror")),
        registry_codes=("TOOMANYREQUESTS",), http_statuses=(429,),
    ),
    _c(
        Code.REGISTRY_SERVER_ERROR, Area.REGISTRY, "The registry failed (5xx)",
        "The registry (or a gateway in front of it) returned a 5xx server error.",
        (run(_CURL + "{curl_tls}{base_url}/v2/"),),
        (say("retry later; check the registry's status page or logs"),),
        registry_codes=("UNKNOWN", "UNAVAILABLE"), http_statuses=(500, 501, 502, 503, 504),
    ),
    _c(
        Code.REGISTRY_CREDENTIAL_HELPER, Area.REGISTRY, "The credential helper is missing or fails",
        "The client configuration names a credential helper for this registry (config.json "
        "'credsStore'/'credHelpers', registries.conf 'credential-helpers') that is not on PATH or "
        "fails when asked: typically after uninstalling Docker Desktop or copying a config.json "
        "from another machine. The pull fails before any credentials are sent.",
        (run("grep -E 'credsStore|credHelpers' ~/.docker/config.json", runtimes=D),
         run("grep -n credential-helpers /etc/containers/registries.conf", runtimes=P),
         run("command -v docker-credential-{helper} || echo 'docker-credential-{helper}: not on "
             "PATH'"),
         run("pulldoctor host {image}")),
        (say("remove \"credsStore\" (or the registry's \"credHelpers\" entry) from "
             "~/.docker/config.json, or install the helper it names", runtimes=D),
         say("remove the helper from \"credential-helpers\" in registries.conf, or install it",
             runtimes=P)),
    ),
    _c(
        Code.IMAGE_PLATFORM_MISMATCH, Area.IMAGE, "No image for this platform",
        "The image index has no manifest for this host's OS/architecture.",
        (run("skopeo inspect --raw {skopeo_flags}docker://{image}"),),
        (say("pull with --platform matching an available one, or publish a build for this "
             "platform"),),
    ),
    _c(
        Code.IMAGE_CORRUPT, Area.IMAGE, "Content does not match its digest",
        "A manifest, config or layer did not hash to its digest or had the wrong size: corrupt "
        "storage in the registry, a broken cache or proxy, or a bad local content store.",
        (run("pulldoctor diagnose --layers {image}"),),
        (say("re-push the image; clear a caching proxy; remove the partial content and pull "
             "again"),),
        registry_codes=("BLOB_UNKNOWN", "MANIFEST_BLOB_UNKNOWN", "DIGEST_INVALID", "SIZE_INVALID"),
    ),
    _c(
        Code.IMAGE_UNSUPPORTED, Area.IMAGE, "Unsupported manifest format",
        "The manifest is Docker schema 1 or an unknown media type, which current runtimes refuse.",
        (run("skopeo inspect --raw {skopeo_flags}docker://{image} | head"),),
        (say("re-push the image with a current client (schema 2 / OCI)"),),
        registry_codes=("MANIFEST_INVALID", "MANIFEST_UNVERIFIED", "UNSUPPORTED"),
    ),
    _c(
        Code.IMAGE_POLICY_REJECTED, Area.IMAGE, "The signature policy rejects the image",
        "containers/image's trust policy (/etc/containers/policy.json, with registries.d for "
        "signature locations) rejects this image: a 'reject' rule for its scope, or a required "
        "signature that is missing or does not verify. podman, skopeo, buildah and CRI-O enforce it.",
        (run("cat /etc/containers/policy.json"), run("ls /etc/containers/registries.d/"),
         run("pulldoctor host {image}")),
        (say("add a policy.json scope for {registry} that accepts it (insecureAcceptAnything, or "
             "signedBy with the right key), or sign the image"),),
    ),
    _c(
        Code.HOST_DISK_FULL, Area.RESOURCES, "No space left where images are stored",
        "The runtime's data root (or its temp dir) has no free space or no free inodes.",
        (run("df -h {data_root}"), run("df -i {data_root}")),
        (run("docker system prune   # removes stopped containers, unused networks and images",
             runtimes=D),
         run("crictl rmi --prune   # removes images no container uses", runtimes=C),
         run("podman system prune", runtimes=P),
         say("or free space or grow the file system that holds {data_root}")),
    ),
    _c(
        Code.HOST_MEMORY, Area.RESOURCES, "Out of memory during pull or unpack",
        "The pulling process (or the unpacker) was killed or failed to allocate memory.",
        (run("dmesg | grep -i oom"), run("free -h")),
        (say("free memory or raise the runtime's memory limit"),),
    ),
    _c(
        Code.HOST_KERNEL_UDP, Area.KERNEL, "Kernel UDP limits reached",
        "The kernel dropped or refused UDP: ephemeral ports exhausted, socket buffers overflowing "
        "(RcvbufErrors), or the conntrack table full.",
        (run("nstat -az UdpRcvbufErrors UdpSndbufErrors UdpInErrors"),
         run("sysctl net.ipv4.ip_local_port_range")),
        (run("sysctl -w net.ipv4.ip_local_port_range='1024 65535'"),
         run("sysctl -w net.core.rmem_max=8388608"),
         run("sysctl -w net.netfilter.nf_conntrack_max=262144")),
    ),
    _c(
        Code.DAEMON_CONFIG, Area.DAEMON, "Runtime configuration is wrong or ignored",
        "The runtime's configuration (daemon.json, containerd config.toml / hosts.toml, "
        "registries.conf) is invalid, or a setting does not do what it is expected to.",
        (run("python3 -m json.tool /etc/docker/daemon.json", runtimes=D),
         run("containerd config dump >/dev/null", runtimes=C),
         run("pulldoctor host {image}")),
        (say("fix the setting pulldoctor names, then restart the runtime"),),
    ),
    _c(
        Code.REF_INVALID, Area.REFERENCE, "The image reference is malformed",
        "The reference does not parse: upper-case repository, bad characters, a scheme, or a "
        "malformed tag or digest.",
        (run("pulldoctor explain 'invalid reference format'"),),
        (say("write the reference as [HOST[:PORT]/]NAME[:TAG|@sha256:DIGEST], lower-case"),),
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
