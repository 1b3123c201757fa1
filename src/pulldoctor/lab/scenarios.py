"""The scenario catalogue: one real, reproducible failure per cause code, plus ``healthy``.

Why data: a scenario is *what* is broken (DNS modes, path faults, service options, client files),
never *how* to break it; one generic :meth:`Scenario.build` turns any scenario into a running lab.
So a new scenario is a new entry, reviewed by reading it, and ``pulldoctor lab list --json``
prints exactly what each one does.

Every scenario starts from the same healthy world and changes only what it names:

* DNS: the lab server answers ``*.lab.test``; the client's resolv.conf points at it;
* ``registry.lab.test:443``: docker-registry 2.8 over TLS (a lab CA the client trusts through
  ``/etc/docker/certs.d/<host>/ca.crt``), blob GETs redirected (307) to ``cdn.lab.test:443``, a
  static server over the registry's storage, the way Docker Hub sends blobs to its CDN;
* images pushed before the scenario's faults apply (``lab/hello``, ``lab/big`` (4 MiB layer),
  ``lab/multi`` (amd64 + arm64), ``lab/arm64only``), through a throw-away plain-HTTP registry on
  the registry host's loopback, so pushing never depends on the scenario's DNS, TLS or auth.
"""

from __future__ import annotations

import base64
import functools
import json
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from pulldoctor.causes import CATALOGUE, Code
from pulldoctor.errors import LabError
from pulldoctor.lab.faults import Fault, apply_faults
from pulldoctor.lab.faults.datadrop import DataDrop
from pulldoctor.lab.faults.disk import TinyDisk
from pulldoctor.lab.faults.drop import Drop
from pulldoctor.lab.faults.mtu import MtuBlackhole
from pulldoctor.lab.faults.ports import PortRange
from pulldoctor.lab.faults.reset import ResetAfter
from pulldoctor.lab.faults.route import NoRoute
from pulldoctor.lab.topology import ADDRESSES

if TYPE_CHECKING:
    from pulldoctor.lab.images import Image, Index
    from pulldoctor.lab.topology import Lab

Client = str  # "docker" | "containerd" | "skopeo"
ALL_CLIENTS: tuple[Client, ...] = ("docker", "containerd", "skopeo")
REGISTRY = "registry.lab.test"
CDN = "cdn.lab.test"
AUTH = "auth.lab.test"  # the token server (realm of token-auth registries)
LAB_USER, LAB_PASSWORD = "labuser", "lab-password-1"  # the registry / token server account
PROXY_USER, PROXY_PASSWORD = "proxyuser", "proxy-pass-1"  # the proxy="auth" account
PROXY_PORT = 3128
_SEED_PORT = 5999
_INNER_PORT = 5000  # the registry's own port when a fault front owns 443
TLS_MODES = ("good", "wrong_name", "expired", "plain")

# Accepts connections, completes TLS, reads the request and never answers (bounded hold).
_SILENT = """
import socket, ssl, sys, threading, time
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER); ctx.load_cert_chain(sys.argv[3], sys.argv[4])
srv = socket.create_server((sys.argv[1], int(sys.argv[2])), reuse_port=True)
def hold(c):
    try:
        t = ctx.wrap_socket(c, server_side=True); t.settimeout(300); t.recv(65536); time.sleep(300)
    except OSError: pass
    finally: c.close()
while True:
    c, _ = srv.accept(); threading.Thread(target=hold, args=(c,), daemon=True).start()
"""


@dataclass(frozen=True)
class Services:
    """What runs on the server hosts, and what the client is told (all healthy by default)."""

    registry: str = "up"  # "up" | "off" (nothing listens) | "silent" (TLS, then no answer)
    tls: str = "good"  # TLS_MODES: which certificate the registry shows ("plain": no TLS on 443)
    trust_ca: bool = True  # the lab CA in the client's certs.d
    cdn_redirect: bool = True
    auth: str = "none"  # "none" | "htpasswd" | "token" (token server on auth.lab.test:443)
    client_auth: str = "none"  # "none" | "good" | "wrong": config.json + auth.json credentials
    front: tuple[Mapping[str, Any], ...] = ()  # fault-front rules (services.faultfront.FaultRule)
    proxy: str = "none"  # "none" | "dead" (HTTPS_PROXY set, nothing listens) | "auth" (needs creds)
    dns: bool = True  # False: nothing listens on the resolver's port 53
    corrupt_layer: bool = False  # flip a byte of the image's first layer in storage
    broken_config: bool = False  # daemon.json, hosts.toml, registries.conf that do not parse
    proxy_userinfo: bool = False  # the proxy's user:password in HTTPS_PROXY (proxy="auth")
    audit: bool = False  # CDN/token server log header names; issued tokens to workdir/token-issued


