"""What dockerd will use to pull one image: daemon.json, systemd drop-ins, certs.d, the live daemon.

Endpoint order follows moby's ``lookupV2Endpoints`` (graph-driver store): for Docker Hub every
``registry-mirrors`` entry first, then ``https://registry-1.docker.io``; for any other registry
``https://host`` and, only when the host is insecure, ``http://host`` after it. "Insecure" is an exact
``host:port`` entry of ``insecure-registries`` or an IP inside one of its CIDRs (127.0.0.0/8 and
::1/128 always are). A secure host gets the CA and client certificates of ``certs.d/<host:port>``.
The proxies come from daemon.json ``proxies`` or the unit's ``Environment=`` lines: dockerd's own
environment, which is not the shell's.
"""

from __future__ import annotations

import ipaddress
import json
import socket
from pathlib import Path
from typing import Any

from pulldoctor.config.files import list_dir, read_text, under
from pulldoctor.config.model import Endpoint, ProxyConfig
from pulldoctor.reference import DOCKER_HUB_API, ImageReference

DAEMON_JSON = "/etc/docker/daemon.json"
DROPIN_DIR = "/etc/systemd/system/docker.service.d"
_CERTS_D = "/etc/docker/certs.d"
DOCKER_SOCK = "/var/run/docker.sock"
_ALWAYS_INSECURE = ("127.0.0.0/8", "::1/128")
DEFAULT_DATA_ROOT = "/var/lib/docker"


def load_daemon_json(root: str | Path) -> tuple[dict[str, Any] | None, str | None, bool]:
    """(settings, problem, exists). A parse error is a problem: dockerd would refuse to start."""
    text, err = read_text(root, DAEMON_JSON)
    if text is None:
        return None, err, err is not None
    if not text.strip():
        return {}, None, True
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        return None, f"{DAEMON_JSON}: not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}", True
    if not isinstance(data, dict):
        return None, f"{DAEMON_JSON}: top level must be a JSON object", True
    return data, None, True


def read_dropin_environment(root: str | Path) -> tuple[dict[str, str], list[str]]:
    """``Environment=`` assignments of docker.service drop-ins, later files overriding earlier."""
    env: dict[str, str] = {}
    files: list[str] = []
    for name in list_dir(root, DROPIN_DIR):
        if not name.endswith(".conf"):
            continue
        path = f"{DROPIN_DIR}/{name}"
        text, _ = read_text(root, path)
        if text is None:
            continue
        files.append(path)
        for line in text.splitlines():
            s = line.strip()
            if not s.startswith("Environment="):
                continue
            for assignment in split_environment(s[len("Environment="):]):
                k, sep, v = assignment.partition("=")
                if sep:
                    env[k] = v
    return env, files


def split_environment(value: str) -> list[str]:
    """systemd's quoting for ``Environment=``: space-separated, double or single quoted words."""
    out: list[str] = []
    cur = ""
    quote = ""
    for ch in value:
        if quote:
            if ch == quote:
                quote = ""
            else:
                cur += ch
        elif ch in "\"'":
            quote = ch
        elif ch.isspace():
            if cur:
                out.append(cur)
            cur = ""
        else:
            cur += ch
    if cur:
        out.append(cur)
    return out


def daemon_proxy(daemon: dict[str, Any] | None, dropin_env: dict[str, str], dropin_files: list[str],
                 ) -> ProxyConfig:
    """dockerd's proxies: daemon.json ``proxies`` wins over the unit environment (moby ≥ 23)."""
    from pulldoctor.config.proxy import from_environment

    proxies = (daemon or {}).get("proxies")
    if isinstance(proxies, dict) and any(proxies.get(k) for k in ("http-proxy", "https-proxy")):
        return ProxyConfig(
            http_proxy=proxies.get("http-proxy") or None,
            https_proxy=proxies.get("https-proxy") or None,
            no_proxy=proxies.get("no-proxy") or None,
            source=f"{DAEMON_JSON} proxies",
        )
    if dropin_env:
        return from_environment(dropin_env, "systemd drop-in " + ", ".join(dropin_files))
    return ProxyConfig(source="none (dockerd's unit sets no proxy)")


