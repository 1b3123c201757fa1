"""What a runtime will really use to pull one image: the shared data model.

The discovery code (``config/docker.py``, ``config/containerd.py``, ``config/containers.py``,
``config/resolv.py``, ``config/proxy.py``, ``config/credentials.py``) fills these; ``diagnose`` walks
the endpoints in order with them and ``host`` prints them as the answer table. Secrets live only in
:class:`Credential` and are never part of ``to_dict``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


@dataclass(slots=True)
class Endpoint:
    """One place the runtime will try, in order (mirrors first, the registry itself last)."""

    url: str  # "https://registry-1.docker.io" (scheme + host[:port]; path prefix if the runtime allows)
    host: str  # "registry-1.docker.io:443" style host[:port] as dialled
    is_mirror: bool = False
    insecure: bool = False  # TLS verification skipped / plain HTTP allowed
    ca_files: list[str] = field(default_factory=list)
    client_certs: list[str] = field(default_factory=list)
    skip_verify: bool = False
    source: str = ""  # where this endpoint came from ("daemon.json registry-mirrors", ...)
    path_prefix: str = "/v2"
    # Extensions (host engineer): what the answer table shows per endpoint.
    proxy: str | None = None  # the proxy Go's ProxyFromEnvironment picks for this URL (None: direct)
    credential_source: str | None = None  # where the credentials for this endpoint come from
    capabilities: list[str] = field(default_factory=lambda: ["pull", "resolve"])  # containerd

    def to_dict(self) -> dict[str, Any]:
        from pulldoctor.redact import redact_url

        return {
            "url": self.url, "host": self.host, "is_mirror": self.is_mirror,
            "insecure": self.insecure, "ca_files": list(self.ca_files),
            "client_certs": list(self.client_certs), "skip_verify": self.skip_verify,
            "source": self.source, "path_prefix": self.path_prefix,
            "proxy": redact_url(self.proxy) if self.proxy else None,
            "credential_source": self.credential_source,
            "capabilities": list(self.capabilities),
        }


@dataclass(slots=True)
class ProxyConfig:
    """The proxy settings the runtime's process will see (Go's ProxyFromEnvironment semantics)."""

    http_proxy: str | None = None
    https_proxy: str | None = None
    no_proxy: str | None = None
    source: str = ""  # "environment", "daemon.json proxies", "systemd drop-in FILE"

    def to_dict(self) -> dict[str, Any]:
        from pulldoctor.redact import redact_url

        return {
            "http_proxy": redact_url(self.http_proxy) if self.http_proxy else None,
            "https_proxy": redact_url(self.https_proxy) if self.https_proxy else None,
            "no_proxy": self.no_proxy,
            "source": self.source,
        }


@dataclass(slots=True)
class PullClient:
    """One kind of process that fetches the image for this runtime, and the proxy it sees.

    Where the HTTP requests are made decides whose environment (``HTTPS_PROXY``, ``NO_PROXY``)
    applies. containerd has two: ``ctr`` (1.6, 1.7, and 2.x with ``--local``) and ``nerdctl``
    resolve and fetch in their own process, with the calling shell's environment
    (``cmd/ctr/commands/resolver.go``: ``http.ProxyFromEnvironment`` in ctr); the CRI plugin
    (kubelet, crictl) and ctr 2.x's transfer service fetch in the daemon, with
    containerd.service's environment (``pkg/cri/server/image_pull.go``). dockerd always fetches
    itself (the docker CLI only asks it); containers/image fetches in the calling process.
    """

    name: str  # the --client value: "cli" | "cri" (containerd), "daemon" (docker), "cli" (podman)
    who: str  # which programs, in words
    proxy: ProxyConfig = field(default_factory=ProxyConfig)
    walked: bool = True  # diagnose walks this client's path (--client, or auto)

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "who": self.who, "proxy": self.proxy.to_dict(),
                "walked": self.walked}


@dataclass(slots=True)
class Credential:
    """Credentials for one registry host. ``password``/``token`` never leave this object."""

    registry: str
    source: str  # "~/.docker/config.json auths", "credHelper docker-credential-X", "auth.json"
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    identity_token: str | None = field(default=None, repr=False)
    helper: str | None = None
    error: str | None = None  # the helper failed, the file is unreadable...

    def to_dict(self) -> dict[str, Any]:
        return {
            "registry": self.registry, "source": self.source, "username": self.username,
            "has_secret": bool(self.password or self.identity_token), "helper": self.helper,
            "error": self.error,
        }


class HelperStatus(StrEnum):
    """How asking one credential helper ``get`` for the registry went (never what it answered)."""

    ANSWERED = "answered"  # exit 0 with a credential for this registry
    NO_CREDENTIALS = "no_credentials"  # "credentials not found in native keychain": anonymous
    MISSING = "missing"  # no docker-credential-NAME on PATH
    NOT_EXECUTABLE = "not_executable"  # a file of that name on PATH, without the x bit
    FAILED = "failed"  # a non-zero exit with anything but the not-found message
    TIMED_OUT = "timed_out"  # no answer within the bound
    BAD_OUTPUT = "bad_output"  # exit 0, but not the JSON the protocol says
    NOT_RUN = "not_run"  # found under --root: a node's program is not run from here

    @property
    def broken(self) -> bool:
        """The client gets an error from the helper (Go's exec.LookPath skips a file without the
        x bit, so NOT_EXECUTABLE is the same "executable file not found in $PATH")."""
        return self in (HelperStatus.MISSING, HelperStatus.NOT_EXECUTABLE, HelperStatus.FAILED,
                        HelperStatus.TIMED_OUT, HelperStatus.BAD_OUTPUT)


@dataclass(slots=True)
class HelperCheck:
    """One credential helper the configuration names for the image's registry, and how asking it
    went. Holds no credential: only whether it answered, its exit code and a redacted first line
    of its stderr (a helper's own diagnostics, e.g. "pass not initialized")."""

    helper: str  # the configured name: "desktop" runs docker-credential-desktop
    server: str  # what it is asked for on stdin ("https://index.docker.io/v1/", "quay.io")
    source: str  # the file and key that name it ("~/.docker/config.json credsStore")
    status: HelperStatus
    program: str | None = None  # the file found on the search path
    exit_code: int | None = None
    stderr: str | None = None  # first line, redacted and shortened
    duration_s: float = 0.0
    search_path: str = ""  # the PATH searched (under --root: the node's default PATH)
    note: str | None = None  # e.g. why a node's helper was not run

    @property
    def name(self) -> str:
        return f"docker-credential-{self.helper}"

    def describe(self) -> str:
        """One line for evidence: what ran, and how it went."""
        what = {
            HelperStatus.ANSWERED: "answered with credentials",
            HelperStatus.NO_CREDENTIALS: "has no credentials for it (fine for an anonymous pull)",
            HelperStatus.MISSING: "is not on PATH",
            HelperStatus.NOT_EXECUTABLE: f"{self.program} is not executable",
            HelperStatus.FAILED: f"failed (exit {self.exit_code})",
            HelperStatus.TIMED_OUT: f"did not answer within {self.duration_s:.1f}s",
            HelperStatus.BAD_OUTPUT: "printed something that is not the protocol's JSON",
            HelperStatus.NOT_RUN: "is installed and executable; not run from here",
        }[self.status]
        line = self.name + (f" ({self.source})" if self.source else "") + \
            f" asked for {self.server}: {what}"
        if self.stderr:
            line += f"; stderr: {self.stderr}"
        if self.note:
            line += f" ({self.note})"
        return line

    def to_dict(self) -> dict[str, Any]:
        return {"helper": self.helper, "program": self.program, "server": self.server,
                "source": self.source, "status": str(self.status), "exit_code": self.exit_code,
                "stderr": self.stderr, "duration_s": round(self.duration_s, 3),
                "search_path": self.search_path, "note": self.note}


@dataclass(slots=True)
class ResolverConfig:
    """resolv.conf as Go's resolver reads it (defaults: ndots 1, timeout 5 s, attempts 2)."""

    path: str = "/etc/resolv.conf"
    nameservers: list[str] = field(default_factory=list)
    search: list[str] = field(default_factory=list)
    ndots: int = 1
    timeout_s: float = 5.0
    attempts: int = 2
    rotate: bool = False
    use_vc: bool = False
    single_request: bool = False
    unknown_options: list[str] = field(default_factory=list)
    read_error: str | None = None
    # Extensions (host engineer): what else decides how a Go runtime resolves the registry.
    default_nameservers: bool = False  # no usable nameserver line: Go falls back to 127.0.0.1/::1
    stub_upstreams: list[str] = field(default_factory=list)  # systemd-resolved's real servers
    hosts_overrides: dict[str, list[str]] = field(default_factory=dict)  # /etc/hosts name -> IPs
    nsswitch_hosts: str | None = None  # the nsswitch.conf "hosts:" line
    cgo_reasons: list[str] = field(default_factory=list)  # why Go would hand lookups to libc

    def to_dict(self) -> dict[str, Any]:
        return {
            "path": self.path, "nameservers": list(self.nameservers), "search": list(self.search),
            "ndots": self.ndots, "timeout_s": self.timeout_s, "attempts": self.attempts,
            "rotate": self.rotate, "use_vc": self.use_vc, "single_request": self.single_request,
            "unknown_options": list(self.unknown_options), "read_error": self.read_error,
            "default_nameservers": self.default_nameservers,
            "stub_upstreams": list(self.stub_upstreams),
            "hosts_overrides": {k: list(v) for k, v in self.hosts_overrides.items()},
            "nsswitch_hosts": self.nsswitch_hosts, "cgo_reasons": list(self.cgo_reasons),
        }


@dataclass(slots=True)
class PullConfig:
    """Everything one runtime will use to pull one image, discovered from one file-system root."""

    runtime: str  # "docker" | "containerd" | "podman"
    image: str  # the normalised reference
    endpoints: list[Endpoint] = field(default_factory=list)
    proxy: ProxyConfig = field(default_factory=ProxyConfig)  # the walked client's (clients[0])
    credentials: list[Credential] = field(default_factory=list)
    helpers: list[HelperCheck] = field(default_factory=list)  # credential helpers asked, in order
    resolver: ResolverConfig = field(default_factory=ResolverConfig)
    platform: str = "linux/amd64"
    sources: list[str] = field(default_factory=list)  # files read
    problems: list[str] = field(default_factory=list)  # files that could not be read/parsed
    # Extension (host engineer): runtime settings that matter to a pull (data_root, mtu, dns...).
    settings: dict[str, Any] = field(default_factory=dict)
    clients: list[PullClient] = field(default_factory=list)
    """Every kind of process that pulls with this runtime here, the walked one(s) first; with
    ``--client auto`` (:attr:`client`) containerd keeps both (see :class:`PullClient`)."""
    client: str = "auto"  # the --client asked for

    def credential_for(self, host: str) -> Credential | None:
        for c in self.credentials:
            if c.registry == host:
                return c
        return None

    def to_dict(self) -> dict[str, Any]:
        return {
            "runtime": self.runtime, "image": self.image,
            "endpoints": [e.to_dict() for e in self.endpoints],
            "proxy": self.proxy.to_dict(),
            "credentials": [c.to_dict() for c in self.credentials],
            "credential_helpers": [h.to_dict() for h in self.helpers],
            "resolver": self.resolver.to_dict(), "platform": self.platform,
            "sources": list(self.sources), "problems": list(self.problems),
            "settings": dict(self.settings),
            "clients": [c.to_dict() for c in self.clients], "client": self.client,
        }
