"""The one generic builder: any :class:`~pulldoctor.lab.scenarios.Scenario` into a running lab.

Every scenario starts from the same healthy world and changes only what it names (see
:mod:`pulldoctor.lab.scenarios`). Servers are spawned first and waited for together, so a build
costs about one service start, not the sum of them; images are pushed through a throw-away
plain-HTTP registry on the registry host's loopback, so pushing never depends on the scenario's
DNS, TLS or auth; faults are applied last.
"""

from __future__ import annotations

import base64
import dataclasses
import functools
import json
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from pulldoctor.lab.faults import apply_faults
from pulldoctor.lab.faults.dns import DnsFault
from pulldoctor.lab.faults.http import HttpFault, HttpHost
from pulldoctor.lab.topology import ADDRESSES

if TYPE_CHECKING:
    from pulldoctor.lab.images import Image, Index
    from pulldoctor.lab.scenarios import Scenario, Services
    from pulldoctor.lab.topology import Lab

REGISTRY = "registry.lab.test"
CDN = "cdn.lab.test"
AUTH = "auth.lab.test"  # the token server (realm of token-auth registries)
MIRROR = "mirror.lab.test"  # a name of the registry host; nothing listens on MIRROR_PORT there
MIRROR_PORT = 8443
INSECURE_PORT = 5002  # the plain-HTTP registry of Services(insecure_http=True)
LAB_USER, LAB_PASSWORD = "labuser", "lab-password-1"  # the registry / token server account
PROXY_USER, PROXY_PASSWORD = "proxyuser", "proxy-pass-1"  # the proxy="auth" account
PROXY_PORT = 3128
_SEED_PORT = 5999
_INNER_PORT = 5000  # the registry's own port when a fault front owns 443
_TOKEN_INNER_PORT = 5001  # the token server's own port when a fault front owns auth's 443
_CDN_INNER_PORT = 5003  # the CDN's own port when a fault front owns cdn's 443
DOCKER_DROPIN = "etc/systemd/system/docker.service.d/http-proxy.conf"
CONTAINERD_DROPIN = "etc/systemd/system/containerd.service.d/http-proxy.conf"


def _images() -> dict[str, Callable[[], Image | Index]]:
    from pulldoctor.lab import images

    return {"lab/hello": images.healthy_image, "lab/big": lambda: images.big_image(4),
            "lab/multi": images.multiarch_index, "lab/arm64only": images.arm64_only_index}


@functools.lru_cache(maxsize=8)
def _built_image(repo: str) -> Image | Index:
    """Images are deterministic (fixed mtimes, seeded noise): build each once per process."""
    return _images()[repo]()


def split_image(image: str) -> tuple[str, str, str]:
    """``host[:port]/repo:tag`` -> (host[:port], repo, tag)."""
    host, _, rest = image.partition("/")
    repo, _, tag = rest.partition(":")
    return host, repo, tag or "latest"


def _start(lab: Lab, role: str, spec: Any, started: list[tuple[str, int, Any]]) -> None:
    """Spawn a service without waiting; :func:`build` waits for all of them at once."""
    proc = lab.spawn(role, spec.argv, env=spec.env, log_name=f"{role}-{spec.name}")
    started.append((role, spec.port, proc))


def _push(sc: Scenario, lab: Lab, seed_port: int) -> Image | Index | None:
    """Push the scenario's image (when the lab has it) to the seed registry on loopback."""
    import httpx

    from pulldoctor.lab.images import push_image
    from pulldoctor.lab.services.netns import run_in_netns

    _host, repo, tag = split_image(sc.image)
    if repo not in _images():
        return None  # registry.not_found: the name is simply not there
    img = _built_image(repo)

    def push() -> str:
        with httpx.Client(timeout=30, trust_env=False) as client:
            return push_image(client, f"http://127.0.0.1:{seed_port}", repo, tag, img)

    run_in_netns(lab.hosts["registry"].netns, push, timeout=120)
    return img


def http_faults(sc: Scenario, on: HttpHost) -> list[HttpFault]:
    """The scenario's HTTP faults for the server ``on`` (a front stands before it if any)."""
    return [f for f in sc.faults if isinstance(f, HttpFault) and f.on == on]


