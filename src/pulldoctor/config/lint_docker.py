"""Lint of dockerd's configuration: what makes it refuse to start, and what silently does nothing.

dockerd rejects a daemon.json with an unknown key ("the following directives don't match any
configuration option"), a mirror without ``http(s)://``, or an insecure registry written as a URL,
so those are errors. Settings that parse but do not do what people expect are warnings: ``dns`` does
not change the daemon's own registry lookups, mirrors apply to Docker Hub only, an insecure entry
``host`` does not cover ``host:5000``. All functions are pure: text and settings in, issues out.
"""

from __future__ import annotations

import difflib
import ipaddress
from dataclasses import dataclass, field
from typing import Any

from pulldoctor.reference import ImageReference

_DAEMON_KEYS = frozenset(["allow-direct-routing", "allow-nondistributable-artifacts", "api-cors-header", "authorization-plugins", "bip", "bip6", "bridge", "bridge-accept-fwmark", "builder", "cdi-spec-dirs", "cgroup-parent", "containerd", "containerd-namespace", "containerd-plugins-namespace", "cri-containerd", "data-root", "debug", "default-address-pools", "default-cgroupns-mode", "default-gateway", "default-gateway-v6", "default-ipc-mode", "default-network-opts", "default-runtime", "default-shm-size", "default-ulimits", "dns", "dns-opts", "dns-search", "exec-opts", "exec-root", "experimental", "features", "firewall-backend", "fixed-cidr", "fixed-cidr-v6", "group", "host-gateway-ip", "host-gateway-ips", "hosts", "icc", "init", "init-path", "insecure-registries", "ip", "ip-forward", "ip-forward-no-drop", "ip-masq", "ip6tables", "iptables", "ipv6", "labels", "live-restore", "log-driver", "log-format", "log-level", "log-opts", "max-concurrent-downloads", "max-concurrent-uploads", "max-download-attempts", "metrics-addr", "min-api-version", "mtu", "no-new-privileges", "node-generic-resources", "oom-score-adjust", "pidfile", "proxies", "raw-logs", "registry-mirrors", "runtimes", "seccomp-profile", "selinux-enabled", "shutdown-timeout", "storage-driver", "storage-opts", "swarm-default-advertise-addr", "tls", "tlscacert", "tlscert", "tlskey", "tlsverify", "userland-proxy", "userland-proxy-path", "userns-remap"])
FLAG_NAMES = {
    # dockerd checks daemon.json keys against its *flag* names, then decodes the *file* names: a flag
    # name passes the check and is dropped by the decoder (observed with dockerd 20.10).
    "registry-mirror": "registry-mirrors", "insecure-registry": "insecure-registries",
    "dns-opt": "dns-opts", "label": "labels", "log-opt": "log-opts", "storage-opt": "storage-opts",
    "exec-opt": "exec-opts", "host": "hosts", "default-ulimit": "default-ulimits",
    "authorization-plugin": "authorization-plugins", "add-runtime": "runtimes",
    "node-generic-resource": "node-generic-resources",
}
_PROXY_KEYS = frozenset({"http-proxy", "https-proxy", "no-proxy"})
_LIST_KEYS = ("registry-mirrors", "insecure-registries", "dns", "dns-opts", "dns-search")
_INT_KEYS = ("mtu", "max-concurrent-downloads", "max-download-attempts")


@dataclass(slots=True)
class Issue:
    """One lint result; ``severity`` "error" means the runtime rejects it or the pull cannot work."""

    severity: str
    message: str
    key: str = ""
    fix: list[str] = field(default_factory=list)
    """What to change, in words (shown as advice, never as a command)."""
    commands: list[str] = field(default_factory=list)
    """Shell commands that make the change, runnable as printed."""


