"""``discover``: the one entry point that says what a runtime will really use to pull one image.

It picks the runtime's own files (dockerd, containerd's CRI, or containers/image for podman, skopeo,
buildah and CRI-O), turns them into an ordered endpoint list, and attaches for each endpoint the
proxy Go will use and where credentials come from. Everything is read under ``root`` and from
``env`` so the same code answers for this host, a mounted node image, or a test's temp tree.
Nothing here raises on bad files: what could not be read or parsed lands in ``problems``.
"""

from __future__ import annotations

import os
import platform
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pulldoctor.config import containerd as ctd
from pulldoctor.config import containers as ctr
from pulldoctor.config import docker as dkr
from pulldoctor.config.credentials import (
    HELPER_TIMEOUT_S,
    containers_credential,
    containers_helpers,
    docker_credential,
)
from pulldoctor.config.files import read_text, under
from pulldoctor.config.model import ProxyConfig, PullClient, PullConfig
from pulldoctor.config.proxy import from_environment, proxy_for
from pulldoctor.config.resolv import read_resolver
from pulldoctor.errors import UsageError
from pulldoctor.redact import redact_url
from pulldoctor.reference import ImageReference, parse_reference

_RUNTIME_ALIASES: dict[str, str] = {
    "docker": "docker", "dockerd": "docker", "moby": "docker",
    "containerd": "containerd", "cri": "containerd", "kubelet": "containerd", "ctr": "containerd",
    "podman": "podman", "skopeo": "podman", "buildah": "podman", "crio": "podman", "cri-o": "podman",
}
CONTAINERD_DROPIN_DIR = "/etc/systemd/system/containerd.service.d"

CLIENTS: Mapping[str, tuple[str, ...]] = {"docker": ("daemon",), "containerd": ("cri", "cli"),
                                          "podman": ("cli",)}
"""The ``--client`` values each runtime has (:class:`PullClient`), in the order they are walked."""
_CONTAINERD_CRI = ("the CRI plugin (kubelet, crictl) and ctr 2.x's transfer service: containerd "
                  "fetches, with containerd.service's environment")
_CONTAINERD_CLI = ("ctr (1.6, 1.7; 2.x with --local) and nerdctl: they fetch in their own "
                  "process, with this shell's environment")


def _go_platform() -> str:
    arch = {"x86_64": "amd64", "aarch64": "arm64", "armv7l": "arm/v7", "ppc64le": "ppc64le",
            "s390x": "s390x", "riscv64": "riscv64"}.get(platform.machine(), platform.machine())
    return f"linux/{arch}"


def _detect_runtime(root: str | Path) -> str:
    """The runtime this host most likely pulls with: a live socket first, then config, then binary."""
    checks = (
        ("docker", ("/var/run/docker.sock", "/run/docker.sock")),
        ("containerd", ("/run/containerd/containerd.sock",)),
        ("podman", ("/run/crio/crio.sock", "/run/podman/podman.sock")),
        ("docker", ("/etc/docker/daemon.json", "/usr/bin/dockerd", "/usr/sbin/dockerd")),
        ("containerd", ("/etc/containerd/config.toml", "/usr/bin/containerd")),
        ("podman", ("/etc/containers/registries.conf", "/usr/bin/podman", "/usr/bin/skopeo")),
    )
    for runtime, paths in checks:
        if any(under(root, p).exists() for p in paths):
            return runtime
    return "docker"


def normalise_runtime(runtime: str, root: str | Path) -> str:
    r = runtime.strip().lower()
    if r == "auto":
        return _detect_runtime(root)
    if r not in _RUNTIME_ALIASES:
        raise UsageError(f"unknown runtime {runtime!r}: use auto, "
                         + ", ".join(sorted(set(_RUNTIME_ALIASES))))
    return _RUNTIME_ALIASES[r]


def _docker_store(daemon: Mapping[str, Any], driver: Any) -> str:
    """Which of dockerd's two pull paths runs: "containerd" (the containerd image store, whose
    errors and endpoint fallback are containerd's) or "graphdriver" (pull-internals.md §1.1)."""
    features = daemon.get("features")
    if isinstance(features, Mapping) and features.get("containerd-snapshotter") is True:
        return "containerd"
    if isinstance(driver, str) and (driver.startswith("io.containerd.snapshotter")
                                    or driver in ("overlayfs", "fuse-overlayfs", "stargz")):
        return "containerd"
    return "graphdriver"


