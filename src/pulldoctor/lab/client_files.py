"""What a scenario tells the lab's client: runtime configs, logins, proxies, trusted CAs.

Every file is written under :attr:`Lab.client_files`, which the client's mount namespace sees at
``/etc/docker``, ``/etc/containerd``, ``/etc/containers``, ``/etc/systemd/system``, ``$HOME`` and
``$XDG_RUNTIME_DIR`` (see :mod:`pulldoctor.lab.topology`): exactly what the runtimes and
``pulldoctor diagnose`` read there, and nothing of the machine's.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pulldoctor.lab import hub

if TYPE_CHECKING:
    from pulldoctor.lab.scenarios import Scenario, Services
    from pulldoctor.lab.topology import Lab

REGISTRY = "registry.lab.test"
CDN = "cdn.lab.test"
AUTH = "auth.lab.test"  # the token server (realm of token-auth registries)
MIRROR = "mirror.lab.test"  # a name of the registry host; nothing listens on MIRROR_PORT there
MIRROR_PORT = 8443
LAB_USER, LAB_PASSWORD = "labuser", "lab-password-1"  # the registry / token server account
PROXY_USER, PROXY_PASSWORD = "proxyuser", "proxy-pass-1"  # the proxy="auth" account
PROXY_PORT = 3128
MISSING_HELPER = "desktop"  # Services(cred_helper="missing"): no docker-credential-desktop here
_DOCKER_DROPIN = "etc/systemd/system/docker.service.d/http-proxy.conf"
_CONTAINERD_DROPIN = "etc/systemd/system/containerd.service.d/http-proxy.conf"


@dataclass(frozen=True)
class _World:
    """The names the lab's hosts answer to: the lab's own, or Docker Hub's (the replica)."""

    registry: str  # the registry host clients connect to
    auth: str
    cdn: str
    service: str  # the token service (``aud``)
    realm: str | None  # the token realm URL (None: the token server's own https://auth:443/token)
    image_host: str  # how images name the registry (``docker.io`` for Hub)


LAB = _World(REGISTRY, AUTH, CDN, REGISTRY, None, REGISTRY)
_HUB = _World(hub.REGISTRY_1, hub.AUTH, hub.CDN, hub.SERVICE, hub.REALM, "docker.io")


def world(sv: Services) -> _World:
    return _HUB if sv.hub else LAB


def split_image(image: str) -> tuple[str, str, str]:
    """``host[:port]/repo:tag`` -> (host[:port], repo, tag)."""
    host, _, rest = image.partition("/")
    repo, _, tag = rest.partition(":")
    return host, repo, tag or "latest"


def set_proxy(lab: Lab, sv: Services) -> None:
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
        units = (_DOCKER_DROPIN, _CONTAINERD_DROPIN) if sv.proxy_in == "both" else (_DOCKER_DROPIN,)
        for rel in units:
            path = lab.client_files / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(dropin)
            path.chmod(0o600)


def write_client_auth(lab: Lab, user: str, password: str, host: str = REGISTRY,
                      docker_key: str | None = None) -> None:
    """Give the client a login, the way ``docker login`` / ``podman login`` store it.

    docker reads ``~/.docker/config.json`` (``auths.<docker_key>``; for Docker Hub the key is
    ``https://index.docker.io/v1/``), containers/image ``$XDG_RUNTIME_DIR/containers/auth.json``
    (``auths.<host>``); both hold base64(``user:password``), mode 0600.
    """
    blob = base64.b64encode(f"{user}:{password}".encode()).decode()
    for path, key in ((lab.client_files / "home/.docker/config.json", docker_key or host),
                      (lab.client_files / "run/containers/auth.json", host)):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps({"auths": {key: {"auth": blob}}}, indent=2) + "\n")
        path.chmod(0o600)


def login(lab: Lab, sv: Services) -> None:
    """The scenario's login (``client_auth``), under the keys ``login_as`` says."""
    password = LAB_PASSWORD if sv.client_auth == "good" else "wrong-password-9"
    if sv.login_as == "registry-1.docker.io":  # as after `docker login registry-1.docker.io`
        write_client_auth(lab, LAB_USER, password, hub.REGISTRY_1)
    elif sv.hub:
        write_client_auth(lab, LAB_USER, password, hub.AUTH_JSON_KEY, hub.DOCKER_CONFIG_KEY)
    else:
        write_client_auth(lab, LAB_USER, password)