def build(sc: Scenario, lab: Lab) -> None:
    """Apply ``sc`` to a fresh lab: services, images, client files, then faults."""
    from pulldoctor.lab.images import Image, corrupt_blob
    from pulldoctor.lab.services.cdn import cdn_service
    from pulldoctor.lab.services.docker_registry import registry_service, write_htpasswd
    from pulldoctor.lab.services.faultfront import faultfront_service
    from pulldoctor.lab.services.proxy import proxy_service
    from pulldoctor.lab.services.silent import silent_service
    from pulldoctor.lab.services.tlsca import LabCA
    from pulldoctor.lab.services.token import TokenPolicy, TokenUser, token_service

    sv = sc.services
    started: list[tuple[str, int, Any]] = []
    if sv.dns:
        dns_faults = [f for f in sc.faults if isinstance(f, DnsFault)]
        started.append(("dns", 53, lab.start_dns(dns_faults, wait=False)))
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
        auth_rules = http_faults(sc, "auth")
        tspec, token = token_service(
            lab.workdir / "token", addr=ADDRESSES["auth"],
            port=_TOKEN_INNER_PORT if auth_rules else 443, realm_host=AUTH,
            policy=TokenPolicy(users={LAB_USER: TokenUser(LAB_PASSWORD, ("pull",))},
                               anonymous_pull=sv.anonymous_pull),
            cert=None if auth_rules else auth_cert.cert, key=None if auth_rules else auth_cert.key,
            log_header_names=sv.audit,
            issued_file=lab.workdir / "token-issued" if sv.audit else None)
        _start(lab, "auth", tspec, started)
        if auth_rules:  # clients still meet the realm at https://auth.lab.test:443/token
            token = dataclasses.replace(token, realm=f"https://{AUTH}:443/token")
            _start(lab, "auth", faultfront_service(
                lab.workdir / "auth-front", addr=ADDRESSES["auth"], port=443,
                upstream=f"http://{ADDRESSES['auth']}:{_TOKEN_INNER_PORT}", faults=auth_rules,
                cert=auth_cert.cert, key=auth_cert.key), started)
    if sv.registry == "up":
        tls = sv.tls != "plain" and not sv.insecure_http
        reg_rules = http_faults(sc, "registry")
        fronted = bool(reg_rules)
        port = INSECURE_PORT if sv.insecure_http else (_INNER_PORT if fronted else 443)
        htpasswd = (write_htpasswd(lab.workdir / "htpasswd", {LAB_USER: LAB_PASSWORD})
                    if sv.auth == "htpasswd" else None)
        spec = registry_service(
            lab.workdir / "registry", addr=reg_addr, port=port,
            storage=storage, tls_cert=reg_cert.cert if tls and not fronted else None,
            tls_key=reg_cert.key if tls and not fronted else None, htpasswd=htpasswd, token=token,
            redirect_baseurl=f"https://{CDN}/" if sv.cdn_redirect else None)
        _start(lab, "registry", spec, started)
        if fronted:
            front = faultfront_service(lab.workdir / "front", addr=reg_addr, port=443,
                                       upstream=f"http://{reg_addr}:{_INNER_PORT}",
                                       faults=reg_rules,
                                       cert=reg_cert.cert if tls else None,
                                       key=reg_cert.key if tls else None)
            _start(lab, "registry", front, started)
    elif sv.registry in ("silent", "stall"):
        _start(lab, "registry", silent_service(addr=reg_addr, port=443,
                                               stage="request" if sv.registry == "silent"
                                               else "handshake",
                                               cert=reg_cert.cert, key=reg_cert.key), started)
    if sv.cdn_redirect:
        cdn_rules = http_faults(sc, "cdn")
        _start(lab, "cdn", cdn_service(root=storage, addr=cdn_addr,
                                       port=_CDN_INNER_PORT if cdn_rules else 443,
                                       cert=None if cdn_rules else cdn_cert.cert,
                                       key=None if cdn_rules else cdn_cert.key,
                                       log_header_names=sv.audit), started)
        if cdn_rules:
            _start(lab, "cdn", faultfront_service(
                lab.workdir / "cdn-front", addr=cdn_addr, port=443,
                upstream=f"http://{cdn_addr}:{_CDN_INNER_PORT}", faults=cdn_rules,
                cert=cdn_cert.cert, key=cdn_cert.key), started)
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
        _set_proxy(lab, sv)
    _write_client_files(lab, sc, ca.ca_path.read_text())
    if sv.client_auth != "none":
        write_client_auth(lab, LAB_USER,
                          LAB_PASSWORD if sv.client_auth == "good" else "wrong-password-9")
    apply_faults(lab, sc.faults)


