"""What podman, skopeo, buildah and CRI-O will use to pull one image: registries.conf (v2).

containers/image merges ``registries.conf`` and then ``registries.conf.d/*.conf`` in name order
(a later ``[[registry]]`` with the same prefix replaces the earlier one; top-level keys set later
win). The ``[[registry]]`` whose ``prefix`` is the *longest* match of the reference decides: its
mirrors are tried in order, then its ``location`` (unless ``blocked``), each with the reference's
prefix rewritten. Mirrors are skipped for tag pulls when ``mirror-by-digest-only`` or the mirror's
``pull-from-mirror = "digest-only"``. Certificates come from ``/etc/containers/certs.d/HOST`` and
then ``/etc/docker/certs.d/HOST``.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pulldoctor.config.files import list_dir, read_text, under
from pulldoctor.config.model import Endpoint
from pulldoctor.reference import DOCKER_HUB_API, ImageReference

_REGISTRIES_CONF = "/etc/containers/registries.conf"
_REGISTRIES_CONF_D = "/etc/containers/registries.conf.d"
_CERTS_DIRS = ("/etc/containers/certs.d", "/etc/docker/certs.d")
DEFAULT_STORAGE = "/var/lib/containers/storage"


def _conf_files(root: str | Path, env: Mapping[str, str]) -> list[str]:
    """The files containers/image merges, in order (``newConfigWrapperWithHomeDir``): the user's
    ``~/.config/containers/registries.conf`` *instead of* the system's when it exists, then the
    drop-in directories. ``CONTAINERS_REGISTRIES_CONF`` is podman's (and newer skopeo's) override."""
    if env.get("CONTAINERS_REGISTRIES_CONF"):
        return [env["CONTAINERS_REGISTRIES_CONF"]]
    user = env.get("HOME", "/root").rstrip("/") + "/.config/containers"
    user_d = f"{user}/registries.conf.d"
    if under(root, f"{user}/registries.conf").is_file():
        dirs, out = [user_d], [f"{user}/registries.conf"]
    else:
        dirs, out = [_REGISTRIES_CONF_D, user_d], [_REGISTRIES_CONF]
    for d in dirs:
        out += [f"{d}/{n}" for n in list_dir(root, d) if n.endswith(".conf")]
    return out


def load_registries(root: str | Path, env: Mapping[str, str],
                    ) -> tuple[dict[str, Any], list[dict[str, Any]], list[str], list[str]]:
    """(top-level keys, [[registry]] tables by prefix, files read, problems)."""
    top: dict[str, Any] = {}
    regs: dict[str, dict[str, Any]] = {}
    files: list[str] = []
    problems: list[str] = []
    for path in _conf_files(root, env):
        text, err = read_text(root, path)
        if text is None:
            if err:
                problems.append(err)
            continue
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            problems.append(f"{path}: not valid TOML: {exc}")
            continue
        files.append(path)
        for k, v in data.items():
            if k == "aliases" and isinstance(v, dict):
                top.setdefault("aliases", {}).update(v)  # aliases merge entry by entry
            elif k != "registry":
                top[k] = v
        for r in data.get("registry") or []:
            if isinstance(r, dict):
                r = dict(r)
                r["_file"] = path
                prefix = str(r.get("prefix") or r.get("location") or "")
                regs[prefix] = r
    return top, list(regs.values()), files, problems


def top_key_source(root: str | Path, env: Mapping[str, str], key: str) -> str | None:
    """The file whose top-level ``key`` applies (the last of :func:`_conf_files` to set it)."""
    found = None
    for path in _conf_files(root, env):
        text, _err = read_text(root, path)
        try:
            if text is not None and key in tomllib.loads(text):
                found = path
        except tomllib.TOMLDecodeError:
            continue
    return found


def _prefix_matches(prefix: str, name: str) -> bool:
    """containers/image ``refMatchingPrefix``: path-component prefix, or ``*.domain`` wildcard."""
    if prefix.startswith("*."):
        host = name.split("/", 1)[0]
        return host.endswith(prefix[1:])
    if not name.startswith(prefix):
        return False
    rest = name[len(prefix) :]
    return rest == "" or rest[0] in "/:@"


def find_registry(regs: list[dict[str, Any]], ref: ImageReference) -> dict[str, Any] | None:
    """The ``[[registry]]`` table with the longest matching prefix for ``ref``."""
    name = f"{ref.registry}/{ref.repository}"
    best: dict[str, Any] | None = None
    best_len = -1
    for r in regs:
        prefix = str(r.get("prefix") or r.get("location") or "")
        if prefix and _prefix_matches(prefix, name) and len(prefix) > best_len:
            best, best_len = r, len(prefix)
    return best


def _rewrite(location: str, prefix: str, ref: ImageReference) -> str:
    """The registry host part of ``location`` + rest-of-reference (only the host matters here)."""
    if prefix.startswith("*."):
        return ref.registry
    return location.split("/", 1)[0] if location else ref.registry


def _certs(root: str | Path, host: str) -> tuple[list[str], list[str]]:
    cas: list[str] = []
    certs: list[str] = []
    for d in _CERTS_DIRS:
        names = list_dir(root, f"{d}/{host}")
        cas += [f"{d}/{host}/{n}" for n in names if n.endswith(".crt")]
        certs += [f"{d}/{host}/{n}" for n in names if n.endswith(".cert")]
    return cas, certs


def _endpoint(root: str | Path, host: str, insecure: bool, mirror: bool, source: str) -> Endpoint:
    api = DOCKER_HUB_API if host == "docker.io" else host
    cas, certs = _certs(root, host)
    return Endpoint(url=f"https://{api}", host=api if ":" in api else f"{api}:443", is_mirror=mirror,
                    insecure=insecure, skip_verify=insecure, ca_files=cas, client_certs=certs,
                    source=source)


def containers_endpoints(ref: ImageReference, regs: list[dict[str, Any]], root: str | Path,
                         ) -> tuple[list[Endpoint], dict[str, Any]]:
    """Pull sources in order (``PullSourcesFromReference``) and the matching table's settings."""
    r = find_registry(regs, ref)
    if r is None:
        return [_endpoint(root, ref.registry, False, False, "image reference")], {"registry_table": None}
    prefix = str(r.get("prefix") or r.get("location") or "")
    src = f"{r['_file']} [[registry]] prefix={prefix!r}"
    settings: dict[str, Any] = {"registry_table": prefix, "blocked": bool(r.get("blocked"))}
    out: list[Endpoint] = []
    by_digest = ref.digest is not None
    for m in r.get("mirror") or []:
        if not isinstance(m, dict):
            continue
        pfm = m.get("pull-from-mirror", "all")
        if not by_digest and (r.get("mirror-by-digest-only") or pfm == "digest-only"):
            continue
        if by_digest and pfm == "tag-only":
            continue
        host = _rewrite(str(m.get("location", "")), prefix, ref)
        out.append(_endpoint(root, host, bool(m.get("insecure")), True, src + " mirror"))
    if not r.get("blocked"):
        host = _rewrite(str(r.get("location") or prefix), prefix, ref)
        out.append(_endpoint(root, host, bool(r.get("insecure")), False, src))
    final: list[Endpoint] = []
    for ep in out:
        final.append(ep)
        if ep.insecure:
            final.append(Endpoint(url=ep.url.replace("https://", "http://"), host=ep.host,
                                  is_mirror=ep.is_mirror, insecure=True,
                                  source=ep.source + " (insecure: http after https)"))
    return final, settings