def _is_insecure(index_name: str, insecure: list[str]) -> bool:
    """moby ``isSecureIndex`` negated, without DNS: exact entry, or an IP literal in a CIDR."""
    if index_name in insecure:
        return True
    host = index_name
    if host.startswith("["):
        host = host[1 : host.find("]")]
    elif host.count(":") == 1:
        host = host.split(":")[0]
    if host == "localhost":
        host = "127.0.0.1"  # what /etc/hosts maps it to on every distribution
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        return False
    for cidr in [*_ALWAYS_INSECURE, *insecure]:
        try:
            if ip in ipaddress.ip_network(cidr, strict=False):
                return True
        except ValueError:
            continue
    return False


def _certs_for(root: str | Path, certs_dir: str, host: str) -> tuple[list[str], list[str]]:
    """(CA files, client cert files) of ``certs_dir/host``: ``*.crt`` CAs, ``*.cert`` + ``*.key``."""
    d = f"{certs_dir}/{host}"
    names = list_dir(root, d)
    cas = [f"{d}/{n}" for n in names if n.endswith(".crt")]
    certs = [f"{d}/{n}" for n in names if n.endswith(".cert")]
    return cas, certs


def docker_endpoints(ref: ImageReference, daemon: dict[str, Any] | None, root: str | Path,
                     ) -> list[Endpoint]:
    """The endpoints dockerd tries for ``ref``, in order (``lookupV2Endpoints``)."""
    cfg = daemon or {}
    insecure = [str(x) for x in cfg.get("insecure-registries") or [] if isinstance(x, str)]
    out: list[Endpoint] = []
    if ref.is_docker_hub:
        for raw in cfg.get("registry-mirrors") or []:
            if not isinstance(raw, str):
                continue
            m = raw if raw.startswith(("http://", "https://")) else "https://" + raw
            url = m.rstrip("/")
            host = url.split("://", 1)[1].split("/", 1)[0]
            path = url.split("://", 1)[1][len(host):]
            secure = not _is_insecure(host, insecure)
            cas, certs = _certs_for(root, _CERTS_D, host) if secure else ([], [])
            out.append(Endpoint(url=url, host=host, is_mirror=True, insecure=not secure,
                                skip_verify=not secure, ca_files=cas, client_certs=certs,
                                source=f"{DAEMON_JSON} registry-mirrors", path_prefix=path + "/v2"))
        out.append(Endpoint(url=f"https://{DOCKER_HUB_API}", host=f"{DOCKER_HUB_API}:443",
                            source="Docker Hub (built in)"))
        return out
    host = ref.api_host
    secure = not _is_insecure(host, insecure)
    cas, certs = _certs_for(root, _CERTS_D, host) if secure else ([], [])
    out.append(Endpoint(url=f"https://{host}", host=host if ref.port else f"{host}:443",
                        insecure=not secure, skip_verify=not secure, ca_files=cas,
                        client_certs=certs, source="image reference"))
    if not secure:
        out.append(Endpoint(url=f"http://{host}", host=host if ref.port else f"{host}:80",
                            insecure=True, source="insecure-registries (plain HTTP fallback)"))
    return out


def daemon_info(root: str | Path, timeout_s: float = 2.0) -> tuple[dict[str, Any] | None, str | None]:
    """``GET /info`` on dockerd's socket, bounded; (None, reason) when it is not reachable."""
    path = under(root, DOCKER_SOCK)
    if not path.exists():
        return None, f"{DOCKER_SOCK}: no Docker daemon socket"
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(timeout_s)
    try:
        s.connect(str(path))
        s.sendall(b"GET /info HTTP/1.0\r\nHost: docker\r\n\r\n")
        chunks: list[bytes] = []
        total = 0
        while total < 4 << 20:
            b = s.recv(65536)
            if not b:
                break
            chunks.append(b)
            total += len(b)
    except PermissionError:
        return None, f"{DOCKER_SOCK}: permission denied (root or the docker group can read it)"
    except OSError as exc:
        return None, f"{DOCKER_SOCK}: {exc.strerror or exc}"
    finally:
        s.close()
    raw = b"".join(chunks)
    head, _, body = raw.partition(b"\r\n\r\n")
    if not head.startswith(b"HTTP/1.") or b" 200 " not in head.split(b"\r\n", 1)[0] + b" ":
        return None, f"{DOCKER_SOCK}: unexpected reply {head[:40]!r}"
    try:
        data = json.loads(body)
    except ValueError:
        return None, f"{DOCKER_SOCK}: /info is not JSON"
    return (data if isinstance(data, dict) else None), None