def _docker(cfg: PullConfig, ref: ImageReference, root: str | Path, env: Mapping[str, str],
            live: bool, helper_kw: dict[str, Any]) -> None:
    daemon, problem, exists = dkr.load_daemon_json(root)
    if exists:
        cfg.sources.append(dkr.DAEMON_JSON)
    if problem:
        cfg.problems.append(problem)
    drop_env, drop_files = dkr.read_dropin_environment(root)
    cfg.sources += drop_files
    cfg.proxy = dkr.daemon_proxy(daemon, drop_env, drop_files)
    cfg.clients = [PullClient("daemon", "dockerd fetches (the docker CLI only asks it), with "
                              "daemon.json \"proxies\" or docker.service's environment", cfg.proxy)]
    cfg.endpoints = dkr.docker_endpoints(ref, daemon, root)
    d = daemon or {}
    cfg.settings.update({
        "data_root": d.get("data-root") or dkr.DEFAULT_DATA_ROOT,
        "mtu": d.get("mtu"), "dns": d.get("dns"), "dns_opts": d.get("dns-opts"),
        "dns_search": d.get("dns-search"),
        "max_concurrent_downloads": d.get("max-concurrent-downloads", 3),
        "max_download_attempts": d.get("max-download-attempts", 5),
        "registry_mirrors": d.get("registry-mirrors") or [],
        "insecure_registries": d.get("insecure-registries") or [],
        "image_store": _docker_store(d, None),
    })
    if live:
        info, err = dkr.daemon_info(root)
        if info is not None:
            reg = info.get("RegistryConfig") or {}
            cfg.settings["live"] = {
                "server_version": info.get("ServerVersion"),
                "docker_root_dir": info.get("DockerRootDir"),
                "mirrors": reg.get("Mirrors") or [],
                "http_proxy": info.get("HttpProxy") or None,
                "https_proxy": info.get("HttpsProxy") or None,
                "no_proxy": info.get("NoProxy") or None,
                "driver": info.get("Driver"),
            }
            cfg.settings["image_store"] = _docker_store(d, info.get("Driver"))
            cfg.sources.append(f"{dkr.DOCKER_SOCK} GET /info")
        elif err:
            cfg.settings["live_error"] = err
    cred, files, probs, checks = docker_credential(root, ref.registry, env, **helper_kw)
    cfg.sources += files
    cfg.problems += probs
    cfg.helpers += checks
    if cred is not None:
        cfg.credentials.append(cred)
    resolver_env = {**env, **drop_env}
    cfg.resolver = read_resolver(root, resolver_env, ref.host)


def _containerd(cfg: PullConfig, ref: ImageReference, root: str | Path, env: Mapping[str, str]) -> None:
    toml, problem, exists = ctd.load_config_toml(root)
    if exists:
        cfg.sources.append(ctd.CONFIG_TOML)
    if problem:
        cfg.problems.append(problem)
    eps, files, probs, settings = ctd.containerd_endpoints(ref, toml, root)
    cfg.endpoints = eps
    cfg.sources += files
    cfg.problems += probs
    cfg.settings.update(settings)
    cfg.settings["data_root"] = (toml or {}).get("root") or ctd.DEFAULT_ROOT
    drop_env: dict[str, str] = {}
    for name in sorted(p.name for p in under(root, CONTAINERD_DROPIN_DIR).glob("*.conf")):
        path = f"{CONTAINERD_DROPIN_DIR}/{name}"
        text, _ = read_text(root, path)
        for line in (text or "").splitlines():
            if line.strip().startswith("Environment="):
                for a in dkr.split_environment(line.strip()[len("Environment="):]):
                    k, _, v = a.partition("=")
                    drop_env[k] = v
        cfg.sources.append(path)
    daemon = from_environment(drop_env, "containerd.service drop-in") if drop_env else ProxyConfig(
        source="none (containerd's unit sets no proxy)")
    shell = from_environment(env, "this shell's environment")
    if not (shell.https_proxy or shell.http_proxy):
        shell.source = "none (this shell sets no proxy)"
    cfg.clients = [PullClient("cri", _CONTAINERD_CRI, daemon), PullClient("cli", _CONTAINERD_CLI, shell)]
    cfg.proxy = daemon
    reg, _ = ctd.registry_section(toml)
    auth_hosts = [h for h, c in (reg.get("configs") or {}).items() if isinstance(c, dict) and c.get("auth")]
    from pulldoctor.config.model import Credential

    for h in auth_hosts:
        cfg.credentials.append(Credential(registry=h, source=f"{ctd.CONFIG_TOML} registry.configs auth"))
    if not auth_hosts:
        cfg.settings["credentials_note"] = ("the CRI gets credentials from the kubelet "
                                            "(imagePullSecrets), not from files on this host")
    cfg.resolver = read_resolver(root, {**env, **drop_env}, ref.host)


