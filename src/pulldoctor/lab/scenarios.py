"""The scenario catalogue: one real, reproducible failure per cause code, plus healthy worlds.

Why data: a scenario is *what* is broken (DNS modes, path faults, service options, client files),
never *how* to break it; one generic builder (:mod:`pulldoctor.lab.build`) turns any scenario into
a running lab. So a new scenario is a new entry, reviewed by reading it, and ``pulldoctor lab list
--json`` prints exactly what each one does -- including what each real client is expected to show
(:attr:`Scenario.code`, per client :attr:`Scenario.expect`), which the tests read from here.

Every scenario starts from the same healthy world and changes only what it names:

* DNS: the lab server answers ``*.lab.test``; the client's resolv.conf points at it;
* ``registry.lab.test:443``: docker-registry 2.8 over TLS (a lab CA the client trusts through
  ``/etc/docker/certs.d/<host>/ca.crt``), blob GETs redirected (307) to ``cdn.lab.test:443``, a
  static server over the registry's storage, the way Docker Hub sends blobs to its CDN;
* images pushed before the scenario's faults apply (``lab/hello``, ``lab/big`` (4 MiB layer),
  ``lab/multi`` (amd64 + arm64), ``lab/arm64only``).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from types import MappingProxyType

from pulldoctor.causes import CATALOGUE, Code
from pulldoctor.lab import hub
from pulldoctor.lab.build import INSECURE_PORT
from pulldoctor.lab.client_files import (
    AUTH,
    CDN,
    LAB_PASSWORD,
    LAB_USER,
    MIRROR,
    PROXY_PASSWORD,
    PROXY_PORT,
    PROXY_USER,
    REGISTRY,
    write_client_auth,
)
from pulldoctor.lab.faults.datadrop import DataDrop
from pulldoctor.lab.faults.disk import TinyDisk
from pulldoctor.lab.faults.dns.drop_udp import DropUdp
from pulldoctor.lab.faults.dns.nxdomain import NxDomain
from pulldoctor.lab.faults.dns.servfail import ServFail
from pulldoctor.lab.faults.drop import Drop
from pulldoctor.lab.faults.http.denied import Denied
from pulldoctor.lab.faults.http.ratelimit import RateLimit
from pulldoctor.lab.faults.http.server_error import ServerError
from pulldoctor.lab.faults.mtu import MtuBlackhole
from pulldoctor.lab.faults.ports import PortRange
from pulldoctor.lab.faults.reject import Reject
from pulldoctor.lab.faults.reset import ResetAfter
from pulldoctor.lab.faults.route import NoRoute
from pulldoctor.lab.scenario import ALL_CLIENTS, ClientExpect, Scenario, Services

__all__ = ["ALL_CLIENTS", "AUTH", "CDN", "LAB_PASSWORD", "LAB_USER", "MIRROR", "NOT_REPRODUCED",
           "PROXY_PASSWORD", "PROXY_PORT", "PROXY_USER", "REGISTRY", "SCENARIOS", "ClientExpect",
           "Scenario", "Services", "check_catalogue", "scenarios_json", "write_client_auth"]

# ------------------------------------------------------------------------------ the catalogue
_BIG = f"{REGISTRY}/lab/big:latest"
_INSECURE = f"{REGISTRY}:{INSECURE_PORT}/lab/hello:latest"
_INSECURE_SV = Services(insecure_http=True)
_ANON_TOKEN = Services(auth="token", anonymous_pull=True)
_HUB = Services(hub=True, auth="token", anonymous_pull=True)
_HUB_IMAGE = "docker.io/library/hello:latest"
_HUB_PRIVATE = "docker.io/labuser/private:latest"

_ALL: tuple[Scenario, ...] = (
    Scenario("healthy", None, "Everything works: TLS registry, CDN redirect, lab DNS."),
    Scenario("healthy-token-auth", None,
             "The registry sends clients to a token server on auth.lab.test (as Docker Hub "
             "sends them to auth.docker.io) and the client is logged in (config.json, auth.json): "
             "everything works. ctr reads no credential file (it needs --user), so containerd is "
             "not a client here.",
             clients=("docker", "skopeo"), services=Services(auth="token", client_auth="good")),
    Scenario("dns-udp-timeout-cdn", Code.DNS_UDP_TIMEOUT,
             "The registry resolves, but UDP queries for the CDN host get no answer: the config "
             "blob GET fails after the manifest worked (docker: 'error pulling image "
             "configuration: download failed after attempts=6: dial tcp: lookup cdn.lab.test "
             "on 198.18.4.2:53: read udp ...: i/o timeout').",
             faults=(DropUdp(host=CDN),)),
    Scenario("dns-udp-blocked", Code.DNS_UDP_TIMEOUT,
             "A firewall drops all UDP to the resolver's port 53 (TCP 53 still works).",
             faults=(Drop(to="dns", proto="udp", port=53),)),
    Scenario("dns-resolver-down", Code.DNS_RESOLVER_UNREACHABLE,
             "Nothing listens on the resolver's port 53: queries are refused at once (ICMP).",
             services=Services(dns=False)),
    Scenario("dns-nxdomain", Code.DNS_NXDOMAIN,
             "The image names a registry host that does not exist (a typo).",
             image="regsitry.lab.test/lab/hello:latest"),
    Scenario("dns-servfail", Code.DNS_SERVFAIL, "The resolver answers SERVFAIL for the registry.",
             faults=(ServFail(host=REGISTRY),)),
    Scenario("net-no-route", Code.NET_UNREACHABLE,
             "The client has no route to the registry's address.",
             faults=(NoRoute(to="registry"),)),
    Scenario("net-tcp-drop", Code.NET_TCP_TIMEOUT,
             "A firewall silently drops TCP to the registry's port 443.",
             faults=(Drop(to="registry", proto="tcp", port=443),)),
    Scenario("net-refused", Code.NET_REFUSED,
             "The registry host is up but nothing listens on port 443.",
             services=Services(registry="off")),
    Scenario("net-reset", Code.NET_RESET,
             "The path resets blob downloads from the CDN after 200 kB.", image=_BIG,
             faults=(ResetAfter(to="cdn", port=443, after_bytes=200_000),)),
    Scenario("net-tls-handshake-timeout", Code.NET_TLS_HANDSHAKE_TIMEOUT,
             "TCP connects but nothing the registry sends arrives: TLS never completes.",
             faults=(DataDrop(to="registry", port=443),)),
    Scenario("net-request-timeout", Code.NET_REQUEST_TIMEOUT,
             "TLS completes, then the registry never answers the HTTP request.",
             services=Services(registry="silent", cdn_redirect=False)),
    Scenario("net-mtu-blackhole", Code.NET_MTU,
             "The router's link to the client has MTU 1200 and ICMP frag-needed is dropped: "
             "small packets pass, full-size ones vanish.", image=_BIG,
             faults=(MtuBlackhole(mtu=1200, link="client"),)),
    Scenario("proxy-dead", Code.PROXY_ERROR,
             "HTTPS_PROXY points at proxy.lab.test:3128, where nothing listens.",
             services=Services(proxy="dead")),
    Scenario("proxy-auth-required", Code.PROXY_ERROR,
             "The proxy needs credentials the client does not send (407).",
             services=Services(proxy="auth")),
    Scenario("tls-unknown-authority", Code.TLS_UNKNOWN_AUTHORITY,
             "The registry's certificate is signed by a CA the client does not trust.",
             services=Services(trust_ca=False)),
    Scenario("tls-hostname-mismatch", Code.TLS_HOSTNAME_MISMATCH,
             "The registry shows a certificate for another host name.",
             services=Services(tls="wrong_name")),
    Scenario("tls-expired", Code.TLS_EXPIRED, "The registry's certificate expired yesterday.",
             services=Services(tls="expired")),
    Scenario("tls-plain-http", Code.TLS_HTTP_RESPONSE_TO_HTTPS,
             "The registry speaks plain HTTP on port 443; the client speaks TLS.",
             services=Services(tls="plain")),
    Scenario("registry-unauthorized", Code.REGISTRY_UNAUTHORIZED,
             "The registry requires a login (htpasswd) and the client has no credentials.",
             services=Services(auth="htpasswd")),
    Scenario("credential-helper-missing", Code.REGISTRY_CREDENTIAL_HELPER,
             "config.json and registries.conf name a credential helper (docker-credential-desktop, "
             "as after uninstalling Docker Desktop) that is not installed, and the registry's "
             "token server refuses anonymous pulls. skopeo stops at the helper before any request; "
             "docker pull ignores the helper's error, pulls anonymously and is refused.",
             services=Services(auth="token", cred_helper="missing"),
             expect={"docker": ClientExpect(
                 "docker prints only the registry's 'unauthorized: authentication required' "
                 "(the CLI dropped the helper's error and sent no credentials): the text does not "
                 "carry the cause, diagnose finds the helper", explain=Code.REGISTRY_UNAUTHORIZED),
                 "containerd": ClientExpect(
                 "ctr reads no credential helper or file (it takes --user): it is simply refused "
                 "the anonymous pull", code=Code.REGISTRY_UNAUTHORIZED)}),
    Scenario("credential-helper-missing-anonymous", Code.REGISTRY_CREDENTIAL_HELPER,
             "The same missing docker-credential-desktop, before a registry that serves anyone: "
             "skopeo still stops at the helper; docker pull ignores it and pulls anonymously "
             "(docker run/create, CLI 24 and later, would stop), ctr never asks a helper.",
             services=Services(cred_helper="missing"),
             expect={"docker": ClientExpect("docker pull ignores a failing credential helper "
                                            "(cli ResolveAuthConfig) and pulls anonymously",
                                            code=None),
                     "containerd": ClientExpect("ctr asks no credential helper", code=None)}),
    Scenario("image-policy-rejected", Code.IMAGE_POLICY_REJECTED,
             "/etc/containers/policy.json rejects registry.lab.test/lab (a 'reject' scope): "
             "skopeo refuses the image once its manifest is read. docker and containerd do not "
             "enforce containers/image's policy and pull.",
             services=Services(policy="reject"),
             expect={c: ClientExpect(f"{c} does not read containers/image's policy.json", code=None)
                     for c in ("docker", "containerd")}),
    Scenario("image-signature-missing", Code.IMAGE_POLICY_REJECTED,
             "policy.json requires a GPG signature for registry.lab.test/lab (signedBy, with its "
             "key file), and registries.d points the lookaside at https://cdn.lab.test/sigstore, "
             "where no signature was published: skopeo finds none and refuses the image. docker "
             "and containerd do not enforce the policy and pull.",
             services=Services(policy="signed"),
             expect={c: ClientExpect(f"{c} does not read containers/image's policy.json", code=None)
                     for c in ("docker", "containerd")}),
    Scenario("registry-denied", Code.REGISTRY_DENIED,
             "The registry answers 403 DENIED for the manifest.",
             faults=(Denied(path="/manifests/"),)),
    Scenario("registry-not-found", Code.REGISTRY_NOT_FOUND,
             "The repository was never pushed: manifest unknown.",
             image=f"{REGISTRY}/lab/missing:latest"),
    Scenario("registry-rate-limited", Code.REGISTRY_RATE_LIMITED,
             "The registry answers 429 TOOMANYREQUESTS with Docker Hub's rate-limit headers.",
             faults=(RateLimit(path="/manifests/"),)),
    Scenario("registry-server-error", Code.REGISTRY_SERVER_ERROR,
             "The registry answers 500 for manifests.",
             faults=(ServerError(path="/manifests/", status=500),)),
    Scenario("image-platform-mismatch", Code.IMAGE_PLATFORM_MISMATCH,
             "The image exists only for linux/arm64; the client is linux/amd64.",
             image=f"{REGISTRY}/lab/arm64only:latest"),
    Scenario("image-corrupt-layer", Code.IMAGE_CORRUPT,
             "One byte of the layer blob changed in storage: its digest no longer matches.",
             services=Services(corrupt_layer=True)),
    Scenario("host-disk-full", Code.HOST_DISK_FULL,
             "The client's data root is a 256 KiB file system; the image has a 4 MiB layer.",
             image=_BIG, clients=("docker", "containerd"), faults=(TinyDisk(size_kb=256),)),
    Scenario("host-udp-ports-exhausted", Code.HOST_KERNEL_UDP,
             "The client's ephemeral port range is 4 ports, all held: new UDP sockets "
             "(DNS queries) cannot get a port.",
             faults=(PortRange(low=40000, high=40003, hog=True),)),
    Scenario("daemon-config-broken", Code.DAEMON_CONFIG,
             "daemon.json, hosts.toml and registries.conf do not parse (containerd only logs "
             "a broken hosts.toml and pulls anyway, so it is not a client here).",
             clients=("docker", "skopeo"), services=Services(broken_config=True)),

    # ---- issue 9: where the runtime has more than one path (endpoints, hosts, environments)
    Scenario("healthy-insecure-http", None,
             f"A plain-HTTP registry on {REGISTRY}:{INSECURE_PORT}, listed as insecure by every "
             "client (daemon.json insecure-registries: docker tries https:// first, then falls back "
             "to http://; hosts.toml server = \"http://...\"; registries.conf insecure = true); "
             f"blobs redirect to https://{CDN}: everything works.",
             image=_INSECURE, services=_INSECURE_SV),
    Scenario("insecure-cdn-dns-udp-timeout", Code.DNS_UDP_TIMEOUT,
             "The insecure plain-HTTP registry works, but UDP DNS queries for the CDN host its blobs "
             "redirect to get no answer (TCP answers): every endpoint the runtime tries meets it.",
             image=_INSECURE, services=_INSECURE_SV, faults=(DropUdp(host=CDN),)),
    Scenario("insecure-cdn-nxdomain", Code.DNS_NXDOMAIN,
             "The insecure plain-HTTP registry works, but the CDN host its blobs redirect to does "
             "not resolve (NXDOMAIN).",
             image=_INSECURE, services=_INSECURE_SV, faults=(NxDomain(host=CDN),)),
    Scenario("insecure-cdn-tcp-drop", Code.NET_TCP_TIMEOUT,
             "The insecure plain-HTTP registry works, but a firewall drops TCP to the CDN host's "
             "port 443 (docker retries the config blob 5 times, 30 s each).",
             image=_INSECURE, services=_INSECURE_SV,
             faults=(Drop(to="cdn", proto="tcp", port=443),)),
    Scenario("insecure-cdn-refused", Code.NET_REFUSED,
             "The insecure plain-HTTP registry works, but connections to the CDN host's port 443 "
             "are refused (TCP reset).",
             image=_INSECURE, services=_INSECURE_SV,
             faults=(Reject(to="cdn", proto="tcp", port=443),)),
    Scenario("healthy-token-anonymous", None,
             f"The registry sends clients to a token server on {AUTH}, which gives anonymous "
             "clients pull tokens (as Docker Hub does for public images): everything works, "
             "with every client.",
             services=_ANON_TOKEN),
    Scenario("token-realm-nxdomain", Code.DNS_NXDOMAIN,
             f"The registry's token realm host {AUTH} does not resolve (NXDOMAIN): the registry "
             "answers, the token never comes.",
             services=_ANON_TOKEN, faults=(NxDomain(host=AUTH),)),
    Scenario("token-realm-refused", Code.NET_REFUSED,
             f"Connections to the token realm {AUTH}:443 are refused (TCP reset); the registry "
             "itself answers.",
             services=_ANON_TOKEN, faults=(Reject(to="auth", proto="tcp", port=443),)),
    Scenario("token-realm-server-error", Code.REGISTRY_SERVER_ERROR,
             f"The token realm {AUTH} answers 503 Service Unavailable; the registry itself "
             "answers.",
             services=_ANON_TOKEN, faults=(ServerError(on="auth", path="^/token", status=503),)),
    Scenario("mirror-down-fallback", None,
             f"hosts.toml (containerd) and registries.conf (containers/image) put a mirror, "
             f"{MIRROR}:8443 where nothing listens, before {REGISTRY}: the clients fall back to "
             "the registry and the pull works (the mirror is a warning, not a cause). docker "
             "uses registry-mirrors only for Docker Hub, so it goes straight to the registry.",
             services=Services(mirror="down")),
    Scenario("proxy-shell-only", None,
             "HTTPS_PROXY (a dead proxy) is set in the shell but not in dockerd's unit: dockerd "
             "goes direct and the pull works. skopeo and ctr (which fetches in its own process "
             "in containerd 1.6) take the shell's proxy and fail.",
             services=Services(proxy="dead", proxy_in="shell"),
             expect={"skopeo": ClientExpect(
                         "containers/image reads the proxy from the calling shell's environment",
                         code=Code.PROXY_ERROR),
                     "containerd": ClientExpect(
                         "ctr 1.6 resolves and fetches in its own process, so the shell's "
                         "HTTPS_PROXY is its proxy (containerd's unit has none)",
                         code=Code.PROXY_ERROR)}),
    Scenario("proxy-daemon-only", Code.PROXY_ERROR,
             "docker.service's drop-in sets HTTPS_PROXY to a dead proxy; the shell has none: "
             "docker pull fails at the proxy, while skopeo and ctr (the shell's environment) go "
             "direct and work.",
             services=Services(proxy="dead", proxy_in="daemon"),
             expect={"skopeo": ClientExpect("containers/image uses the shell's environment, "
                                            "which has no proxy", code=None),
                     "containerd": ClientExpect("ctr 1.6 fetches in its own process with the "
                                                "shell's environment, which has no proxy",
                                                code=None)}),
    # ---- the Docker Hub replica: Hub's names, token flow, CDN, mirrors, credential key, 429
    Scenario("hub-healthy", None,
             "docker.io/library/hello from the Docker Hub replica: registry-1.docker.io sends "
             "clients to https://auth.docker.io/token (anonymous pull tokens) and blobs to "
             "production.cloudflare.docker.com: everything works.",
             image=_HUB_IMAGE, services=_HUB),
    Scenario("hub-private-login", None,
             "A private Hub repository (docker.io/labuser/private) and a client logged in where "
             "each client looks: docker's config.json under https://index.docker.io/v1/, "
             "auth.json under docker.io. ctr reads no credential file, so it is not a client.",
             image=_HUB_PRIVATE, clients=("docker", "skopeo"),
             services=Services(hub=True, auth="token", anonymous_pull=True, client_auth="good")),
    Scenario("hub-login-wrong-key", Code.REGISTRY_UNAUTHORIZED,
             "The login for the private Hub repository is stored under registry-1.docker.io "
             "(what 'docker login registry-1.docker.io' writes): docker looks only under "
             "https://index.docker.io/v1/, pulls anonymously and is refused. containers/image "
             "reads registry-1.docker.io as docker.io, so skopeo pulls.",
             image=_HUB_PRIVATE, clients=("docker", "skopeo"),
             services=Services(hub=True, auth="token", anonymous_pull=True, client_auth="good",
                               login_as="registry-1.docker.io"),
             expect={"docker": ClientExpect(
                         "docker prints the text of a repository that does not exist ('pull "
                         "access denied ... may require docker login: denied'); only the key in "
                         "config.json says the login exists but is not read",
                         explain=Code.REGISTRY_DENIED),
                     "skopeo": ClientExpect(
                         "containers/image normalises an auth.json key registry-1.docker.io to "
                         "docker.io, so the login is found", code=None)}),
    Scenario("hub-mirror-down", None,
             "registry-mirrors (docker), hosts.toml (containerd) and registries.conf "
             "(containers/image) put a mirror where nothing listens before Docker Hub: every "
             "client falls back to registry-1.docker.io and the pull works (the mirror is a "
             "warning).",
             image=_HUB_IMAGE, services=Services(hub=True, auth="token", anonymous_pull=True,
                                                 mirror="down")),
    Scenario("hub-rate-limited", Code.REGISTRY_RATE_LIMITED,
             "registry-1.docker.io answers manifest requests with 429 TOOMANYREQUESTS and Docker "
             "Hub's ratelimit-limit / ratelimit-remaining / docker-ratelimit-source headers.",
             image=_HUB_IMAGE, services=_HUB, faults=(RateLimit(path="/manifests/"),)),
    Scenario("hub-cdn-dns-udp-timeout", Code.DNS_UDP_TIMEOUT,
             "The README's classic case with Docker Hub's own names: registry-1.docker.io "
             "resolves, but UDP queries for production.cloudflare.docker.com get no answer.",
             image=_HUB_IMAGE, services=_HUB, faults=(DropUdp(host=hub.CDN),)),
    Scenario("tls-handshake-stall", Code.NET_TLS_HANDSHAKE_TIMEOUT,
             "The registry's server accepts TCP and reads the ClientHello, but the ServerHello "
             "never comes (an overloaded server or balancer; the path itself is fine).",
             services=Services(registry="stall", cdn_redirect=False)),
)

SCENARIOS: Mapping[str, Scenario] = MappingProxyType({s.name: s for s in _ALL})
"""Every scenario by name, registered explicitly above."""

NOT_REPRODUCED: Mapping[Code, str] = MappingProxyType({
    Code.IMAGE_UNSUPPORTED: "the lab's registry stores only the formats every client reads",
    Code.HOST_MEMORY: "exhausting memory would disturb the shared machine, not just the lab",
    Code.REF_INVALID: "a malformed reference never reaches the network: the CLI tests cover it",
})
"""Cause codes no scenario reproduces, with why: every other code has at least one scenario."""


def check_catalogue() -> list[str]:
    """Problems with the catalogue (unknown cause codes, duplicate names); empty when sound."""
    problems = [f"{s.name}: unknown cause code {s.code}" for s in _ALL
                if s.code is not None and s.code not in CATALOGUE]
    if len(SCENARIOS) != len(_ALL):
        problems.append("duplicate scenario names")
    covered = {s.code for s in _ALL} | {s.expected(c) for s in _ALL for c in s.clients}
    problems += [f"cause {c} has no scenario (and no reason in NOT_REPRODUCED)" for c in Code
                 if c not in covered and c not in NOT_REPRODUCED]
    problems += [f"{s.name}: unknown client {c}" for s in _ALL for c in s.clients
                 if c not in ALL_CLIENTS]
    problems += [f"{s.name}: expectation for {c}, which is not one of its clients"
                 for s in _ALL for c in s.expect if c not in s.clients]
    problems += [f"{s.name}: {c} expects unknown code {code}" for s in _ALL for c in s.clients
                 for code in (s.expected(c), s.explain_expected(c))
                 if code is not None and code not in CATALOGUE]
    return problems


def scenarios_json() -> str:
    return json.dumps([s.to_dict() for s in _ALL], indent=2)