def _hosts_toml(server: str, ca: str | None, mirrors: Mapping[str, str | None] | None = None,
                ) -> str:
    """A containerd ``hosts.toml``: mirrors (url -> ca) in order, then the upstream ``server``.

    With no mirror, the server gets its own ``[host]`` entry: containerd 1.6 rejects a file
    without one ("failed to decode hosts.toml: invalid `host` tree") and silently falls back to
    the directory's certificate files, with https, so the ``http://`` would be lost.
    """
    lines = [f'server = "{server}"', *([f'ca = "{ca}"'] if ca else []), ""]
    for url, mca in (mirrors or {server: ca}).items():
        lines += [f'[host."{url}"]', '  capabilities = ["pull", "resolve"]',
                  *([f'  ca = "{mca}"'] if mca else []), ""]
    return "\n".join(lines)


_SIGNING_KEY = "/etc/containers/lab-signing.gpg"  # Services(policy="signed"): never used to sign
LOOKASIDE = f"https://{CDN}/sigstore"


def _write_policy(cf: Path, policy: str) -> None:
    """policy.json (and registries.d) for ``Services.policy`` "reject" or "signed"."""
    if policy == "signed":
        req: dict[str, str] = {"type": "signedBy", "keyType": "GPGKeys", "keyPath": _SIGNING_KEY}
        (cf / _SIGNING_KEY.lstrip("/")).write_text(
            "-----BEGIN PGP PUBLIC KEY BLOCK-----\n(the lab signs nothing)\n"
            "-----END PGP PUBLIC KEY BLOCK-----\n")
        regd = cf / "etc/containers/registries.d"
        regd.mkdir(parents=True, exist_ok=True)
        (regd / "lab.yaml").write_text(f"docker:\n  {REGISTRY}:\n    lookaside: {LOOKASIDE}\n")
    else:
        req = {"type": "reject"}
    (cf / "etc/containers/policy.json").write_text(json.dumps({
        "default": [{"type": "insecureAcceptAnything"}],
        "transports": {"docker": {f"{REGISTRY}/lab": [req]}}}, indent=2) + "\n")


def write_client_files(lab: Lab, sc: Scenario, ca_pem: str) -> None:
    """daemon.json, hosts.toml, registries.conf, certs.d and the trusted CAs of ``sc``."""
    sv = sc.services
    w = world(sv)
    cf = lab.client_files
    reg_host, _repo, _tag = split_image(sc.image)
    if sv.trust_ca and sv.hub:
        hub.trust_lab_ca_in_client(lab, ca_pem)  # Hub's certificates are "public": system bundle
    elif sv.trust_ca:
        for base in ("etc/docker/certs.d", "etc/containers/certs.d", "etc/containerd/certs.d"):
            for host in dict.fromkeys((REGISTRY, reg_host, CDN,
                                       *((AUTH,) if sv.auth == "token" else ()))):
                d = cf / base / host
                d.mkdir(parents=True, exist_ok=True)
                (d / "ca.crt").write_text(ca_pem)
    from pulldoctor.lab.clients import containerd_config_for

    containerd_config_for(lab)
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
    ctd_dir = cf / "etc/containerd/certs.d" / reg_host
    ca = None if sv.hub else f"/etc/containerd/certs.d/{reg_host}/ca.crt"
    if sv.insecure_http:
        # docker tries https:// first, then http:// (insecure-registries); containerd is told
        # the scheme by hosts.toml; containers/image falls back to http:// when insecure.
        daemon["insecure-registries"] = [reg_host]
        ctd_dir.mkdir(parents=True, exist_ok=True)
        (ctd_dir / "hosts.toml").write_text(_hosts_toml(f"http://{reg_host}", ca))
        registries_conf += f'\n[[registry]]\nlocation = "{reg_host}"\ninsecure = true\n'
    if sv.mirror == "down":
        mirror = f"{MIRROR}:{MIRROR_PORT}"
        if sv.hub:  # docker uses registry-mirrors for Docker Hub only
            daemon["registry-mirrors"] = [f"https://{mirror}"]
        ctd_dir.mkdir(parents=True, exist_ok=True)
        (ctd_dir / "hosts.toml").write_text(
            _hosts_toml(f"https://{w.registry}", ca, {f"https://{mirror}": ca}))
        registries_conf += (f'\n[[registry]]\nlocation = "{reg_host}"\n\n'
                            f'[[registry.mirror]]\nlocation = "{mirror}"\n')
    if sv.cred_helper == "missing":
        # a top-level key: before any [[registry]] table
        registries_conf = f'credential-helpers = ["{MISSING_HELPER}"]\n' + registries_conf
        config = cf / "home/.docker/config.json"
        config.parent.mkdir(parents=True, exist_ok=True)
        config.write_text(json.dumps({"auths": {reg_host: {}}, "credsStore": MISSING_HELPER},
                                     indent=2) + "\n")
    if sv.policy != "accept":
        _write_policy(cf, sv.policy)
    (cf / "etc/docker").mkdir(parents=True, exist_ok=True)
    (cf / "etc/docker/daemon.json").write_text(json.dumps(daemon, indent=2) + "\n")
    (cf / "etc/containers/registries.conf").write_text(registries_conf)
