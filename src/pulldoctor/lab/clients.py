"""The real pulling clients of the lab: dockerd + docker, containerd + ctr, skopeo.

Why real binaries and not a model of them: the point of the lab is to record what the runtimes
*actually* print when a pull breaks (the text users paste into ``pulldoctor explain``), and how
long they take to give up. Each client runs inside the lab's ``client`` host: its network
namespace, and a private mount namespace where the scenario's ``/etc/resolv.conf``, ``/etc/hosts``,
``/etc/docker``, ``/etc/containerd``, ``/etc/containers`` and HOME are bind-mounted (see
:mod:`pulldoctor.lab.topology`), so dockerd's own Go resolver, ctr's hosts.toml lookup and skopeo's
registries.conf are exactly the scenario's.

Daemons (dockerd, and the containerd behind it or behind ctr) are started through the lab, so
their PIDs are recorded in the lab's state dir and stopped by PID even if this process dies.
dockerd gets its *own* containerd (``--containerd``) instead of the one it would fork itself, so
both PIDs are in the lab's records and each is stopped on its own. Daemons get the environment
their systemd units would give them (``lab.daemon_env``, from the scenario's drop-ins), never the
shell's: a proxy set only in the shell reaches skopeo and ctr, not dockerd.

The pure helpers (:func:`clean_output`, :func:`error_text`) are what capture and the tests use to
turn raw output into the text a user would paste.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import time
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from pulldoctor.errors import LabError, LabToolMissing
from pulldoctor.redact import redact

if TYPE_CHECKING:
    from pulldoctor.lab.topology import Lab

DEFAULT_PULL_TIMEOUT = 180.0
"""Bound of one client pull: docker 20.10 retries a config blob 5 times with a 30 s dial timeout
(insecure-cdn-tcp-drop: ~154 s), so the bound is above that."""

_START_TIMEOUT = 30.0
_TIMEOUT_RC = 124  # pulldoctor.lab.procs.TIMEOUT_RC
_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|\x1b\][^\x07]*\x07|\r")
_LEVEL_ERR = re.compile(r"\blevel=(?:fatal|error|panic)\b")
_LOGRUS = re.compile(r"\blevel=\w+ .*\bmsg=")


@dataclass(frozen=True, slots=True)
class ClientResult:
    """One real pull: what ran, what it printed, how it ended and how long it took."""

    client: str
    version: str
    argv: tuple[str, ...]
    rc: int | None  #: None when the run hit its bound and was killed
    output_text: str  #: everything printed (stdout then stderr), ANSI and progress redraws removed
    duration_s: float
    error_text: str = ""  #: the part a user would paste: the error lines only
    timed_out: bool = False
    notes: tuple[str, ...] = field(default=())
    daemon_log: str = ""  #: dockerd's pull-related log lines (retries, endpoint fallbacks)

    @property
    def ok(self) -> bool:
        return self.rc == 0 and not self.timed_out

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["argv"] = list(self.argv)
        d["notes"] = list(self.notes)
        return d


def clean_output(raw: str) -> str:
    """Remove terminal escapes and progress redraws (ctr's bars), keep every distinct line once.

    ctr redraws its progress table many times a second; only the last state of each row matters to
    a reader, so repeated rows collapse to their final version.
    """
    lines: list[str] = []
    index: dict[str, int] = {}
    for line in _ANSI.sub("", raw).split("\n"):
        line = line.rstrip()
        if not line.strip():
            continue
        key = _progress_key(line)
        if key is not None and key in index:
            lines[index[key]] = line
            continue
        if key is not None:
            index[key] = len(lines)
        lines.append(line)
    return "\n".join(lines)


def _progress_key(line: str) -> str | None:
    """The row identity of a progress line (``layer-sha256:…:  downloading |++| …``), else None."""
    m = re.match(r"^(\S+):\s+(?:resolv|wait|download|done|exists|waiting|resolving|resolved|"
                 r"downloading|complete|elapsed|unpack)", line)
    if m:
        return m.group(1)
    if line.startswith("elapsed:"):
        return "elapsed:"
    return None


def error_text(stderr: str) -> str:
    """The error lines of a client's stderr: what a user pastes into an issue or ``explain``.

    skopeo, ctr and dockerd log with logrus (``time=… level=… msg="…"``): the fatal/error ones are
    kept, info/warning chatter is dropped. Plain lines stay: docker's ``Error response from
    daemon: …`` and ctr's final ``ctr: …`` (which may follow an earlier ``level=error`` line that
    explains it, e.g. a hosts.toml that did not parse).
    """
    lines = [ln for ln in clean_output(stderr).split("\n") if ln.strip()]
    keep = [ln for ln in lines if _LEVEL_ERR.search(ln) or not _LOGRUS.search(ln)]
    return "\n".join(keep or lines)


def _which(name: str, prefer: Sequence[str] = ()) -> str:
    for p in prefer:
        if Path(p).is_file():
            return p
    found = shutil.which(name)
    if not found:
        raise LabToolMissing(f"{name} is not installed (the lab runs the real client)")
    return found


def _version(argv: Sequence[str]) -> str:
    try:
        cp = subprocess.run(list(argv), capture_output=True, text=True, timeout=10, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"unknown ({exc})"
    return (cp.stdout.strip() or cp.stderr.strip()).split("\n")[0]


class Client(ABC):
    """Base of the three clients: a work dir, a version, and one bounded pull at a time."""

    name: ClassVar[str] = ""

    def __init__(self) -> None:
        self._lab: Lab | None = None
        self._work: Path | None = None
        self._data: Path | None = None
        self._procs: list[subprocess.Popen[bytes]] = []
        self.version = ""

    @property
    def lab(self) -> Lab:
        if self._lab is None:
            raise LabError(f"{self.name} client used before start()")
        return self._lab

    @property
    def work(self) -> Path:
        if self._work is None:
            raise LabError(f"{self.name} client used before start()")
        return self._work

    @property
    def data(self) -> Path:
        if self._data is None:
            raise LabError(f"{self.name} client used before start()")
        return self._data

    def start(self, lab: Lab) -> None:
        """Prepare the work dir (sockets, logs) in the lab's state dir, removed at teardown.

        Stored data (image layers, content store) goes under ``lab.data_dir`` instead, because
        that is where a scenario puts a tiny file system to fill the disk (host.disk_full).
        """
        self._lab = lab
        self._work = lab.workdir / self.name
        self._work.mkdir(parents=True, exist_ok=True)
        self._data = lab.data_dir / self.name
        self._data.mkdir(parents=True, exist_ok=True)

    @abstractmethod
    def pull_argv(self, image: str) -> list[str]:
        """The command that pulls ``image`` (run inside the client's namespaces)."""

    def pull(self, image: str, timeout: float = DEFAULT_PULL_TIMEOUT) -> ClientResult:
        """Run one pull of ``image`` as the lab's client, bounded by ``timeout`` seconds."""
        argv = self.pull_argv(image)
        return self._run(argv, timeout)

    def _run(self, argv: list[str], timeout: float) -> ClientResult:
        t0 = time.monotonic()
        timed_out = False
        rc: int | None
        try:
            cp = self.lab.client_exec(argv, timeout=timeout)
            out, err, rc = _text(cp.stdout), _text(cp.stderr), cp.returncode
            # The lab's bounded run reports a timeout as coreutils' 124 instead of raising.
            if rc == _TIMEOUT_RC and time.monotonic() - t0 >= timeout * 0.98:
                timed_out, rc = True, None
        except subprocess.TimeoutExpired as exc:
            timed_out, rc = True, None
            out, err = _text(exc.stdout), _text(exc.stderr)
        duration = time.monotonic() - t0
        combined = clean_output(out + ("\n" if out and err else "") + err)
        return ClientResult(
            client=self.name,
            version=self.version,
            argv=tuple(redact(a) for a in argv),
            rc=rc,
            output_text=redact(combined),
            duration_s=round(duration, 3),
            error_text=redact(error_text(err)) if rc != 0 else "",
            timed_out=timed_out,
        )

    def _spawn(self, argv: list[str], log_name: str, env: Mapping[str, str] | None = None,
               ) -> subprocess.Popen[bytes]:
        p = self.lab.client_spawn(argv, env=env, log_name=log_name)
        self._procs.append(p)
        return p

    def stop(self) -> None:
        """Stop every daemon this client started, by PID (and its process group), newest first."""
        if self._lab is not None:
            for p in reversed(self._procs):
                self._lab.procs.stop(p.pid)
        self._procs.clear()
        self._work = None


def _text(data: bytes | str | None) -> str:
    if data is None:
        return ""
    return data.decode("utf-8", "replace") if isinstance(data, bytes) else data


def _wait_socket(sock: Path, proc: subprocess.Popen[bytes], what: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise LabError(f"{what} exited with code {proc.returncode} while starting")
        if sock.is_socket():
            return
        time.sleep(0.1)
    raise LabError(f"{what} did not open {sock} within {timeout:.0f}s")


def _containerd_config(work: Path, data: Path, cfg: Path | None = None) -> Path:
    """A containerd config with its own root/state/socket so it shares nothing with the host's.

    Written to ``cfg`` (default ``work/containerd.toml``).
    """
    cfg = cfg or work / "containerd.toml"
    disabled = 'disabled_plugins = ["io.containerd.grpc.v1.cri"]\n'
    cfg.write_text(
        "version = 2\n"
        f'root = "{data}/ctd-root"\n'
        f'state = "{work}/ctd-state"\n'
        f"{disabled}"
        "[grpc]\n"
        f'  address = "{work}/ctd.sock"\n'
        "[debug]\n"
        '  level = "warn"\n'
        '[plugins."io.containerd.internal.v1.opt"]\n'
        f'  path = "{work}/ctd-opt"\n',
        encoding="utf-8",
    )
    return cfg


def containerd_config_for(lab: Lab) -> Path:
    """Write the lab client's ``/etc/containerd/config.toml`` (root, state, socket in the lab)."""
    return _containerd_config(lab.workdir / ContainerdClient.name,
                              lab.data_dir / ContainerdClient.name,
                              lab.client_files / "etc/containerd/config.toml")


def _logged(argv: list[str], log: Path) -> list[str]:
    """Wrap ``argv`` so its output goes to ``log`` while the PID stays the daemon's (``exec``)."""
    return ["/bin/sh", "-c", f'exec "$0" "$@" >>{log} 2>&1', *argv]


def _read_tail(path: Path, limit: int = 20000) -> str:
    try:
        data = path.read_bytes()
    except OSError:
        return ""
    return data[-limit:].decode("utf-8", "replace")


class DockerClient(Client):
    """dockerd 20.10 (graph-driver store, vfs) with its own containerd, and the docker CLI.

    dockerd itself does the registry traffic, so it must run in the client's namespaces: that is
    how the scenario's resolv.conf becomes the daemon's resolver (pull-internals §1.8). The CLI runs
    there too, because it reads the registry credentials from ``$HOME/.docker/config.json``.
    """

    name = "docker"

    def __init__(self, env: Mapping[str, str] | None = None) -> None:
        super().__init__()
        self.env = dict(env or {})
        self._sock: Path | None = None
        self._start_failure: ClientResult | None = None

    def start(self, lab: Lab) -> None:
        super().start(lab)
        w = self.work
        dockerd = _which("dockerd")
        containerd = _which("containerd")
        self._docker = _which("docker", prefer=("/usr/bin/docker",))  # the docker.io CLI
        self.version = (f"{_version([dockerd, '--version'])}; "
                        f"CLI {_version([self._docker, '--version'])}")
        cfg = _containerd_config(w, self.data)
        ctd = self._spawn(_logged([containerd, "--config", str(cfg)], w / "containerd.log"),
                          "docker-containerd")
        _wait_socket(w / "ctd.sock", ctd, "containerd (for dockerd)", _START_TIMEOUT)
        scenario_json = lab.client_files / "etc/docker/daemon.json"
        if scenario_json.exists():
            config_file = "/etc/docker/daemon.json"  # as the daemon sees it, bind-mounted
        else:
            (w / "daemon.json").write_text("{}\n", encoding="utf-8")
            config_file = str(w / "daemon.json")
        self._sock = w / "docker.sock"
        # dockerd refuses a setting given both as a flag and in daemon.json.
        root_flag = ([] if _json_has_key(scenario_json, "data-root")
                     else ["--data-root", str(self.data / "docker")])
        argv = [
            dockerd, "--containerd", str(w / "ctd.sock"), "--storage-driver=vfs",
            "--iptables=false", "--ip6tables=false", "--bridge=none", *root_flag,
            "--exec-root", str(w / "exec"),
            "--pidfile", str(w / "docker.pid"), "-H", f"unix://{self._sock}",
            "--config-file", config_file,
        ]
        t0 = time.monotonic()
        proc = self._spawn(_logged(argv, w / "dockerd.log"), "dockerd", env=self.env or None)
        try:
            _wait_socket(self._sock, proc, "dockerd", _START_TIMEOUT)
        except LabError as exc:
            # A daemon that refuses its config is a result (daemon.config), not a lab failure.
            log = clean_output(_read_tail(w / "dockerd.log"))
            self._start_failure = ClientResult(
                client=self.name, version=self.version, argv=tuple(argv), rc=proc.poll(),
                output_text=redact(log), duration_s=round(time.monotonic() - t0, 3),
                error_text=redact(error_text(log)), notes=(f"dockerd did not start: {exc}",),
            )

    def pull_argv(self, image: str) -> list[str]:
        return [self._docker, "-H", f"unix://{self._sock}", "pull", image]

    def pull(self, image: str, timeout: float = DEFAULT_PULL_TIMEOUT) -> ClientResult:
        if self._start_failure is not None:
            return self._start_failure
        res = super().pull(image, timeout)
        return replace(res, daemon_log=pull_log_lines(self.daemon_log()))

    def daemon_log(self) -> str:
        """dockerd's own log (retries and fallbacks are only visible there)."""
        return redact(clean_output(_read_tail(self.work / "dockerd.log")))


def pull_log_lines(log: str) -> str:
    """The lines of a dockerd log that tell the story of a pull (not gRPC or cgroup chatter)."""
    keep = re.compile(r"retrying|Attempting next endpoint|Not continuing|Download failed|"
                      r"Error getting v2 registry|level=(?:error|fatal)|pull", re.I)
    return "\n".join(ln for ln in log.split("\n") if keep.search(ln) and "module=grpc" not in ln)


class ContainerdClient(Client):
    """containerd 1.6 as the content store and ``ctr images pull`` as the puller.

    In containerd 1.6 ``ctr`` resolves and fetches in its own process (no transfer service), so
    ctr is the process that must see the scenario's resolv.conf and hosts.toml; the daemon only
    stores content. Registry hosts come from ``--hosts-dir``: /etc/containerd/certs.d when the
    scenario wrote one, else /etc/docker/certs.d (containerd reads docker-style ca.crt dirs too).
    """

    name = "containerd"

    def start(self, lab: Lab) -> None:
        super().start(lab)
        w = self.work
        containerd = _which("containerd")
        self._ctr = _which("ctr")
        self.version = f"{_version([containerd, '--version'])}; {_version([self._ctr, '--version'])}"
        # Where a real host keeps it, so what reads /etc/containerd/config.toml (pulldoctor
        # diagnose/host: the data root that a tiny_disk fault fills) reads this daemon's config;
        # a scenario writes it when it is built (containerd_config_for), a bare lab here.
        if not (lab.client_files / "etc/containerd/config.toml").exists():
            containerd_config_for(lab)
        proc = self._spawn(_logged([containerd, "--config", "/etc/containerd/config.toml"],
                                   w / "containerd.log"), "containerd")
        _wait_socket(w / "ctd.sock", proc, "containerd", _START_TIMEOUT)
        if (lab.client_files / "etc/containerd/certs.d").is_dir():
            self._hosts_dir = "/etc/containerd/certs.d"
        else:
            self._hosts_dir = "/etc/docker/certs.d"

    def pull_argv(self, image: str) -> list[str]:
        return [self._ctr, "--address", str(self.work / "ctd.sock"), "--namespace", "pulldoctor",
                "images", "pull", "--hosts-dir", self._hosts_dir, image]


class SkopeoClient(Client):
    """``skopeo copy docker://IMAGE oci:DIR``: containers/image, the library podman and CRI-O use.

    ``copy`` rather than ``inspect`` so blobs are fetched too (CDN redirect, corrupt layer);
    """

    name = "skopeo"

    def start(self, lab: Lab) -> None:
        super().start(lab)
        self._skopeo = _which("skopeo")
        self.version = _version([self._skopeo, "--version"])

    def pull_argv(self, image: str) -> list[str]:
        return [self._skopeo, "copy", "--retry-times", "0",
                f"docker://{image}", f"oci:{self.data}/image:pulled"]


CLIENTS: dict[str, type[Client]] = {
    DockerClient.name: DockerClient,
    ContainerdClient.name: ContainerdClient,
    SkopeoClient.name: SkopeoClient,
}
"""The lab's clients by the name scenarios use in ``Scenario.clients``."""


def make_client(name: str) -> Client:
    """A new, not yet started client by name; unknown names are a usage error."""
    try:
        return CLIENTS[name]()
    except KeyError:
        from pulldoctor.errors import UsageError

        raise UsageError(
            f"unknown client {name!r} (choose from {', '.join(CLIENTS)})"
        ) from None


def _json_has_key(path: Path, key: str) -> bool:
    """Whether the JSON object in ``path`` sets ``key`` (False when absent or unparsable)."""
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return isinstance(doc, dict) and key in doc
