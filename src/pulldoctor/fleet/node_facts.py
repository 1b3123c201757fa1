"""The attributes of one node that ``fleet merge`` compares across nodes, gathered where it runs.

``diagnose`` and ``host`` call :func:`node_facts` once each; it adds ``facts.node`` (``--node``,
else ``$NODE_NAME``, else the node's ``/etc/hostname`` under ``--root``, else this host's name),
``facts.observed_at`` (UTC, to the second: fleet-wide bursts are told apart by time) and
``facts.node_attrs``: flat ``name -> text`` pairs, so any two nodes compare by equality.

Why these attributes: they are what makes one node's pull differ from its neighbour's with the
same image - the resolver the runtime asks (and which file said so), the proxy, the mirror list,
the runtime and its version, a hash of each runtime configuration file (never of a credential
file), the MTU and subnet of the default route, and the Kubernetes zone and node pool when the
kubelet's flags or ``$PULLDOCTOR_NODE_LABELS`` (set by ``k8s probe``) say so.

Under ``--root`` (a node's file system mounted in a pod) the files come from the node, while the
network facts come from this network namespace (the pod runs with ``hostNetwork``). The classic
trap is named: the kubelet gives pods ``/run/systemd/resolve/resolv.conf`` while the node's
runtime resolves through the ``127.0.0.53`` stub of the node's own ``/etc/resolv.conf``; the
node's file is what counts, and ``resolver_source`` says which file was read and, when this pod's
own ``/etc/resolv.conf`` differs, that it was not used.
"""

from __future__ import annotations

import array
import fcntl
import hashlib
import ipaddress
import os
import re
import shutil
import socket
import struct
import subprocess
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pulldoctor.config.files import read_text
from pulldoctor.config.model import PullConfig
from pulldoctor.config.resolv import RESOLVED_STUB, RESOLVED_UPSTREAM, parse_resolv_conf
from pulldoctor.k8s.objects import POOL_LABELS, ZONE_LABELS
from pulldoctor.redact import redact_url

_KUBELET_FLAG_FILES = ("/var/lib/kubelet/kubeadm-flags.env", "/etc/default/kubelet",
                      "/etc/sysconfig/kubelet")
_KUBELET_CONFIG = "/var/lib/kubelet/config.yaml"
_CREDENTIAL_NAMES = ("config.json", "auth.json", ".dockercfg", "credentials", "htpasswd")
_SIOCGIFMTU, _SIOCGIFADDR, _SIOCGIFNETMASK = 0x8921, 0x8915, 0x891B


def node_name(node: str | None, root: str | Path = "/", env: Mapping[str, str] | None = None) -> str:
    """``--node``, else ``$NODE_NAME``, else the node's hostname (under ``root``), else ours."""
    environ = os.environ if env is None else env
    if node and node.strip():
        return node.strip()
    if environ.get("NODE_NAME", "").strip():
        return environ["NODE_NAME"].strip()
    if str(root) not in ("", "/"):
        text, _ = read_text(root, "/etc/hostname")
        if text and text.strip():
            return text.strip().splitlines()[0]
    return socket.gethostname()


def parse_node_labels(text: str) -> dict[str, str]:
    """``k=v,k2=v2`` (the kubelet's ``--node-labels`` and ``$PULLDOCTOR_NODE_LABELS``; pure)."""
    out: dict[str, str] = {}
    for part in text.split(","):
        k, sep, v = part.strip().partition("=")
        if sep and k:
            out[k.strip()] = v.strip()
    return out


def kubelet_labels(root: str | Path) -> dict[str, str]:
    """Labels from the kubelet's ``--node-labels`` flag in its environment files under ``root``."""
    labels: dict[str, str] = {}
    for path in _KUBELET_FLAG_FILES:
        text, _ = read_text(root, path)
        for m in re.finditer(r"--node-labels[= ]\"?([^\"\s']+)", text or ""):
            labels.update(parse_node_labels(m.group(1)))
    return labels


def kubelet_resolv_conf(root: str | Path) -> str | None:
    """``resolvConf`` of the kubelet's config: the file pods get instead of the node's."""
    text, _ = read_text(root, _KUBELET_CONFIG)
    m = re.search(r"^resolvConf:\s*\"?([^\"\s]+)", text or "", re.M)
    return m.group(1) if m else None


def _ifreq(sock: socket.socket, request: int, ifname: str) -> bytes:
    buf = array.array("B", struct.pack("256s", ifname.encode()[:15]))
    fcntl.ioctl(sock.fileno(), request, buf)
    return buf.tobytes()


