"""What containerd's CRI plugin will use to pull one image: config.toml, then hosts.toml.

The registry section moved between major versions (1.x ``plugins."io.containerd.grpc.v1.cri".registry``,
2.x ``plugins."io.containerd.cri.v1.images".registry``); reading the wrong one is the classic
"my mirror is ignored". With ``config_path`` (default ``/etc/containerd/certs.d:/etc/docker/certs.d``
when nothing legacy is set) each root is searched for ``host_port_/``, ``host:port/`` then
``_default/``, and the *first root with any of them* wins, so a ``_default`` in the first root hides
a host-specific directory in the second (``hostDirFromRoots`` + ``hostPaths``). Inside hosts.toml the
``[host."…"]`` entries are tried in file order and ``server`` comes last, or not at all.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

from pulldoctor.config.files import list_dir, read_text, under
from pulldoctor.config.model import Endpoint
from pulldoctor.reference import DOCKER_HUB_API, ImageReference

CONFIG_TOML = "/etc/containerd/config.toml"
DEFAULT_CONFIG_PATH = "/etc/containerd/certs.d:/etc/docker/certs.d"
CRI_V1 = "io.containerd.grpc.v1.cri"
CRI_V2_IMAGES = "io.containerd.cri.v1.images"
DEFAULT_ROOT = "/var/lib/containerd"


def load_config_toml(root: str | Path) -> tuple[dict[str, Any] | None, str | None, bool]:
    """(config, problem, exists); a parse error means containerd would not start."""
    text, err = read_text(root, CONFIG_TOML)
    if text is None:
        return None, err, err is not None
    try:
        return tomllib.loads(text), None, True
    except tomllib.TOMLDecodeError as exc:
        return None, f"{CONFIG_TOML}: not valid TOML: {exc}", True


def registry_section(cfg: dict[str, Any] | None) -> tuple[dict[str, Any], str]:
    """The CRI registry table that *this* config version reads, and its dotted name."""
    plugins = (cfg or {}).get("plugins") or {}
    version = int((cfg or {}).get("version", 1) or 1)
    if version >= 3:
        name = f'plugins."{CRI_V2_IMAGES}".registry'
        return dict((plugins.get(CRI_V2_IMAGES) or {}).get("registry") or {}), name
    name = f'plugins."{CRI_V1}".registry'
    return dict((plugins.get(CRI_V1) or {}).get("registry") or {}), name


def _host_dir_candidates(host: str) -> list[str]:
    """``hostPaths`` order inside one root: ``host_port_``, ``host:port``, ``_default``."""
    out: list[str] = []
    idx = host.rfind(":")
    if idx > 0:
        out.append(host[:idx] + "_" + host[idx + 1 :] + "_")
    out += [host, "_default"]
    return out


def find_host_dir(root: str | Path, config_path: str, host: str) -> str | None:
    """The directory containerd uses for ``host`` (first root with any candidate wins)."""
    for base in [p for p in config_path.split(":") if p]:
        for cand in _host_dir_candidates(host):
            if under(root, f"{base}/{cand}").exists():
                return f"{base}/{cand}"
    return None


def _default_endpoint(ref: ImageReference, source: str) -> Endpoint:
    if ref.is_docker_hub:
        return Endpoint(url=f"https://{DOCKER_HUB_API}", host=f"{DOCKER_HUB_API}:443", source=source)
    host = ref.api_host
    local = ref.host in ("localhost", "127.0.0.1", "::1")
    scheme = "http" if local and ref.port not in (None, 443) else "https"
    return Endpoint(url=f"{scheme}://{host}", host=host if ref.port else f"{host}:443",
                    insecure=scheme == "http", source=source)


def _as_list(v: Any) -> list[str]:
    if isinstance(v, str):
        return [v]
    if isinstance(v, list):
        out: list[str] = []
        for x in v:
            if isinstance(x, list):
                out.extend(str(y) for y in x)
            else:
                out.append(str(x))
        return out
    return []


def _endpoint_from_host(url: str, tbl: dict[str, Any], dir_: str, is_server: bool) -> Endpoint:
    u = url if "://" in url else "https://" + url
    scheme, rest = u.split("://", 1)
    hostport, _, path = rest.partition("/")
    prefix = "/" + path.rstrip("/") if path else ""
    override = bool(tbl.get("override_path"))
    caps = _as_list(tbl.get("capabilities")) or ["pull", "resolve", "push"]
    def rel(p: str) -> str:
        return p if p.startswith("/") else f"{dir_}/{p}"
    return Endpoint(
        url=f"{scheme}://{hostport}{prefix}", host=hostport if ":" in hostport else (
            f"{hostport}:{443 if scheme == 'https' else 80}"),
        is_mirror=not is_server, insecure=scheme == "http" or bool(tbl.get("skip_verify")),
        skip_verify=bool(tbl.get("skip_verify")), ca_files=[rel(p) for p in _as_list(tbl.get("ca"))],
        client_certs=[rel(p) for p in _as_list(tbl.get("client"))],
        source=f"{dir_}/hosts.toml" + ("" if is_server else f' [host."{url}"]'),
        path_prefix=prefix if override else prefix + "/v2", capabilities=caps,
    )


def _endpoints_from_hosts_toml(text: str, dir_: str, ref: ImageReference) -> list[Endpoint]:
    """hosts.toml -> endpoints: ``[host]`` entries in file order, then ``server`` (pure)."""
    data = tomllib.loads(text)
    out = [_endpoint_from_host(url, tbl if isinstance(tbl, dict) else {}, dir_, False)
           for url, tbl in (data.get("host") or {}).items()]
    if "server" in data:
        server = str(data["server"])
        out.append(_endpoint_from_host(server, data, dir_, True))
    return out


def _legacy_endpoints(ref: ImageReference, reg: dict[str, Any], name: str) -> list[Endpoint]:
    mirrors = reg.get("mirrors") or {}
    entry = mirrors.get(ref.registry) or mirrors.get("*") or {}
    default = _default_endpoint(ref, "image reference")
    out: list[Endpoint] = []
    for raw in _as_list(entry.get("endpoint")):
        ep = _endpoint_from_host(raw, {}, CONFIG_TOML, False)
        ep.source = f"{CONFIG_TOML} {name}.mirrors (deprecated)"
        ep.is_mirror = ep.url != default.url
        out.append(ep)
    if default.url not in [e.url for e in out]:
        out.append(default)
    configs = reg.get("configs") or {}
    for ep in out:
        tls = ((configs.get(ep.host.removesuffix(":443")) or configs.get(ep.host) or {}).get("tls") or {})
        if tls.get("ca_file"):
            ep.ca_files.append(str(tls["ca_file"]))
        if tls.get("cert_file"):
            ep.client_certs.append(str(tls["cert_file"]))
        if tls.get("insecure_skip_verify"):
            ep.skip_verify = ep.insecure = True
    return out


def containerd_endpoints(ref: ImageReference, cfg: dict[str, Any] | None, root: str | Path,
                         ) -> tuple[list[Endpoint], list[str], list[str], dict[str, Any]]:
    """(endpoints, files read, problems, settings) for the CRI pulling ``ref``."""
    reg, name = registry_section(cfg)
    sources: list[str] = []
    problems: list[str] = []
    legacy = bool(reg.get("mirrors") or reg.get("configs"))
    config_path = str(reg.get("config_path") or "")
    settings: dict[str, Any] = {"registry_section": name, "config_path": config_path or None,
                                "legacy_mirrors": legacy}
    if legacy and not config_path:
        return _legacy_endpoints(ref, reg, name), sources, problems, settings
    if not config_path:
        config_path = DEFAULT_CONFIG_PATH
        settings["config_path_default"] = True
    host = ref.registry
    d = find_host_dir(root, config_path, host)
    settings["host_dir"] = d
    if d is None:
        return [_default_endpoint(ref, "image reference (no hosts.toml)")], sources, problems, settings
    text, err = read_text(root, f"{d}/hosts.toml")
    if text is None:
        if err:
            problems.append(err)
        # a directory with only certificates: containerd loads *.crt/*.cert/*.key as for Docker
        names = list_dir(root, d)
        ep = _default_endpoint(ref, f"image reference (certificates from {d})")
        ep.ca_files = [f"{d}/{n}" for n in names if n.endswith(".crt")]
        ep.client_certs = [f"{d}/{n}" for n in names if n.endswith(".cert")]
        return [ep], sources, problems, settings
    sources.append(f"{d}/hosts.toml")
    try:
        eps = _endpoints_from_hosts_toml(text, d, ref)
    except tomllib.TOMLDecodeError as exc:
        problems.append(f"{d}/hosts.toml: not valid TOML: {exc}")
        return [_default_endpoint(ref, "image reference (hosts.toml unparsable)")], sources, problems, settings
    return eps, sources, problems, settings
