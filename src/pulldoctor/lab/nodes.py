"""Lab *nodes*: extra hosts of a fleet, each with its own resolver, firewall, runtime config and sshd.

Built on the :class:`~pulldoctor.lab.topology.Lab`'s public parts (its ``hosts`` table, its state
directory's namespace records, its process group, ``nft``, ``wait_tcp``), without changing the
topology: each node is one more network namespace linked to the lab's router, on its own
``198.18.(64+N).0/24``. Its processes (a real OpenSSH ``sshd``, and everything an SSH session
runs) live in a private mount namespace where the node's own files are bind-mounted over
``/etc/resolv.conf``, ``/etc/hosts``, ``/etc/docker``, ``/etc/containerd``, ``/etc/containers``
and ``/run``, and SSH sessions get ``HOME=/run/home`` (the node's own) - so ``pulldoctor diagnose`` run over SSH on a node reads that node's
configuration and nothing of the machine's (no docker socket, no resolver), exactly as on a
separate machine. :meth:`_LabNode.root` is that node's file system seen from outside (what a pod
mounts at ``/host``).

Everything is recorded in the lab's state before it is created, so ``Lab.close`` (and the reaper
after a killed run) removes node namespaces and stops sshd by PID like every other lab part.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pulldoctor.errors import LabError
from pulldoctor.lab.faults.dns import DnsFault
from pulldoctor.lab.procs import require_tools
from pulldoctor.lab.topology import ZONE, Host, Lab, dns_records

NODE_SUBNET_BASE = 64
_SSHD = "/usr/sbin/sshd"


@dataclass(frozen=True, slots=True)
class _LabNode:
    name: str
    index: int
    host: Host
    files: Path
    """The node's own file tree (``etc/``, ``run/``): its root as a pod would mount it."""

    @property
    def addr(self) -> str:
        return self.host.addr

    @property
    def subnet(self) -> str:
        return f"198.18.{NODE_SUBNET_BASE + self.index}.0/24"

    def root(self) -> Path:
        return self.files

    def mounts(self) -> list[tuple[str, str]]:
        """Bind mounts for every process of this node (``/run`` last: sources live under it)."""
        f = self.files
        pairs = [(f / "etc/resolv.conf", "/etc/resolv.conf"), (f / "etc/hosts", "/etc/hosts"),
                 (f / "etc/docker", "/etc/docker"), (f / "etc/containerd", "/etc/containerd"),
                 (f / "etc/containers", "/etc/containers"), (f / "run", "/run")]
        return [(str(s), d) for s, d in pairs]


def add_node(lab: Lab, name: str, index: int, *, resolvers: Sequence[str],
             daemon_json: Mapping[str, Any] | None = None,
             hosts_toml: Mapping[str, str] | None = None,
             nft_rules: str | None = None) -> _LabNode:
    """Create node ``name`` (namespace, link to the router, its files, its firewall rules).

    ``hosts_toml`` maps a registry host to a containerd ``hosts.toml`` text; the lab CA is trusted
    for every lab host (copied from the lab client's ``certs.d``) unless the scenario removed it.
    """
    if not 1 <= index <= 60:
        raise LabError("node index must be 1..60")
    netns = f"pd-{lab.id}-{name}"[:40]
    ifname = f"r-{name}"[:15]
    net = NODE_SUBNET_BASE + index
    lab.state.record_netns(netns)
    router = lab.hosts["router"].netns
    _ip(["netns", "add", netns])
    _ip(["link", "add", "eth0", "netns", netns, "type", "veth", "peer", "name", ifname,
         "netns", router])
    _ip(["-n", router, "addr", "add", f"198.18.{net}.1/24", "dev", ifname])
    _ip(["-n", router, "link", "set", ifname, "up"])
    for cmd in (["link", "set", "lo", "up"], ["addr", "add", f"198.18.{net}.2/24", "dev", "eth0"],
                ["link", "set", "eth0", "up"], ["route", "add", "default", "via", f"198.18.{net}.1"]):
        _ip(["-n", netns, *cmd])
    host = Host(name, netns, f"198.18.{net}.2", "eth0")
    lab.hosts[name] = host
    node = _LabNode(name, index, host, lab.state.path / "nodes" / name)
    _write_files(lab, node, resolvers, daemon_json, hosts_toml)
    if nft_rules:
        lab.nft(name, nft_rules)
    return node


def _ip(args: list[str]) -> None:
    r = subprocess.run(["ip", *args], capture_output=True, text=True, timeout=20)
    if r.returncode != 0:
        raise LabError(f"ip {' '.join(args)}: {r.stderr.strip()}")