def default_route(proc: str | Path = "/proc") -> dict[str, str]:
    """Interface, MTU and subnet of this network namespace's IPv4 default route.

    ``/proc/net/route`` and ioctls on a socket both answer for the *calling* process's network
    namespace, unlike ``/sys/class/net`` (which shows the namespace that mounted sysfs).
    """
    try:
        lines = Path(proc, "net/route").read_text().splitlines()[1:]
    except OSError:
        return {}
    best: tuple[int, str] | None = None
    for line in lines:
        f = line.split()
        if len(f) >= 7 and f[1] == "00000000" and (best is None or int(f[6]) < best[0]):
            best = (int(f[6]), f[0])
    if best is None:
        return {"default_route": "none"}
    ifname = best[1]
    out = {"default_route_dev": ifname}
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            out["mtu"] = str(struct.unpack("i", _ifreq(s, _SIOCGIFMTU, ifname)[16:20])[0])
            addr = socket.inet_ntoa(_ifreq(s, _SIOCGIFADDR, ifname)[20:24])
            mask = socket.inet_ntoa(_ifreq(s, _SIOCGIFNETMASK, ifname)[20:24])
            out["subnet"] = str(ipaddress.ip_network(f"{addr}/{mask}", strict=False))
    except OSError:
        pass
    return out


def _runtime_version(cfg: PullConfig, root: str | Path, env: Mapping[str, str]) -> str | None:
    if env.get("PULLDOCTOR_RUNTIME_VERSION"):
        return env["PULLDOCTOR_RUNTIME_VERSION"]
    live = cfg.settings.get("live")
    if isinstance(live, dict) and live.get("server_version"):
        return f"docker://{live['server_version']}"
    binary = {"containerd": "containerd", "podman": "podman"}.get(cfg.runtime)
    if str(root) not in ("", "/") or binary is None or shutil.which(binary) is None:
        return None  # never run a node's binaries from a pod; the probe passes the version in env
    try:
        r = subprocess.run([binary, "--version"], capture_output=True, text=True, timeout=2)
    except (OSError, subprocess.SubprocessError):
        return None
    m = re.search(r"\bv?(\d+\.\d+[\w.+-]*)", r.stdout)
    return f"{cfg.runtime}://{m.group(1)}" if m else None


def _config_hashes(cfg: PullConfig, root: str | Path) -> dict[str, str]:
    """sha256 (12 hex digits) of each runtime configuration file read; credential files never."""
    out: dict[str, str] = {}
    for src in cfg.sources:
        path = src.split(" ", 1)[0]
        if not path.startswith("/") or any(n in Path(path).name for n in _CREDENTIAL_NAMES):
            continue
        text, _ = read_text(root, path)
        if text is not None:
            out[f"config {path}"] = hashlib.sha256(text.encode()).hexdigest()[:12]
    return out


def _resolver_attrs(cfg: PullConfig, root: str | Path) -> dict[str, str]:
    """Which resolver the runtime asks, from which file; the pod-vs-node trap named (see above)."""
    r = cfg.resolver
    out = {"resolver": ",".join(r.nameservers) or "(none)"}
    rooted = str(root) not in ("", "/")
    where = f"{r.path} under {root} (the node's)" if rooted else r.path
    if RESOLVED_STUB in r.nameservers:
        ups = ",".join(r.stub_upstreams) or "unknown"
        out["resolver_upstreams"] = ups
        where += (f"; {RESOLVED_STUB} is systemd-resolved's stub, its upstreams ({ups}) from "
                  f"{RESOLVED_UPSTREAM}")
    if rooted:
        own, _ = read_text("/", "/etc/resolv.conf")
        mine = parse_resolv_conf(own).nameservers if own is not None else []
        if own is not None and mine != r.nameservers:
            where += (f"; this pod's own /etc/resolv.conf ({','.join(mine)}) is what the kubelet "
                      "gives pods, not what the node's runtime uses: not used")
    kubelet = kubelet_resolv_conf(root)
    if kubelet:
        out["kubelet_resolv_conf"] = kubelet
    out["resolver_source"] = where
    return out


def node_facts(cfg: PullConfig | None, *, root: str | Path = "/", node: str | None = None,
               env: Mapping[str, str] | None = None, proc: str | Path = "/proc") -> dict[str, Any]:
    """``{"node", "observed_at", "node_attrs"}`` for a report's facts (never raises on bad files)."""
    environ = os.environ if env is None else env
    attrs: dict[str, str] = {}
    if cfg is not None:
        attrs.update(_resolver_attrs(cfg, root))
        proxy = cfg.proxy.https_proxy or cfg.proxy.http_proxy
        attrs["proxy"] = redact_url(proxy) if proxy else "direct"
        attrs["mirrors"] = ",".join(e.url for e in cfg.endpoints if e.is_mirror) or "none"
        attrs["runtime"] = cfg.runtime
        version = _runtime_version(cfg, root, environ)
        if version:
            attrs["runtime_version"] = version
        attrs.update(_config_hashes(cfg, root))
    attrs.update(default_route(proc))
    labels = {**kubelet_labels(root), **parse_node_labels(environ.get("PULLDOCTOR_NODE_LABELS", ""))}
    zone = next((labels[k] for k in ZONE_LABELS if labels.get(k)), None)
    pool = next((labels[k] for k in POOL_LABELS if labels.get(k)), None)
    if zone:
        attrs["zone"] = zone
    if pool:
        attrs["node_pool"] = pool
    return {"node": node_name(node, root, environ),
            "observed_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "node_attrs": attrs}