@dataclass(frozen=True)
class Scenario:
    """One reproducible pull failure (``code``) or ``healthy`` (``code`` None)."""

    name: str
    code: Code | None
    summary: str
    image: str = f"{REGISTRY}/lab/hello:latest"
    clients: tuple[Client, ...] = ALL_CLIENTS
    faults: tuple[Fault, ...] = ()
    dns_modes: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    services: Services = Services()

    def build(self, lab: Lab) -> None:
        """Apply this scenario to a fresh lab: services, images, client files, then faults."""
        build(self, lab)

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "code": self.code, "summary": self.summary,
                "image": self.image, "clients": list(self.clients),
                "faults": [f.to_dict() for f in self.faults],
                "dns_modes": {k: dict(v) for k, v in self.dns_modes.items()},
                "services": {k: (list(v) if isinstance(v, tuple) else v)
                             for k, v in vars(self.services).items()}}


# ------------------------------------------------------------------------------ building
def _images() -> dict[str, Callable[[], Image | Index]]:
    from pulldoctor.lab import images

    return {"lab/hello": images.healthy_image, "lab/big": lambda: images.big_image(4),
            "lab/multi": images.multiarch_index, "lab/arm64only": images.arm64_only_index}


@functools.lru_cache(maxsize=8)
def _built_image(repo: str) -> Image | Index:
    """Images are deterministic (fixed mtimes, seeded noise): build each once per process."""
    return _images()[repo]()


def _repo_tag(image: str) -> tuple[str, str]:
    _host, _, rest = image.partition("/")
    repo, _, tag = rest.partition(":")
    return repo, tag or "latest"


def _start(lab: Lab, role: str, spec: Any, started: list[tuple[str, int, Any]]) -> None:
    """Spawn a service without waiting; :func:`build` waits for all of them at once."""
    proc = lab.spawn(role, spec.argv, env=spec.env, log_name=f"{role}-{spec.name}")
    started.append((role, spec.port, proc))


def _push(sc: Scenario, lab: Lab, seed_port: int) -> Image | Index | None:
    """Push the scenario's image (when the lab has it) to the seed registry on loopback."""
    import httpx

    from pulldoctor.lab.images import push_image
    from pulldoctor.lab.services.netns import run_in_netns

    repo, tag = _repo_tag(sc.image)
    if repo not in _images():
        return None  # registry.not_found: the name is simply not there
    img = _built_image(repo)

    def push() -> str:
        with httpx.Client(timeout=30, trust_env=False) as client:
            return push_image(client, f"http://127.0.0.1:{seed_port}", repo, tag, img)

    run_in_netns(lab.hosts["registry"].netns, push, timeout=120)
    return img