def _write_files(lab: Lab, node: _LabNode, resolvers: Sequence[str],
                 daemon_json: Mapping[str, Any] | None, hosts_toml: Mapping[str, str] | None) -> None:
    f = node.files
    for d in ("etc", "run/home", "run/sshd", "run/systemd/resolve", "run/tmp"):
        (f / d).mkdir(parents=True, exist_ok=True)
    (f / "run/home").chmod(0o700)
    (f / "run/sshd").chmod(0o755)
    for sub in ("docker", "containerd", "containers"):
        src = lab.client_files / "etc" / sub
        if src.is_dir():
            shutil.copytree(src, f / "etc" / sub, dirs_exist_ok=True)
        (f / "etc" / sub).mkdir(exist_ok=True)
    (f / "etc/resolv.conf").write_text("".join(f"nameserver {r}\n" for r in resolvers))
    (f / "etc/hosts").write_text(f"127.0.0.1\tlocalhost\n{node.addr}\t{node.name}.{ZONE}\n")
    (f / "etc/hostname").write_text(node.name + "\n")
    (f / "etc/docker/daemon.json").write_text(json.dumps(dict(daemon_json or {}), indent=2) + "\n")
    for registry, text in (hosts_toml or {}).items():
        certs = f / "etc/containerd/certs.d" / registry
        certs.mkdir(parents=True, exist_ok=True)
        (certs / "hosts.toml").write_text(text)


def start_sshd(lab: Lab, node: _LabNode, authorized_key: str) -> subprocess.Popen[bytes]:
    """A real OpenSSH sshd on the node's address, port 22, key login as root only."""
    require_tools(_SSHD, "ssh-keygen")
    # Inside the node's mount namespace the node's run/ is /run (and the lab's state, which
    # holds node.files, is hidden): sshd's own files live there and are named by that path.
    d = node.files / "run/pd-sshd"
    inner = "/run/pd-sshd"
    d.mkdir(exist_ok=True)
    key = d / "host_ed25519"
    if not key.exists():
        r = subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(key)],
                           capture_output=True, text=True, timeout=20)
        if r.returncode != 0:
            raise LabError(f"ssh-keygen: {r.stderr.strip()}")
    auth = d / "authorized_keys"
    auth.write_text(authorized_key.strip() + "\n")
    auth.chmod(0o600)
    conf = d / "sshd_config"
    conf.write_text("\n".join([
        "Port 22", f"ListenAddress {node.addr}", f"HostKey {inner}/host_ed25519",
        f"AuthorizedKeysFile {inner}/authorized_keys",
        "PermitRootLogin prohibit-password", "PasswordAuthentication no",
        "KbdInteractiveAuthentication no", "UsePAM no", "StrictModes no", "UseDNS no",
        "PidFile none", "Subsystem sftp internal-sftp", "AcceptEnv LANG",
        "SetEnv HOME=/run/home TMPDIR=/run/tmp",
        "LogLevel VERBOSE", ""]))
    proc = lab.procs.start([_SSHD, "-D", "-e", "-f", f"{inner}/sshd_config"], netns=node.host.netns,
                           mounts=node.mounts(), env={"PATH": "/usr/sbin:/usr/bin:/sbin:/bin"},
                           log_name=f"sshd-{node.name}")
    try:
        lab.wait_tcp(node.name, 22, timeout=15, proc=proc)
    except LabError as exc:
        log = lab.log_dir / f"sshd-{node.name}.log"
        tail = log.read_text(errors="replace")[-600:] if log.exists() else ""
        raise LabError(f"{exc}: {tail.strip()}") from None
    return proc


def start_resolver(lab: Lab, addr: str, faults: Sequence[DnsFault]) -> subprocess.Popen[bytes]:
    """A second lab DNS server on ``addr`` (added to the dns host), with its own DNS faults."""
    lab.ip("dns", "addr", "add", f"{addr}/24", "dev", "eth0")
    conf = {"zone": ZONE, "records": dns_records(), "faults": [f.to_dict() for f in faults]}
    path = lab.workdir / f"dns-{addr}.json"
    path.write_text(json.dumps(conf, indent=1))
    proc = lab.spawn("dns", [sys.executable, "-m", "pulldoctor.lab.dnsserver", "--config",
                             str(path), "--addr", addr], log_name=f"dns-{addr}")
    _wait_listening(proc, addr, 53, timeout=10.0)
    return proc


def _wait_listening(proc: subprocess.Popen[bytes], addr: str, port: int, timeout: float) -> None:
    """Wait until ``proc``'s namespace has a TCP socket listening on exactly ``addr:port``.

    (``Lab.wait_tcp`` matches the port on any address, and the lab's first DNS server already
    listens on port 53 of the same host.)
    """
    import socket
    import struct
    import time

    want = f"{struct.unpack('<I', socket.inet_aton(addr))[0]:08X}:{port:04X}"
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if proc.poll() is not None:
            raise LabError(f"DNS server on {addr} exited ({proc.returncode})")
        try:
            with open(f"/proc/{proc.pid}/net/tcp") as fh:
                if any(line.split()[1] == want and line.split()[3] == "0A" for line in fh
                       if len(line.split()) > 3):
                    return
        except OSError:
            pass
        time.sleep(0.02)
    raise LabError(f"nothing listens on {addr}:{port} after {timeout:.0f}s")