def _containers(cfg: PullConfig, ref: ImageReference, root: str | Path, env: Mapping[str, str],
                helper_kw: dict[str, Any]) -> None:
    top, regs, files, probs = ctr.load_registries(root, env)
    cfg.sources += files
    cfg.problems += probs
    cfg.endpoints, settings = ctr.containers_endpoints(ref, regs, root)
    cfg.settings.update(settings)
    cfg.settings["unqualified_search_registries"] = top.get("unqualified-search-registries") or []
    cfg.settings["short_name_mode"] = top.get("short-name-mode")
    cfg.settings["data_root"] = ctr.DEFAULT_STORAGE
    cfg.proxy = from_environment(env, "the client's environment")
    cfg.clients = [PullClient("cli", "podman, skopeo, buildah: they fetch in their own process, "
                              "with this shell's environment (CRI-O: crio.service's, not read "
                              "here)", cfg.proxy)]
    helpers = containers_helpers(top)
    cfg.settings["credential_helpers"] = helpers
    source = ctr.top_key_source(root, env, "credential-helpers") or "registries.conf"
    seen: set[str] = set()
    for ep in cfg.endpoints:
        host = ep.host.removesuffix(":443")
        host = "docker.io" if host == "registry-1.docker.io" else host
        if host in seen:
            continue
        seen.add(host)
        cred, more, p, checks = containers_credential(root, host, ref.repository, env, helpers,
                                                      f"{source} credential-helpers", **helper_kw)
        cfg.sources += [m for m in more if m not in cfg.sources]
        cfg.problems += p
        cfg.helpers += checks
        if cred is not None:
            cfg.credentials.append(cred)
    cfg.resolver = read_resolver(root, env, ref.host)