def did_you_mean(key: str, known: frozenset[str] | set[str]) -> str:
    close = difflib.get_close_matches(key, sorted(known), n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _unknown_keys(data: dict[str, Any], known: frozenset[str] | set[str], where: str) -> list[Issue]:
    return [Issue("error", f"{where}: unknown key {k!r}{did_you_mean(k, known)}", k,
                  [f"rename or remove {k!r} in {where}"]) for k in data if k not in known]


def _lint_mirror(m: Any) -> Issue | None:
    """moby ``ValidateMirror`` rules (pure)."""
    if not isinstance(m, str):
        return Issue("error", f"registry-mirrors entry {m!r} is not a string", "registry-mirrors")
    scheme, sep, rest = m.partition("://")
    if not sep or not scheme:
        return Issue("error", f"registry mirror {m!r} has no scheme: dockerd refuses to start "
                     "(\"invalid mirror: no scheme specified\")", "registry-mirrors",
                     [f"write it as \"https://{m.rstrip('/')}\" in /etc/docker/daemon.json"])
    if scheme not in ("http", "https"):
        return Issue("error", f"registry mirror {m!r}: unsupported scheme {scheme!r}", "registry-mirrors",
                     [f"write it as \"https://{rest}\""])
    if "?" in rest or "#" in rest:
        return Issue("error", f"registry mirror {m!r} has a query or fragment", "registry-mirrors")
    if "@" in rest.split("/", 1)[0]:
        return Issue("error", "a registry mirror carries a username/password: not allowed",
                     "registry-mirrors", ["remove the credentials from the mirror URL; use docker login"])
    if "/" in rest.rstrip("/"):
        return Issue("warning", f"registry mirror {m!r} has a path: Docker before 25 rejects it, and "
                     "the path is used as a prefix before /v2/", "registry-mirrors")
    return None


def _lint_insecure(entry: Any, ref: ImageReference | None) -> list[Issue]:
    """moby ``loadInsecureRegistries`` rules plus "does it cover the image's host:port"."""
    if not isinstance(entry, str):
        return [Issue("error", f"insecure-registries entry {entry!r} is not a string", "insecure-registries")]
    if "://" in entry:
        bare = entry.split("://", 1)[1].rstrip("/")
        if entry.lower().startswith(("http://", "https://")):
            out0 = [Issue("warning", f"insecure registry {entry!r}: dockerd strips the scheme (and logs a "
                          "warning); write host[:port] only", "insecure-registries", [f"write it as {bare!r}"])]
            return out0 + _lint_insecure(bare, ref)
        return [Issue("error", f"insecure registry {entry!r} should not contain '://': dockerd refuses "
                      "to start", "insecure-registries", [f"write it as {bare!r}"])]
    out: list[Issue] = []
    if ref is not None and not ref.is_docker_hub and "/" not in entry:
        host = ref.api_host
        if entry != host and entry.split(":")[0] == host.split(":")[0]:
            out.append(Issue("warning", f"insecure registry {entry!r} does not match {host!r} used by "
                             f"{ref.familiar}: the match is on host:port exactly", "insecure-registries",
                             [f"add \"{host}\" to insecure-registries in /etc/docker/daemon.json"]))
    if "/" in entry:
        try:
            ipaddress.ip_network(entry, strict=False)
        except ValueError:
            out.append(Issue("error", f"insecure registry {entry!r} is neither host[:port] nor a CIDR",
                             "insecure-registries"))
    return out


def lint_daemon(data: dict[str, Any], ref: ImageReference | None = None,
                dropin_env: dict[str, str] | None = None) -> list[Issue]:
    """Every issue in a parsed daemon.json (pure)."""
    out: list[Issue] = []
    for k in data:
        if k in FLAG_NAMES:
            out.append(Issue("warning", f"daemon.json key {k!r} is the command-line flag's name: dockerd "
                             f"accepts it and then silently ignores it; the file key is "
                             f"{FLAG_NAMES[k]!r}", k, [f"rename {k!r} to {FLAG_NAMES[k]!r} in "
                                                       "/etc/docker/daemon.json"]))
    out += _unknown_keys({k: v for k, v in data.items() if k not in FLAG_NAMES}, _DAEMON_KEYS, "daemon.json")
    for k in _LIST_KEYS:
        if k in data and not isinstance(data[k], list):
            out.append(Issue("error", f"daemon.json {k!r} must be a list, not {type(data[k]).__name__}", k))
    for k in _INT_KEYS:
        if k in data and (not isinstance(data[k], int) or isinstance(data[k], bool) or data[k] < 0):
            out.append(Issue("error", f"daemon.json {k!r} must be a non-negative integer", k))
    mirrors = data.get("registry-mirrors") if isinstance(data.get("registry-mirrors"), list) else []
    for m in mirrors or []:
        issue = _lint_mirror(m)
        if issue:
            out.append(issue)
    if mirrors and ref is not None and not ref.is_docker_hub:
        out.append(Issue("warning", f"registry-mirrors apply to Docker Hub only: they are not used for "
                         f"{ref.registry}", "registry-mirrors",
                         [f"configure the mirror for {ref.registry} in containerd hosts.toml or use "
                          "the mirror's own name in the image reference"]))
    insecure = data.get("insecure-registries") if isinstance(data.get("insecure-registries"), list) else []
    for e in insecure or []:
        out += _lint_insecure(e, ref)
    if data.get("dns") or data.get("dns-search") or data.get("dns-opts"):
        out.append(Issue("warning", "daemon.json dns/dns-search/dns-opts only set containers' DNS: the "
                         "daemon's own registry lookups still use the host's /etc/resolv.conf", "dns",
                         ["fix the host resolver (/etc/resolv.conf or systemd-resolved) for pulls"]))
    proxies = data.get("proxies")
    if proxies is not None:
        if not isinstance(proxies, dict):
            out.append(Issue("error", "daemon.json 'proxies' must be an object", "proxies"))
        else:
            out += _unknown_keys(proxies, _PROXY_KEYS, "daemon.json proxies")
            if dropin_env and any(k.lower().endswith("_proxy") for k in dropin_env):
                out.append(Issue("warning", "proxies are set both in daemon.json and in the systemd "
                                 "unit's Environment=; daemon.json wins", "proxies"))
    return out
