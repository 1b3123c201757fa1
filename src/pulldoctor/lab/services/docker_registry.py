"""docker-registry (distribution 2.8) as lab data: a config.yml under a work dir, plus argv.

Why these knobs: every registry-side cause needs a real registry saying it in its own words —
plain http vs TLS (certificate causes), htpasswd (401 with a Basic challenge), token auth (401 with
a Bearer challenge, then denied scopes), and the ``redirect`` storage middleware, which answers blob
GETs with a 307 to another host the way Docker Hub sends clients to its CDN, so the CDN host can
fail on its own (DNS, firewall, TLS) while the registry itself stays healthy.

distribution 2.8 has no log-file setting: it logs (text, with an access log) to stderr, which the
lab's ``spawn(..., log_name=...)`` writes to a file per service.

The config is written as JSON, which is valid YAML, so no YAML library is needed. Health checks,
upload purging and notifications are off: they add log noise and background disk work that no
scenario needs.
"""

from __future__ import annotations

import json
import subprocess
from dataclasses import dataclass
from pathlib import Path

from pulldoctor.errors import LabError, LabToolMissing
from pulldoctor.lab.services import ServiceSpec

_REGISTRY_BIN = "/usr/bin/docker-registry"
_HTPASSWD_BIN = "/usr/bin/htpasswd"


@dataclass(frozen=True, slots=True)
class TokenAuth:
    """The registry side of token auth: where clients get tokens, and whom to trust.

    ``rootcertbundle`` holds the certificate(s) whose keys sign the tokens (the token server writes
    it); ``issuer`` and ``service`` must equal the token's ``iss`` and ``aud`` claims.
    """

    realm: str
    service: str
    issuer: str
    rootcertbundle: Path


def write_htpasswd(path: Path, users: dict[str, str]) -> Path:
    """Write a bcrypt htpasswd file (what distribution accepts) with ``htpasswd -B``.

    Passwords go through stdin (``-i``), never on a command line where ``ps`` would show them.
    """
    if not Path(_HTPASSWD_BIN).exists():
        raise LabToolMissing("htpasswd not found (apt-get install apache2-utils)")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.unlink(missing_ok=True)
    for user, password in users.items():
        flags = ["-B", "-i"] + (["-c"] if not path.exists() else [])
        res = subprocess.run([_HTPASSWD_BIN, *flags, str(path), user], input=password.encode(),
                             capture_output=True, timeout=30, check=False)
        if res.returncode != 0:
            raise LabError(f"htpasswd for user {user!r} failed: "
                           f"{res.stderr.decode(errors='replace').strip()}")
    return path


def registry_config(*, storage: Path, addr: str, port: int,
                    tls_cert: Path | None = None, tls_key: Path | None = None,
                    htpasswd: Path | None = None, token: TokenAuth | None = None,
                    redirect_baseurl: str | None = None, log_level: str = "info",
                    ) -> dict[str, object]:
    """The registry's configuration as a dict (pure; :func:`registry_service` writes it)."""
    if htpasswd is not None and token is not None:
        raise ValueError("choose one of htpasswd or token auth, distribution takes one")
    if (tls_cert is None) != (tls_key is None):
        raise ValueError("TLS needs both a certificate and a key")
    http: dict[str, object] = {
        "addr": f"{_hostport(addr, port)}",
        "secret": "pulldoctor-lab-upload-state",
        "headers": {"X-Content-Type-Options": ["nosniff"]},
    }
    if tls_cert is not None and tls_key is not None:
        http["tls"] = {"certificate": str(tls_cert), "key": str(tls_key)}
    cfg: dict[str, object] = {
        "version": "0.1",
        "log": {"level": log_level, "formatter": "text", "accesslog": {"disabled": False}},
        "storage": {
            "filesystem": {"rootdirectory": str(storage)},
            "delete": {"enabled": True},
            "redirect": {"disable": redirect_baseurl is None},
            "maintenance": {"uploadpurging": {"enabled": False},
                            "readonly": {"enabled": False}},
        },
        "http": http,
        "health": {"storagedriver": {"enabled": False}},
    }
    if htpasswd is not None:
        cfg["auth"] = {"htpasswd": {"realm": "pulldoctor-lab", "path": str(htpasswd)}}
    if token is not None:
        cfg["auth"] = {"token": {"realm": token.realm, "service": token.service,
                                 "issuer": token.issuer,
                                 "rootcertbundle": str(token.rootcertbundle)}}
    if redirect_baseurl is not None:
        cfg["middleware"] = {"storage": [{"name": "redirect",
                                          "options": {"baseurl": redirect_baseurl}}]}
    return cfg


def registry_service(workdir: Path, *, addr: str, port: int = 5000,
                     storage: Path | None = None, tls_cert: Path | None = None,
                     tls_key: Path | None = None, htpasswd: Path | None = None,
                     token: TokenAuth | None = None, redirect_baseurl: str | None = None,
                     ) -> ServiceSpec:
    """Write ``workdir/config.yml`` (and the storage dir) and return how to start the registry.

    ``redirect_baseurl`` (e.g. ``http://cdn.lab.test:8080/``) turns on the ``redirect`` middleware:
    blob GETs and HEADs get a 307 to ``baseurl`` + the storage path
    (``/docker/registry/v2/blobs/sha256/ab/<hex>/data``), which :mod:`.cdn` serves.
    """
    if not Path(_REGISTRY_BIN).exists():
        raise LabToolMissing("docker-registry not found (apt-get install docker-registry)")
    workdir.mkdir(parents=True, exist_ok=True)
    storage = storage if storage is not None else workdir / "storage"
    storage.mkdir(parents=True, exist_ok=True)
    cfg = registry_config(storage=storage, addr=addr, port=port, tls_cert=tls_cert,
                          tls_key=tls_key, htpasswd=htpasswd, token=token,
                          redirect_baseurl=redirect_baseurl)
    cfg_path = workdir / "config.yml"
    cfg_path.write_text(json.dumps(cfg, indent=2) + "\n")
    scheme = "https" if tls_cert is not None else "http"
    # No proxy variables: the registry must never try to reach anything but its disk.
    env = {"HTTP_PROXY": "", "HTTPS_PROXY": "", "http_proxy": "", "https_proxy": ""}
    return ServiceSpec(name="registry", argv=[_REGISTRY_BIN, "serve", str(cfg_path)], env=env,
                       port=port, scheme=scheme)


def _hostport(addr: str, port: int) -> str:
    return f"[{addr}]:{port}" if ":" in addr else f"{addr}:{port}"