def build(sc: Scenario, lab: Lab) -> None:
    """The one generic builder (see the module docstring for the healthy baseline).

    Every server is spawned first and waited for together, so a build costs about one service
    start, not the sum of them.
    """
    from pulldoctor.lab.images import Image, corrupt_blob
    from pulldoctor.lab.services.cdn import cdn_service
    from pulldoctor.lab.services.docker_registry import registry_service, write_htpasswd
    from pulldoctor.lab.services.faultfront import FaultRule, faultfront_service
    from pulldoctor.lab.services.proxy import proxy_service
    from pulldoctor.lab.services.tlsca import LabCA
    from pulldoctor.lab.services.token import TokenPolicy, TokenUser, token_service

    sv = sc.services
    if sv.tls not in TLS_MODES:
        raise LabError(f"scenario {sc.name}: tls must be one of {', '.join(TLS_MODES)}")
    if sv.auth not in ("none", "htpasswd", "token") or sv.client_auth not in ("none", "good", "wrong"):
        raise LabError(f"scenario {sc.name}: auth must be none|htpasswd|token and client_auth "
                       "none|good|wrong")
    started: list[tuple[str, int, Any]] = []
    if sv.dns:
        started.append(("dns", 53, lab.start_dns(sc.dns_modes, wait=False)))
    else:
        # A dead *local* stub answers every query with port-unreachable (the kernel exempts
        # loopback from ICMP rate limits); the lab's resolver host is remote, so lift its limit
        # to get that same "connection refused" on every query, not only the first few.
        lab.sysctl("dns", "net.ipv4.icmp_ratelimit", "0")
    ca = LabCA(lab.workdir / "tls")
    reg_addr, cdn_addr = ADDRESSES["registry"], ADDRESSES["cdn"]
    reg_cert = ca.issue([REGISTRY, reg_addr], "good" if sv.tls == "plain" else sv.tls)
    cdn_cert = ca.issue([CDN, cdn_addr])
    storage = lab.workdir / "storage"
    storage.mkdir()
    lab.ip("registry", "link", "set", "lo", "up")
    seed = registry_service(lab.workdir / "seed", addr="127.0.0.1", port=_SEED_PORT,
                            storage=storage)
    _start(lab, "registry", seed, started)
    seed_proc = started[-1][2]
    token = None
    if sv.auth == "token":
        auth_cert = ca.issue([AUTH, ADDRESSES["auth"]])
        tspec, token = token_service(
            lab.workdir / "token", addr=ADDRESSES["auth"], port=443, realm_host=AUTH,
            policy=TokenPolicy(users={LAB_USER: TokenUser(LAB_PASSWORD, ("pull",))}),
            cert=auth_cert.cert, key=auth_cert.key, log_header_names=sv.audit,
            issued_file=lab.workdir / "token-issued" if sv.audit else None)
        _start(lab, "auth", tspec, started)
    if sv.registry == "up":
        tls = sv.tls != "plain"
        fronted = bool(sv.front)
        htpasswd = (write_htpasswd(lab.workdir / "htpasswd", {LAB_USER: LAB_PASSWORD})
                    if sv.auth == "htpasswd" else None)
        spec = registry_service(
            lab.workdir / "registry", addr=reg_addr, port=_INNER_PORT if fronted else 443,
            storage=storage, tls_cert=reg_cert.cert if tls and not fronted else None,
            tls_key=reg_cert.key if tls and not fronted else None, htpasswd=htpasswd, token=token,
            redirect_baseurl=f"https://{CDN}/" if sv.cdn_redirect else None)
        _start(lab, "registry", spec, started)
        if fronted:
            rules = [FaultRule(**dict(r)) for r in sv.front]
            front = faultfront_service(lab.workdir / "front", addr=reg_addr, port=443,
                                       upstream=f"http://{reg_addr}:{_INNER_PORT}", rules=rules,
                                       cert=reg_cert.cert if tls else None,
                                       key=reg_cert.key if tls else None)
            _start(lab, "registry", front, started)
    elif sv.registry == "silent":
        proc = lab.spawn("registry", [sys.executable, "-c", _SILENT, reg_addr, "443",
                                      str(reg_cert.cert), str(reg_cert.key)], log_name="silent")
        started.append(("registry", 443, proc))
    if sv.cdn_redirect:
        _start(lab, "cdn", cdn_service(root=storage, addr=cdn_addr, port=443,
                                       cert=cdn_cert.cert, key=cdn_cert.key,
                                       log_header_names=sv.audit), started)
    if sv.proxy == "auth":
        _start(lab, "proxy", proxy_service(lab.workdir / "proxy", addr=ADDRESSES["proxy"],
                                           port=PROXY_PORT, connect_ports=(443,),
                                           basic_auth=(PROXY_USER, PROXY_PASSWORD)), started)
    for role, port, proc in started:
        lab.wait_tcp(role, port, timeout=20, proc=proc)
    try:
        img = _push(sc, lab, _SEED_PORT)
    finally:
        lab.procs.stop(seed_proc.pid)
    if sv.corrupt_layer and isinstance(img, Image):
        corrupt_blob(storage, img.layers[0].digest)
    if sv.proxy != "none":
        userinfo = f"{PROXY_USER}:{PROXY_PASSWORD}@" if sv.proxy_userinfo else ""
        url = f"http://{userinfo}proxy.lab.test:{PROXY_PORT}"
        lab.client_extra_env.update({"HTTPS_PROXY": url, "https_proxy": url,
                                     "HTTP_PROXY": url, "http_proxy": url})
    _write_client_files(lab, sv, ca.ca_path.read_text())
    if sv.client_auth != "none":
        write_client_auth(lab, LAB_USER,
                          LAB_PASSWORD if sv.client_auth == "good" else "wrong-password-9")
    apply_faults(lab, sc.faults)


