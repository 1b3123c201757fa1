"""The lab network: one client, one router, five servers, each in its own network namespace.

Why namespaces and not containers: the point of the lab is to make real runtimes fail for real
reasons (a dropped UDP packet, a missing ICMP, a tiny port range), so every host gets a real
kernel network stack, and faults are real nftables rules, routes, MTUs and sysctls.

Layout (namespaces are ``pd-<id>-<role>``; interface names only exist inside a namespace, so
two labs never collide)::

    client 198.18.1.2 --eth0 | r-client 198.18.1.1 [router] r-<server> 198.18.N.1 | eth0-- server

    role       address       DNS name              router side
    client     198.18.1.2    client.lab.test       198.18.1.1
    registry   198.18.2.2    registry.lab.test     198.18.2.1
    cdn        198.18.3.2    cdn.lab.test          198.18.3.1
    dns        198.18.4.2    dns.lab.test          198.18.4.1
    proxy      198.18.5.2    proxy.lab.test        198.18.5.1
    auth       198.18.6.2    auth.lab.test         198.18.6.1

Every host's default route points at the router (``ip_forward=1`` there), so the router sees all
client<->server traffic and path faults go into its ``forward`` chain. :data:`_UNROUTED` is an
address inside 198.18.0.0/15 that no host owns, for "nothing there" scenarios.

The client's processes run in a private mount namespace where files from :attr:`Lab.client_files`
are bind-mounted over ``/etc/resolv.conf``, ``/etc/hosts``, ``/etc/docker``, ``/etc/containerd``,
``/etc/containers`` and ``/etc/systemd/system`` (the daemons' unit drop-ins); ``HOME`` and ``XDG_RUNTIME_DIR`` point into it, so a scenario controls
everything the client reads and the machine's own resolver is never used.
"""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any

from pulldoctor.errors import LabError
from pulldoctor.lab.procs import STATE_ROOT, ProcessGroup, StateDir, require_tools, teardown

if TYPE_CHECKING:
    from pulldoctor.lab.faults.dns import DnsFault

ZONE = "lab.test"
SERVER_ROLES: tuple[str, ...] = ("registry", "cdn", "dns", "proxy", "auth")
ROLES: tuple[str, ...] = ("client", "router", *SERVER_ROLES)
_SUBNET = {"client": 1, "registry": 2, "cdn": 3, "dns": 4, "proxy": 5, "auth": 6}
ADDRESSES: Mapping[str, str] = {role: f"198.18.{n}.2" for role, n in _SUBNET.items()}
"""Fixed address of every host except the router (which has one ``.1`` per link)."""
_UNROUTED = "198.19.255.254"
"""Inside the lab range, owned by nobody: connections to it get no answer."""

CLIENT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
_NSSWITCH = ("passwd: files\ngroup: files\nshadow: files\nhosts: files dns\nnetworks: files\n"
            "protocols: files\nservices: files\nethers: files\nrpc: files\n")
_EGRESS_TABLE = """table inet pulldoctor_egress {
  chain prerouting {
    type filter hook prerouting priority -300; policy accept;
    meta nfproto ipv4 ip daddr != 198.18.0.0/15 counter
  }
}
"""
"""Counts packets the router sees for addresses outside the lab (before its routing drops them)."""


@dataclass(frozen=True, slots=True)
class Host:
    """One namespace of the lab. ``addr`` is the host's address (the router's client-side one)."""

    role: str
    netns: str
    addr: str
    ifname: str  # the interface facing the rest of the lab ("eth0"; "r-client" for the router)

    @property
    def name(self) -> str:
        return f"{self.role}.{ZONE}"


_LAB_TOOLS = ("ip", "nft", "nsenter", "unshare", "mount", "umount")


def lab_unavailable() -> str | None:
    """Why a lab cannot be built on this machine (not root, a tool missing, no netns), or None."""
    import shutil

    if os.geteuid() != 0:
        return "lab tests need root"
    missing = [t for t in _LAB_TOOLS if shutil.which(t) is None]
    if missing:
        return f"the lab needs {', '.join(missing)}"
    if not Path("/run/netns").exists() and subprocess.run(
            ["ip", "netns", "list"], capture_output=True, timeout=10).returncode != 0:
        return "ip netns does not work here"
    return None


