"""The one generic builder: any :class:`~pulldoctor.lab.scenarios.Scenario` into a running lab.

Every scenario starts from the same healthy world and changes only what it names (see
:mod:`pulldoctor.lab.scenarios`). Servers are spawned first and waited for together, so a build
costs about one service start, not the sum of them; images are pushed through a throw-away
plain-HTTP registry on the registry host's loopback, so pushing never depends on the scenario's
DNS, TLS or auth; faults are applied last.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from pulldoctor.lab import hub
from pulldoctor.lab.client_files import (
    LAB_PASSWORD,
    LAB_USER,
    PROXY_PASSWORD,
    PROXY_PORT,
    PROXY_USER,
    login,
    set_proxy,
    split_image,
    world,
    write_client_files,
)
from pulldoctor.lab.faults import apply_faults
from pulldoctor.lab.faults.dns import DnsFault
from pulldoctor.lab.faults.http import HttpFault, HttpHost
from pulldoctor.lab.topology import ADDRESSES

if TYPE_CHECKING:
    from pulldoctor.lab.images import Image, Index
    from pulldoctor.lab.scenarios import Scenario
    from pulldoctor.lab.topology import Lab

INSECURE_PORT = 5002  # the plain-HTTP registry of Services(insecure_http=True)
PRIVATE = ("labuser/*",)  # repositories anonymous clients get no token for (as private Hub repos)
_SEED_PORT = 5999
_INNER_PORT = 5000  # the registry's own port when a fault front owns 443
_TOKEN_INNER_PORT = 5001  # the token server's own port when a fault front owns auth's 443
_CDN_INNER_PORT = 5003  # the CDN's own port when a fault front owns cdn's 443


def _images() -> dict[str, Callable[[], Image | Index]]:
    from pulldoctor.lab import images

    return {"lab/hello": images.healthy_image, "lab/big": lambda: images.big_image(4),
            "lab/multi": images.multiarch_index, "lab/arm64only": images.arm64_only_index,
            # the Docker Hub replica's: an official image, and a user's private one
            "library/hello": images.healthy_image, "labuser/private": images.healthy_image}


@functools.lru_cache(maxsize=8)
def _built_image(repo: str) -> Image | Index:
    """Images are deterministic (fixed mtimes, seeded noise): build each once per process."""
    return _images()[repo]()


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


def _http_faults(sc: Scenario, on: HttpHost) -> list[HttpFault]:
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
    w = world(sv)
    started: list[tuple[str, int, Any]] = []
    if sv.dns:
        dns_faults = [f for f in sc.faults if isinstance(f, DnsFault)]
        started.append(("dns", 53, lab.start_dns(dns_faults, wait=False,
                                                 extra_records=hub.records() if sv.hub else None)))
    else:
        # A dead *local* stub answers every query with port-unreachable (the kernel exempts
        # loopback from ICMP rate limits); the lab's resolver host is remote, so lift its limit
        # to get that same "connection refused" on every query, not only the first few.
        lab.sysctl("dns", "net.ipv4.icmp_ratelimit", "0")
    ca = LabCA(lab.workdir / "tls")
    reg_addr, cdn_addr = ADDRESSES["registry"], ADDRESSES["cdn"]
    reg_names = [w.registry, *([hub.INDEX] if sv.hub else [])]
    reg_cert = ca.issue([*reg_names, reg_addr], "good" if sv.tls == "plain" else sv.tls)
    cdn_cert = ca.issue([w.cdn, cdn_addr])
    storage = lab.workdir / "storage"
    storage.mkdir()
    lab.ip("registry", "link", "set", "lo", "up")
    seed = registry_service(lab.workdir / "seed", addr="127.0.0.1", port=_SEED_PORT,
                            storage=storage)
    _start(lab, "registry", seed, started)
    seed_proc = started[-1][2]
    token = None
    if sv.auth == "token":
        auth_cert = ca.issue([w.auth, ADDRESSES["auth"]])
        auth_rules = _http_faults(sc, "auth")
        tspec, token = token_service(
            lab.workdir / "token", addr=ADDRESSES["auth"],
            port=_TOKEN_INNER_PORT if auth_rules else 443, realm_host=w.auth,
            service=w.service, issuer=w.auth,
            policy=TokenPolicy(users={LAB_USER: TokenUser(LAB_PASSWORD, ("pull",))},
                               anonymous_pull=sv.anonymous_pull, anonymous_deny=PRIVATE),
            cert=None if auth_rules else auth_cert.cert, key=None if auth_rules else auth_cert.key,
            log_header_names=sv.audit,
            issued_file=lab.workdir / "token-issued" if sv.audit else None)
        _start(lab, "auth", tspec, started)
        # Clients meet the realm on 443 even when a front owns it (Hub's has no port in it).
        token = dataclasses.replace(token, realm=w.realm or f"https://{w.auth}:443/token")
        if auth_rules:
            _start(lab, "auth", faultfront_service(
                lab.workdir / "auth-front", addr=ADDRESSES["auth"], port=443,
                upstream=f"http://{ADDRESSES['auth']}:{_TOKEN_INNER_PORT}", faults=auth_rules,
                cert=auth_cert.cert, key=auth_cert.key), started)
    if sv.registry == "up":
        tls = sv.tls != "plain" and not sv.insecure_http
        reg_rules = _http_faults(sc, "registry")
        fronted = bool(reg_rules)
        port = INSECURE_PORT if sv.insecure_http else (_INNER_PORT if fronted else 443)
        htpasswd = (write_htpasswd(lab.workdir / "htpasswd", {LAB_USER: LAB_PASSWORD})
                    if sv.auth == "htpasswd" else None)
        spec = registry_service(
            lab.workdir / "registry", addr=reg_addr, port=port,
            storage=storage, tls_cert=reg_cert.cert if tls and not fronted else None,
            tls_key=reg_cert.key if tls and not fronted else None, htpasswd=htpasswd, token=token,
            redirect_baseurl=f"https://{w.cdn}/" if sv.cdn_redirect else None)
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
        cdn_rules = _http_faults(sc, "cdn")
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
        set_proxy(lab, sv)
    write_client_files(lab, sc, ca.ca_path.read_text())
    if sv.client_auth != "none":
        login(lab, sv)
    apply_faults(lab, sc.faults)