def discover(
    image: str | ImageReference,
    runtime: str = "auto",
    root: str | Path = "/",
    env: Mapping[str, str] | None = None,
    *,
    live: bool | None = None,
    deadline: float | None = None,
    run_helpers: bool | None = None,
    client: str = "auto",
) -> PullConfig:
    """What ``runtime`` will use to pull ``image`` on the host whose file system is at ``root``.

    ``live`` reads Docker's own view (``GET /info`` on ``<root>/var/run/docker.sock``, bounded);
    by default only when ``root`` is "/". Credential helpers are found on ``env``'s PATH and asked
    ``get`` (each bounded, never past ``deadline``, a ``time.monotonic()`` value), by default only
    when ``root`` is "/": under another root they are looked for on the node's PATH under it and
    not run (``run_helpers`` overrides; ``cfg.helpers`` says how each went). ``client`` says which
    process pulls (``--client``: containerd's ``cli`` or ``cri``; ``auto``: see
    :func:`choose_clients`); ``proxy`` and each endpoint's proxy are the first walked client's.
    Raises :class:`UsageError` only for a bad reference, runtime or client name.
    """
    ref = image if isinstance(image, ImageReference) else parse_reference(image)
    environ: Mapping[str, str] = os.environ if env is None else env
    rt = normalise_runtime(runtime, root)
    cfg = PullConfig(runtime=rt, image=str(ref), platform=_go_platform())
    on_node = not (str(root) in ("", "/") if run_helpers is None else run_helpers)
    helper_kw: dict[str, Any] = {
        "node_root": root if on_node else None,
        "timeout_s": HELPER_TIMEOUT_S if deadline is None else
        max(0.05, min(HELPER_TIMEOUT_S, deadline - time.monotonic() - 0.5))}
    if rt == "docker":
        _docker(cfg, ref, root, environ, str(root) == "/" if live is None else live, helper_kw)
    elif rt == "containerd":
        _containerd(cfg, ref, root, environ)
    else:
        _containers(cfg, ref, root, environ, helper_kw)
    cfg.client = client
    cfg.clients = choose_clients(cfg.clients, rt, client, root)
    cfg.proxy = cfg.clients[0].proxy if cfg.clients else cfg.proxy
    by_host = {c.registry: c for c in cfg.credentials}
    for ep in cfg.endpoints:
        ep.proxy = proxy_for(ep.url, cfg.proxy)
        host = ep.host.removesuffix(":443")
        cred = by_host.get(host) or (by_host.get(ref.registry) if rt == "docker" else None)
        if rt == "docker" and ep.is_mirror and cred is None:
            cred = by_host.get(ref.registry)
        if cred is not None:
            ep.credential_source = cred.source + (f" (error: {cred.error})" if cred.error else "")
        elif rt == "containerd" and "credentials_note" in cfg.settings:
            ep.credential_source = "kubelet imagePullSecrets (not on this host)"
    return cfg


def _same_proxy(a: ProxyConfig, b: ProxyConfig) -> bool:
    """Whether two environments make Go pick the same proxy for every URL (pure)."""
    return (a.http_proxy, a.https_proxy, a.no_proxy) == (b.http_proxy, b.https_proxy, b.no_proxy)


def choose_clients(clients: list[PullClient], runtime: str, client: str, root: str | Path,
                   ) -> list[PullClient]:
    """The runtime's clients, those ``diagnose`` walks first, and which it walks (pure).

    An explicit ``client`` is the only one walked (a usage error when the runtime has no such
    client). ``auto`` walks every client whose proxy settings differ from those already walked,
    so a pull path that fails is never hidden behind one that works; one walk covers clients
    with the same settings. Under ``--root DIR`` this process's shell is not the host's: ``auto``
    walks the daemon's client only (the CRI on a Kubernetes node).
    """
    names = CLIENTS.get(runtime, ())
    if client != "auto" and client not in names:
        raise UsageError(f"--client {client} does not apply to {runtime} (its only client: "
                         f"{', '.join(names)}); --client chooses between containerd's cli "
                         "(ctr, nerdctl) and cri (kubelet, crictl)")
    for c in clients:
        c.walked = c.name == client if client != "auto" else (
            str(root) in ("", "/") or c.name != "cli" or len(clients) == 1)
    return sorted(clients, key=lambda c: not c.walked)


def walk_paths(cfg: PullConfig) -> list[list[PullClient]]:
    """The walked clients grouped by proxy settings: one walk per group, in walk order (pure)."""
    paths: list[list[PullClient]] = []
    for c in cfg.clients:
        if not c.walked:
            continue
        same = next((p for p in paths if _same_proxy(p[0].proxy, c.proxy)), None)
        if same is not None:
            same.append(c)
        else:
            paths.append([c])
    return paths


def answer_table(cfg: PullConfig) -> list[dict[str, Any]]:
    """Rows for ``pulldoctor host IMAGE``: one per endpoint, in the order the runtime tries them."""
    rows: list[dict[str, Any]] = []
    for i, ep in enumerate(cfg.endpoints, 1):
        rows.append({
            "order": i, "url": ep.url, "scheme": ep.url.split("://", 1)[0],
            "mirror": ep.is_mirror, "tls_verify": not (ep.skip_verify or ep.url.startswith("http://")),
            "ca": ", ".join(ep.ca_files) or "system roots",
            "proxy": redact_url(ep.proxy) if ep.proxy else "direct",
            "credentials": ep.credential_source or "anonymous", "source": ep.source,
        })
    return rows