def dns_records() -> dict[str, str]:
    """A record of every host in the zone (the router answers as ``router.lab.test``)."""
    recs = {f"{r}.{ZONE}": ADDRESSES[r] for r in ADDRESSES}
    recs[f"router.{ZONE}"] = "198.18.1.1"
    # A second name of the registry host, for mirrors: nothing listens on its mirror port, so a
    # mirror there is refused at once and clients fall back to the registry.
    recs[f"mirror.{ZONE}"] = ADDRESSES["registry"]
    return recs


class Lab:
    """A running lab; build it with ``with Lab() as lab:`` and it is always torn down.

    ``Lab()`` builds the topology at once (namespaces, links, routes, client files); services and
    faults are added by the scenario. On any failure while building, what was created is removed
    before the error propagates.
    """

    def __init__(self, prefix: str | None = None, *, state_root: Path | None = None) -> None:
        if os.geteuid() != 0:
            raise LabError("the lab needs root (network namespaces, nftables, mounts)")
        require_tools(*_LAB_TOOLS)
        self.id = f"{prefix or ''}{secrets.token_hex(3)}"
        root = state_root or STATE_ROOT
        self.state = StateDir(root / self.id)
        self.state.create(os.getpid())
        self.workdir = self.state.path / "work"
        self.log_dir = self.state.path / "logs"
        self.client_files = self.state.path / "client"
        self.data_dir = self.client_files / "data"
        self.procs = ProcessGroup(self.state, self.log_dir)
        self.hosts: dict[str, Host] = {}
        self.client_extra_env: dict[str, str] = {}
        """Variables of the client's shell: every command run as the client gets them (a
        scenario's ``HTTPS_PROXY``, ...), but not the daemons (see :attr:`daemon_env`)."""
        self.client_extra_mounts: list[tuple[str, str]] = []
        """More (source, target) bind mounts for the client (the Hub replica's CA bundle)."""
        self.daemon_env: dict[str, str] = {}
        """What the daemons' systemd units give them (``Environment=`` of a drop-in the scenario
        wrote under ``/etc/systemd/system``): dockerd's proxy is this, not the shell's."""
        self._closed = False
        try:
            self._build()
        except BaseException:
            self.close()
            raise

    # ----------------------------------------------------------------- building
    def _ns(self, role: str) -> str:
        return f"pd-{self.id}-{role}"

    def _ip_batch(self, commands: Sequence[str], netns: str | None = None) -> None:
        argv = ["ip", *(["-n", netns] if netns else []), "-batch", "-"]
        r = subprocess.run(argv, input="\n".join(commands) + "\n", capture_output=True, text=True,
                           timeout=20)
        if r.returncode != 0:
            raise LabError(f"ip {'-n ' + netns if netns else ''} failed: {r.stderr.strip()}")

    def _build(self) -> None:
        self.workdir.mkdir()
        self.log_dir.mkdir()
        for role in ROLES:
            self.state.record_netns(self._ns(role))
        self._ip_batch([f"netns add {self._ns(r)}" for r in ROLES])
        router = self._ns("router")
        links = [f"link add eth0 netns {self._ns(r)} type veth peer name r-{r} netns {router}"
                 for r in _SUBNET]
        self._ip_batch(links)
        router_cmds = ["link set lo up"]
        for role, n in _SUBNET.items():
            router_cmds += [f"addr add 198.18.{n}.1/24 dev r-{role}", f"link set r-{role} up"]
            self._ip_batch(["link set lo up", f"addr add {ADDRESSES[role]}/24 dev eth0",
                            "link set eth0 up", f"route add default via 198.18.{n}.1"],
                           self._ns(role))
            self.hosts[role] = Host(role, self._ns(role), ADDRESSES[role], "eth0")
        self._ip_batch(router_cmds, router)
        self.hosts["router"] = Host("router", router, "198.18.1.1", "r-client")
        self._write_client_files()
        self.sysctl("router", "net.ipv4.ip_forward", "1")
        self.nft("router", _EGRESS_TABLE)

    def _write_client_files(self) -> None:
        etc = self.state.path / "server-etc"
        etc.mkdir()
        (etc / "resolv.conf").write_text(f"nameserver {ADDRESSES['dns']}\n")
        (etc / "hosts").write_text("127.0.0.1\tlocalhost\n::1\tlocalhost\n")
        cf = self.client_files
        for d in ("etc/docker", "etc/containerd", "etc/containers", "etc/systemd/system", "home",
                  "run", "data"):
            (cf / d).mkdir(parents=True, exist_ok=True)
        (cf / "home").chmod(0o700)
        self.write_resolv_conf([ADDRESSES["dns"]])
        (cf / "etc/hosts").write_text("127.0.0.1\tlocalhost\n::1\tlocalhost\n")
        # Names are looked up in /etc/hosts and then DNS only (no mDNS, no systemd-resolved over
        # NSS, whatever the machine's nsswitch.conf says): the lab DNS is the only resolver.
        (cf / "etc/nsswitch.conf").write_text(_NSSWITCH)
        # skopeo refuses to run without a policy; the lab accepts any image (signatures are not
        # what the lab reproduces).
        (cf / "etc/containers/policy.json").write_text(
            json.dumps({"default": [{"type": "insecureAcceptAnything"}]}) + "\n")
        (cf / "etc/containers/registries.conf").write_text("unqualified-search-registries = []\n")

    def write_resolv_conf(self, nameservers: Sequence[str], options: Sequence[str] = ()) -> None:
        """Set the client's resolv.conf: Go and glibc read it anew, so this works mid-lab too."""
        lines = [f"nameserver {ns}" for ns in nameservers]
        if options:
            lines.append("options " + " ".join(options))
        (self.client_files / "etc/resolv.conf").write_text("\n".join(lines) + "\n")

    # ----------------------------------------------------------------- running things
    def _host(self, role: str) -> Host:
        try:
            return self.hosts[role]
        except KeyError:
            raise LabError(f"no host '{role}' in the lab (hosts: {', '.join(self.hosts)})") from None

    def spawn(self, role: str, argv: Sequence[str], env: Mapping[str, str] | None = None,
              log_name: str | None = None) -> subprocess.Popen[bytes]:
        """Start a long-running process in ``role``'s netns; its output goes to the lab's logs.

        Like every lab process it sees the lab's resolv.conf and hosts (:meth:`server_mounts`).
        """
        return self.procs.start(argv, netns=self._host(role).netns, mounts=self.server_mounts(),
                                env=self._env(env), log_name=log_name)

    def exec(self, role: str, argv: Sequence[str], timeout: float = 30.0,
             env: Mapping[str, str] | None = None,
             input: bytes | str | None = None) -> subprocess.CompletedProcess[str]:
        """Run a command in ``role``'s netns to completion, bounded (rc 124 on timeout)."""
        return self.procs.run(argv, netns=self._host(role).netns, mounts=self.server_mounts(),
                              env=self._env(env), timeout=timeout, input=input)

    def server_mounts(self) -> list[tuple[str, str]]:
        """Server processes get the lab's resolv.conf and hosts too.

        A server that resolves a name (tinyproxy resolving the registry it forwards to) must ask
        the lab's DNS server, never the machine's configured resolver.
        """
        etc = self.state.path / "server-etc"
        return [(str(etc / "resolv.conf"), "/etc/resolv.conf"), (str(etc / "hosts"), "/etc/hosts")]

    @staticmethod
    def _env(extra: Mapping[str, str] | None) -> dict[str, str]:
        # A clean environment: the host's proxy variables must never leak into the lab.
        # The interpreter's own bin dir too: the lab runs *this* pulldoctor, and a command
        # diagnose suggests (``pulldoctor host``) must find it there as a user's shell would.
        env = {"PATH": f"{CLIENT_PATH}:{os.path.dirname(sys.executable)}", "LANG": "C.UTF-8"}
        if "PYTHONPATH" in os.environ:
            env["PYTHONPATH"] = os.environ["PYTHONPATH"]
        env.update(extra or {})
        return env

    def client_mounts(self) -> list[tuple[str, str]]:
        """The bind mounts every client process gets (targets that do not exist are skipped)."""
        cf = self.client_files
        pairs = [(cf / "etc/resolv.conf", "/etc/resolv.conf"), (cf / "etc/hosts", "/etc/hosts"),
                 (cf / "etc/nsswitch.conf", "/etc/nsswitch.conf"),
                 (cf / "etc/docker", "/etc/docker"), (cf / "etc/containerd", "/etc/containerd"),
                 (cf / "etc/containers", "/etc/containers"),
                 # The client's units: the drop-ins a scenario writes, never the machine's.
                 (cf / "etc/systemd/system", "/etc/systemd/system")]
        mounts = [(str(s), d) for s, d in pairs] + self.client_extra_mounts
        return [(s, d) for s, d in mounts if os.path.exists(os.path.realpath(d))]

    def client_env(self, extra: Mapping[str, str] | None = None) -> dict[str, str]:
        """The client's environment: HOME and XDG_RUNTIME_DIR inside :attr:`client_files`."""
        env = {"HOME": str(self.client_files / "home"),
               "XDG_RUNTIME_DIR": str(self.client_files / "run"), **self.client_extra_env}
        env.update(extra or {})
        return self._env(env)

    def client_spawn(self, argv: Sequence[str], env: Mapping[str, str] | None = None,
                     log_name: str | None = None) -> subprocess.Popen[bytes]:
        """Start a client daemon (dockerd, containerd) with the scenario's files and network.

        A daemon is started by its unit, not from the shell: it gets :attr:`daemon_env`, never
        the shell's :attr:`client_extra_env`.
        """
        base = {"HOME": str(self.client_files / "home"),
                "XDG_RUNTIME_DIR": str(self.client_files / "run"), **self.daemon_env}
        return self.procs.start(argv, netns=self._host("client").netns,
                                mounts=self.client_mounts(), env=self._env({**base, **(env or {})}),
                                log_name=log_name)

    def client_exec(self, argv: Sequence[str], timeout: float = 60.0,
                    env: Mapping[str, str] | None = None,
                    input: bytes | str | None = None,
                    capture: bool = True) -> subprocess.CompletedProcess[str]:
        """Run a client command to completion with the scenario's files and network, bounded.

        ``capture=False`` streams its output to this process's stdout/stderr instead.
        """
        return self.procs.run(argv, netns=self._host("client").netns, mounts=self.client_mounts(),
                              env=self.client_env(env), timeout=timeout, input=input,
                              capture=capture)

    def client_shell_argv(self) -> list[str]:
        """The command a person runs to get a shell that sees what the lab's client sees."""
        from pulldoctor.lab.procs import wrap_argv

        env = [f"{k}={v}" for k, v in self.client_env().items()]
        return wrap_argv(["env", "-i", *env, "sh"], netns=self.hosts["client"].netns,
                         mounts=self.client_mounts())

    # ----------------------------------------------------------------- network helpers
    def sysctl(self, role: str, key: str, value: str) -> None:
        """Set a per-namespace sysctl (``net.*``) in ``role``'s netns."""
        path = "/proc/sys/" + key.replace(".", "/")
        r = self.exec(role, ["sh", "-c", f'echo "$1" > {path}', "sysctl", value], timeout=10)
        if r.returncode != 0:
            raise LabError(f"sysctl {key}={value} in {role}: {r.stderr.strip()}")

    def ip(self, role: str, *args: str) -> None:
        """Run ``ip -n <netns> ARGS`` (routes, MTUs) for ``role``."""
        r = subprocess.run(["ip", "-n", self._host(role).netns, *args], capture_output=True,
                           text=True, timeout=10)
        if r.returncode != 0:
            raise LabError(f"ip {' '.join(args)} in {role}: {r.stderr.strip()}")

    def nft(self, role: str, ruleset_text: str) -> None:
        """Load nftables rules (``nft -f`` syntax) into ``role``'s netns."""
        r = self.exec(role, ["nft", "-f", "-"], input=ruleset_text, timeout=10)
        if r.returncode != 0:
            raise LabError(f"nft in {role}: {r.stderr.strip()}")

    def wait_tcp(self, role: str, port: int, timeout: float = 10.0,
                 proc: subprocess.Popen[Any] | None = None) -> None:
        """Wait until something listens on TCP ``port`` in ``role``'s netns (or ``proc`` dies).

        Reads the namespace's socket table through ``/proc/<pid>/net/tcp`` of a process inside
        it (``proc``, else any from ``ip netns pids``), so waiting costs no subprocess per poll.
        """
        host = self._host(role)
        ns_ino = os.stat(f"/run/netns/{host.netns}").st_ino
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            pids = [proc.pid] if proc is not None else self._netns_pids(host.netns)
            if any(_listening(pid, port, ns_ino) for pid in pids):
                return
            if proc is not None and proc.poll() is not None:
                raise LabError(f"process {proc.pid} in {role} exited ({proc.returncode}) before "
                               f"listening on port {port}; see {self.log_dir}")
            time.sleep(0.01)
        raise LabError(f"nothing listens on {role}:{port} after {timeout:.0f}s; see {self.log_dir}")

    @staticmethod
    def _netns_pids(netns: str) -> list[int]:
        r = subprocess.run(["ip", "netns", "pids", netns], capture_output=True, text=True,
                           timeout=10)
        return [int(x) for x in r.stdout.split() if x.isdigit()]

    def egress_packets(self) -> int:
        """IPv4 packets that reached the router for an address outside 198.18.0.0/15.

        The router has no route out of the lab, so such packets go nowhere; the count proves that
        nothing in the lab even *tried* to reach the world (a leaked resolver, a real Hub address).
        """
        r = self.exec("router", ["nft", "-j", "list", "table", "inet", "pulldoctor_egress"],
                      timeout=10)
        if r.returncode != 0:
            raise LabError(f"reading the egress counter: {r.stderr.strip()}")
        for item in json.loads(r.stdout).get("nftables", []):
            for expr in item.get("rule", {}).get("expr", []):
                if "counter" in expr:
                    return int(expr["counter"]["packets"])
        raise LabError("the egress counter rule is missing")

    # ----------------------------------------------------------------- DNS
    def start_dns(self, faults: Sequence[DnsFault] = (),
                  extra_records: Mapping[str, str] | None = None,
                  wait: bool = True) -> subprocess.Popen[bytes]:
        """Start the lab DNS server for ``lab.test`` with per-name DNS ``faults``.

        ``extra_records`` adds names (inside or outside the zone) with their address.
        ``wait=False`` returns at once (then ``wait_tcp("dns", 53, proc=...)`` before use).
        """
        conf = {"zone": ZONE, "records": {**dns_records(), **(extra_records or {})},
                "faults": [f.to_dict() for f in faults]}
        path = self.workdir / "dns.json"
        path.write_text(json.dumps(conf, indent=1))
        proc = self.spawn("dns", [sys.executable, "-m", "pulldoctor.lab.dnsserver",
                                  "--config", str(path), "--addr", ADDRESSES["dns"]],
                          log_name="dns")
        if wait:
            self.wait_tcp("dns", 53, timeout=10, proc=proc)
        return proc

    # ----------------------------------------------------------------- lifetime
    def detach(self) -> None:
        """Leave the lab standing after this process exits (``pulldoctor lab up``)."""
        self.state.detach()
        self._closed = True

    def close(self) -> None:
        """Stop every process by PID, unmount, delete every netns; safe to call twice."""
        if self._closed:
            return
        self._closed = True
        problems = teardown(self.state)
        if problems:
            raise LabError("lab teardown incomplete: " + "; ".join(problems))

    def __enter__(self) -> Lab:
        return self

    def __exit__(self, et: type[BaseException] | None, ev: BaseException | None,
                 tb: TracebackType | None) -> None:
        try:
            self.close()
        except LabError:
            if et is None:
                raise


def _listening(pid: int, port: int, ns_ino: int) -> bool:
    """True if ``pid`` is inside the namespace ``ns_ino`` and a TCP socket there listens on ``port``.

    The namespace check matters: right after ``Popen``, ``nsenter`` may not have switched yet, and
    the machine's own namespace may well listen on port 53 or 443.
    """
    try:
        if os.stat(f"/proc/{pid}/ns/net").st_ino != ns_ino:
            return False
        for table in ("tcp", "tcp6"):
            with open(f"/proc/{pid}/net/{table}") as fh:
                next(fh, None)
                for line in fh:
                    fields = line.split()
                    if fields[3] == "0A" and int(fields[1].rsplit(":", 1)[1], 16) == port:
                        return True
    except (OSError, ValueError, IndexError):
        return False
    return False