def write_client_auth(lab: Lab, user: str, password: str, host: str = REGISTRY) -> None:
    """Give the client a login for ``host``, the way ``docker login`` / ``podman login`` do.

    docker reads ``~/.docker/config.json``, containers/image ``$XDG_RUNTIME_DIR/containers/
    auth.json``; both hold ``auths.<host>.auth`` = base64(``user:password``), mode 0600.
    """
    blob = base64.b64encode(f"{user}:{password}".encode()).decode()
    doc = json.dumps({"auths": {host: {"auth": blob}}}, indent=2) + "\n"
    for path in (lab.client_files / "home/.docker/config.json",
                 lab.client_files / "run/containers/auth.json"):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(doc)
        path.chmod(0o600)


def _write_client_files(lab: Lab, sv: Services, ca_pem: str) -> None:
    cf = lab.client_files
    if sv.trust_ca:
        for base in ("etc/docker/certs.d", "etc/containers/certs.d", "etc/containerd/certs.d"):
            for host in (REGISTRY, CDN, *((AUTH,) if sv.auth == "token" else ())):
                d = cf / base / host
                d.mkdir(parents=True, exist_ok=True)
                (d / "ca.crt").write_text(ca_pem)
    if sv.broken_config:
        (cf / "etc/docker/daemon.json").write_text('{"registry-mirrors": ["https://mirror.lab.test"],\n')
    else:
        # As on hosts that move docker's storage: the data root is in daemon.json, where a
        # read-only inspection (pulldoctor host/diagnose) finds it, and where a tiny_disk fault
        # sits (host.disk_full).
        (cf / "etc/docker").mkdir(parents=True, exist_ok=True)
        (cf / "etc/docker/daemon.json").write_text(
            json.dumps({"data-root": str(lab.data_dir / "docker")}, indent=2) + "\n")
    if sv.broken_config:
        hosts = cf / "etc/containerd/certs.d" / REGISTRY
        hosts.mkdir(parents=True, exist_ok=True)
        (hosts / "hosts.toml").write_text('server = "https://registry.lab.test\n[host\n')
        (cf / "etc/containers/registries.conf").write_text("[[registry]\nlocation = \n")


# ------------------------------------------------------------------------------ the catalogue
_BIG = f"{REGISTRY}/lab/big:latest"

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
             dns_modes={CDN: {"mode": "drop_udp"}}),
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
             dns_modes={REGISTRY: {"mode": "servfail"}}),
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
    Scenario("registry-denied", Code.REGISTRY_DENIED,
             "The registry answers 403 DENIED for the manifest.",
             services=Services(front=({"fault": "denied", "path": "/manifests/"},))),
    Scenario("registry-not-found", Code.REGISTRY_NOT_FOUND,
             "The repository was never pushed: manifest unknown.",
             image=f"{REGISTRY}/lab/missing:latest"),
    Scenario("registry-rate-limited", Code.REGISTRY_RATE_LIMITED,
             "The registry answers 429 TOOMANYREQUESTS with Docker Hub's rate-limit headers.",
             services=Services(front=({"fault": "ratelimit", "path": "/manifests/"},))),
    Scenario("registry-server-error", Code.REGISTRY_SERVER_ERROR,
             "The registry answers 500 for manifests.",
             services=Services(front=({"fault": "server_error", "path": "/manifests/",
                                       "params": {"status": 500}},))),
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
)

SCENARIOS: Mapping[str, Scenario] = MappingProxyType({s.name: s for s in _ALL})
"""Every scenario by name, registered explicitly above."""


def check_catalogue() -> list[str]:
    """Problems with the catalogue (unknown cause codes, duplicate names); empty when sound."""
    problems = [f"{s.name}: unknown cause code {s.code}" for s in _ALL
                if s.code is not None and s.code not in CATALOGUE]
    if len(SCENARIOS) != len(_ALL):
        problems.append("duplicate scenario names")
    problems += [f"{s.name}: unknown client {c}" for s in _ALL for c in s.clients
                 if c not in ALL_CLIENTS]
    return problems


def scenarios_json() -> str:
    return json.dumps([s.to_dict() for s in _ALL], indent=2)
