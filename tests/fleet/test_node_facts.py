"""facts.node / facts.node_attrs, and ``--root``: a node's files read from where they are mounted."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from pulldoctor.config.effective import discover
from pulldoctor.config.files import read_text, under
from pulldoctor.fleet.node_facts import (
    default_route,
    kubelet_labels,
    node_facts,
    node_name,
    parse_node_labels,
)


def _node_root(tmp: Path) -> Path:
    """A node's file system as a pod sees it at /host: resolv.conf is an ABSOLUTE symlink."""
    root = tmp / "host"
    (root / "etc/containerd/certs.d/registry.lab.test").mkdir(parents=True)
    (root / "run/systemd/resolve").mkdir(parents=True)
    (root / "var/lib/kubelet").mkdir(parents=True)
    (root / "run/systemd/resolve/stub-resolv.conf").write_text("nameserver 127.0.0.53\n")
    (root / "run/systemd/resolve/resolv.conf").write_text("nameserver 198.18.4.3\n")
    os.symlink("/run/systemd/resolve/stub-resolv.conf", root / "etc/resolv.conf")
    (root / "etc/hostname").write_text("worker-7\n")
    (root / "etc/containerd/config.toml").write_text(
        'version = 2\n[plugins."io.containerd.grpc.v1.cri".registry]\n'
        '  config_path = "/etc/containerd/certs.d"\n')
    (root / "etc/containerd/certs.d/registry.lab.test/hosts.toml").write_text(
        'server = "https://registry.lab.test"\n[host."https://mirror.lab.test"]\n'
        '  capabilities = ["pull", "resolve"]\n')
    (root / "var/lib/kubelet/config.yaml").write_text(
        "kind: KubeletConfiguration\nresolvConf: /run/systemd/resolve/resolv.conf\n")
    (root / "var/lib/kubelet/kubeadm-flags.env").write_text(
        'KUBELET_KUBEADM_ARGS="--container-runtime-endpoint=unix:///run/containerd/containerd.sock '
        '--node-labels=topology.kubernetes.io/zone=zone-b,eks.amazonaws.com/nodegroup=ng-2"\n')
    return root


def test_under_resolves_absolute_symlinks_inside_the_root(tmp_path: Path) -> None:
    root = _node_root(tmp_path)
    assert under(root, "/etc/resolv.conf") == root / "run/systemd/resolve/stub-resolv.conf"
    assert read_text(root, "/etc/resolv.conf")[0] == "nameserver 127.0.0.53\n"
    os.symlink("../../etc/hostname", root / "run/systemd/rel")
    assert read_text(root, "/run/systemd/rel")[0] == "worker-7\n"
    os.symlink("loop", root / "etc/loop")
    assert read_text(root, "/etc/loop")[0] is None  # bounded, never hangs
    assert under("/", "/etc/x") == Path("/etc/x")


def test_node_facts_under_root_read_the_node_not_the_pod(tmp_path: Path) -> None:
    root = _node_root(tmp_path)
    cfg = discover("registry.lab.test/lab/hello:latest", "containerd", root, env={})
    facts = node_facts(cfg, root=root, env={"PULLDOCTOR_RUNTIME_VERSION": "containerd://2.0.1"})
    a = facts["node_attrs"]
    assert facts["node"] == "worker-7"
    assert a["resolver"] == "127.0.0.53" and a["resolver_upstreams"] == "198.18.4.3"
    assert "(the node's)" in a["resolver_source"] and "systemd-resolved's stub" in a["resolver_source"]
    assert a["kubelet_resolv_conf"] == "/run/systemd/resolve/resolv.conf"
    assert a["mirrors"] == "https://mirror.lab.test"
    assert a["zone"] == "zone-b" and a["node_pool"] == "ng-2"
    assert a["runtime_version"] == "containerd://2.0.1"
    assert len(a["config /etc/containerd/config.toml"]) == 12
    assert facts["observed_at"].endswith("Z")


def test_credential_files_are_never_hashed(tmp_path: Path) -> None:
    root = tmp_path / "r"
    (root / "etc/docker").mkdir(parents=True)
    (root / "root/.docker").mkdir(parents=True)
    (root / "etc/docker/daemon.json").write_text("{}")
    (root / "root/.docker/config.json").write_text('{"auths": {"x": {"auth": "dTpw"}}}')
    cfg = discover("x/y:1", "docker", root, env={"HOME": "/root"}, live=False)
    attrs = node_facts(cfg, root=root, env={})["node_attrs"]
    assert "config /etc/docker/daemon.json" in attrs
    assert not any("config.json" in k for k in attrs)


def test_node_name_precedence(tmp_path: Path) -> None:
    root = _node_root(tmp_path)
    assert node_name("cli", root, {"NODE_NAME": "env"}) == "cli"
    assert node_name(None, root, {"NODE_NAME": "env"}) == "env"
    assert node_name(None, root, {}) == "worker-7"
    assert node_name(None, "/", {}) == os.uname().nodename


def test_labels_and_default_route(tmp_path: Path) -> None:
    assert parse_node_labels("a=1, b = 2,junk,=x") == {"a": "1", "b": "2"}
    assert kubelet_labels(_node_root(tmp_path))["topology.kubernetes.io/zone"] == "zone-b"
    proc = tmp_path / "proc"
    (proc / "net").mkdir(parents=True)
    (proc / "net/route").write_text("Iface\tDestination\tGateway\tFlags\tRefCnt\tUse\tMetric\n")
    assert default_route(proc) == {"default_route": "none"}
    lo = default_route()  # this namespace: whatever it is, it never raises
    assert isinstance(lo, dict)


def test_diagnose_and_host_name_the_node(tmp_path: Path) -> None:
    root = _node_root(tmp_path)
    env = {**os.environ, "NODE_NAME": "from-env"}
    r = subprocess.run([sys.executable, "-m", "pulldoctor", "host", "--root", str(root), "--json",
                        "--check", "disk", "--runtime", "containerd", "--node", "n-17"],
                       capture_output=True, text=True, timeout=60, env=env)
    facts = json.loads(r.stdout)["facts"]
    assert facts["node"] == "n-17" and facts["node_attrs"]["resolver"] == "127.0.0.53"
    # diagnose of an IP-literal registry on loopback: no resolver is asked, nothing leaves the host
    r = subprocess.run([sys.executable, "-m", "pulldoctor", "diagnose", "127.0.0.1:9/x/y:1",
                        "--root", str(root), "--runtime", "containerd", "--json", "--timeout", "3"],
                       capture_output=True, text=True, timeout=60, env=env)
    doc = json.loads(r.stdout)
    assert doc["facts"]["node"] == "from-env"
    assert doc["facts"]["node_attrs"]["zone"] == "zone-b"
