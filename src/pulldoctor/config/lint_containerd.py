"""Lint of containerd's registry configuration: config.toml and every hosts.toml it would read.

The failure people hit is "my mirror is ignored": the registry table sits under the plugin name the
*other* major version reads, ``config_path`` and the deprecated ``mirrors`` are both set (the CRI
plugin then refuses to load), the directory is named ``registry-1.docker.io`` instead of
``docker.io``, or ``host:port`` is written ``host_port`` without the trailing underscore. Pure
functions over parsed data; the host check does the reading.
"""

from __future__ import annotations

import tomllib
from typing import Any

from pulldoctor.config.containerd import CRI_V1, CRI_V2_IMAGES
from pulldoctor.config.lint_docker import Issue, did_you_mean

HOSTS_TOP_KEYS = frozenset({"server", "ca", "client", "skip_verify", "header", "override_path",
                            "capabilities", "dial_timeout", "host"})
HOST_KEYS = frozenset({"capabilities", "ca", "client", "skip_verify", "header", "override_path",
                       "dial_timeout"})
REGISTRY_KEYS = frozenset({"config_path", "mirrors", "configs", "auths", "headers"})


def lint_config_toml(cfg: dict[str, Any]) -> list[Issue]:
    """Issues in a parsed containerd config.toml (pure)."""
    out: list[Issue] = []
    version = int(cfg.get("version", 1) or 1)
    plugins = cfg.get("plugins") or {}
    v1 = ((plugins.get(CRI_V1) or {}).get("registry")) or None
    v2 = ((plugins.get(CRI_V2_IMAGES) or {}).get("registry")) or None
    if version >= 3 and v1:
        out.append(Issue("error", f'registry settings under plugins."{CRI_V1}".registry are ignored by a '
                         f'version = {version} config: containerd 2.x reads plugins."{CRI_V2_IMAGES}".registry',
                         "registry", [f'move the table to [plugins."{CRI_V2_IMAGES}".registry]']))
    if version < 3 and v2:
        out.append(Issue("error", f'plugins."{CRI_V2_IMAGES}".registry is only read with version = 3 '
                         f"(containerd 2.x); this file says version = {version}", "registry",
                         [f'move the table to [plugins."{CRI_V1}".registry] or set version = 3']))
    reg = (v2 if version >= 3 else v1) or {}
    if isinstance(reg, dict):
        for k in reg:
            if k not in REGISTRY_KEYS:
                out.append(Issue("error", f"registry: unknown key {k!r}{did_you_mean(k, REGISTRY_KEYS)}", k))
        if reg.get("config_path") and reg.get("mirrors"):
            out.append(Issue("error", "`mirrors` cannot be set when `config_path` is provided: the CRI "
                             "plugin fails to load", "mirrors",
                             ["move each mirror to <config_path>/<host>/hosts.toml and delete registry.mirrors"]))
        if reg.get("mirrors") or reg.get("configs"):
            out.append(Issue("warning", "registry.mirrors / registry.configs are deprecated (removed in "
                             "containerd 2.3) and switch the CRI to the local pull path", "mirrors",
                             ["use config_path = \"/etc/containerd/certs.d\" and hosts.toml files"]))
    return out


def lint_hosts_dir_names(names: list[str], base: str) -> list[Issue]:
    """Directory names under a config_path root that containerd will never match (pure)."""
    out: list[Issue] = []
    for n in names:
        if n in ("registry-1.docker.io", "index.docker.io"):
            out.append(Issue("error", f"{base}/{n}: containerd looks up Docker Hub as {base}/docker.io",
                             n, commands=[f"mv {base}/{n} {base}/docker.io"]))
        elif "_" in n and not n.endswith("_") and n != "_default" and n.rsplit("_", 1)[1].isdigit():
            host, port = n.rsplit("_", 1)
            out.append(Issue("error", f"{base}/{n}: a port is written host_port_ (trailing underscore) "
                             f"or host:port", n, commands=[f"mv {base}/{n} {base}/{host}_{port}_"]))
        elif "://" in n or n.startswith("http"):
            out.append(Issue("error", f"{base}/{n}: the directory is the registry host, not a URL", n))
    return out


def lint_hosts_toml(text: str, path: str, tag_pull: bool = True) -> list[Issue]:
    """Issues in one hosts.toml (pure)."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        return [Issue("error", f"{path}: not valid TOML: {exc}; containerd ignores the file", "",
                      [f"fix the syntax of {path}"])]
    out = [Issue("error", f"{path}: unknown key {k!r}{did_you_mean(k, HOSTS_TOP_KEYS)}", k)
           for k in data if k not in HOSTS_TOP_KEYS]
    hosts = data.get("host") or {}
    for url, tbl in hosts.items():
        if not isinstance(tbl, dict):
            continue
        out += [Issue("error", f'{path} [host."{url}"]: unknown key {k!r}{did_you_mean(k, HOST_KEYS)}', k)
                for k in tbl if k not in HOST_KEYS]
        caps = tbl.get("capabilities")
        if tag_pull and isinstance(caps, list) and "resolve" not in caps:
            out.append(Issue("warning", f'{path} [host."{url}"] lacks the "resolve" capability: it is '
                             "never asked to turn a tag into a digest", "capabilities"))
    if not hosts and "server" not in data:
        out.append(Issue("error", f"{path}: neither server nor any [host] entry: nothing to pull from", ""))
    return out