def _set_proxy(lab: Lab, sv: Services) -> None:
    """Give the proxy to the shell, to the daemons' units, or both (``Services.proxy_in``).

    The shell's variables reach every command run as the client (docker CLI, ctr, skopeo,
    pulldoctor); a unit's ``Environment=`` reaches only that daemon, which is how dockerd gets a
    proxy on a real host. The drop-in files are written where ``pulldoctor diagnose`` reads them,
    and the lab starts dockerd with exactly that environment (:attr:`Lab.daemon_env`).
    """
    userinfo = f"{PROXY_USER}:{PROXY_PASSWORD}@" if sv.proxy_userinfo else ""
    url = f"http://{userinfo}proxy.lab.test:{PROXY_PORT}"
    env = {"HTTPS_PROXY": url, "https_proxy": url, "HTTP_PROXY": url, "http_proxy": url}
    if sv.proxy_in in ("both", "shell"):
        lab.client_extra_env.update(env)
    if sv.proxy_in in ("both", "daemon"):
        lab.daemon_env.update(env)
        dropin = ("[Service]\n" + "".join(f'Environment="{k}={v}"\n' for k, v in env.items()
                                          if k.isupper()))
        units = (DOCKER_DROPIN, CONTAINERD_DROPIN) if sv.proxy_in == "both" else (DOCKER_DROPIN,)
        for rel in units:
            path = lab.client_files / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(dropin)
            path.chmod(0o600)


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


def _hosts_toml(server: str, ca: str, mirrors: Mapping[str, str] | None = None) -> str:
    """A containerd ``hosts.toml``: mirrors (url -> ca) in order, then the upstream ``server``.

    With no mirror, the server gets its own ``[host]`` entry: containerd 1.6 rejects a file
    without one ("failed to decode hosts.toml: invalid `host` tree") and silently falls back to
    the directory's certificate files, with https, so the ``http://`` would be lost.
    """
    lines = [f'server = "{server}"', f'ca = "{ca}"', ""]
    for url, mca in (mirrors or {server: ca}).items():
        lines += [f'[host."{url}"]', '  capabilities = ["pull", "resolve"]', f'  ca = "{mca}"', ""]
    return "\n".join(lines)


def _write_client_files(lab: Lab, sc: Scenario, ca_pem: str) -> None:
    sv = sc.services
    cf = lab.client_files
    reg_host, _repo, _tag = split_image(sc.image)
    if sv.trust_ca:
        for base in ("etc/docker/certs.d", "etc/containers/certs.d", "etc/containerd/certs.d"):
            for host in dict.fromkeys((REGISTRY, reg_host, CDN,
                                       *((AUTH,) if sv.auth == "token" else ()))):
                d = cf / base / host
                d.mkdir(parents=True, exist_ok=True)
                (d / "ca.crt").write_text(ca_pem)
    if sv.broken_config:
        (cf / "etc/docker/daemon.json").write_text('{"registry-mirrors": ["https://mirror.lab.test"],\n')
        hosts = cf / "etc/containerd/certs.d" / REGISTRY
        hosts.mkdir(parents=True, exist_ok=True)
        (hosts / "hosts.toml").write_text('server = "https://registry.lab.test\n[host\n')
        (cf / "etc/containers/registries.conf").write_text("[[registry]\nlocation = \n")
        return
    # As on hosts that move docker's storage: the data root is in daemon.json, where a
    # read-only inspection (pulldoctor host/diagnose) finds it, and where a tiny_disk fault
    # sits (host.disk_full).
    daemon: dict[str, Any] = {"data-root": str(lab.data_dir / "docker")}
    registries_conf = (cf / "etc/containers/registries.conf").read_text()
    if sv.insecure_http:
        # docker tries https:// first, then http:// (insecure-registries); containerd is told
        # the scheme by hosts.toml; containers/image falls back to http:// when insecure.
        daemon["insecure-registries"] = [reg_host]
        ca = f"/etc/containerd/certs.d/{reg_host}/ca.crt"
        (cf / "etc/containerd/certs.d" / reg_host / "hosts.toml").write_text(
            _hosts_toml(f"http://{reg_host}", ca))
        registries_conf += f'\n[[registry]]\nlocation = "{reg_host}"\ninsecure = true\n'
    if sv.mirror == "down":
        ca = f"/etc/containerd/certs.d/{reg_host}/ca.crt"
        mirror = f"{MIRROR}:{MIRROR_PORT}"
        (cf / "etc/containerd/certs.d" / reg_host / "hosts.toml").write_text(
            _hosts_toml(f"https://{reg_host}", ca, {f"https://{mirror}": ca}))
        registries_conf += (f'\n[[registry]]\nlocation = "{reg_host}"\n\n'
                            f'[[registry.mirror]]\nlocation = "{mirror}"\n')
    (cf / "etc/docker").mkdir(parents=True, exist_ok=True)
    (cf / "etc/docker/daemon.json").write_text(json.dumps(daemon, indent=2) + "\n")
    (cf / "etc/containers/registries.conf").write_text(registries_conf)
