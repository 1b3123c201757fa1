"""What each step of the walk observed, as typed values: the probes' results with their context.

Why types: the classifiers in :mod:`pulldoctor.diagnose.infer` decide causes from these, the walk's
timing reads round trips from them, and the engine reads the registry's addresses, its ``Date``
and the image's size from them. A dict read back by key would let a renamed key silently turn a
proof into "no cause". Each observation becomes a dict only at the JSON edge (``to_dict``, called
by :meth:`pulldoctor.model.Step.to_dict`); the keys there are the report's ``steps[].data``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from pulldoctor.config.model import HelperCheck
from pulldoctor.config.policy import PolicyView
from pulldoctor.model import JSONValue
from pulldoctor.probes import dns as dnsprobe
from pulldoctor.probes import tcp as tcpprobe

if TYPE_CHECKING:  # httpx is imported only once the walk reaches the registry (see engine)
    from pulldoctor.probes.http import Challenge, Fetched
    from pulldoctor.probes.registry_api import ManifestInfo, RegistryError
    from pulldoctor.probes.tls import TlsResult


@dataclass(slots=True)
class DnsObservation:
    """One host name resolved against the runtime's resolvers (UDP and TCP, both asked)."""

    host: str
    role: str  # "registry", "token realm", "blob redirect", "proxy"
    nameservers: list[str]
    result: dnsprobe.DnsResult
    use_vc: bool = False  # resolv.conf ``options use-vc``: Go asks over TCP only
    proxy_host: bool = False

    @property
    def runtime_addresses(self) -> list[str]:
        """What the runtime itself would get (literal, /etc/hosts, or Go's own transports)."""
        if self.result.literal or self.result.from_hosts_file:
            return list(self.result.addresses)
        return dnsprobe.runtime_answer(self.result.queries, self.use_vc)

    @property
    def answer_rtts(self) -> list[float]:
        return [q.latency_s for q in self.result.queries
                if q.status == dnsprobe.ANSWER and q.latency_s is not None]

    def to_dict(self) -> dict[str, JSONValue]:
        r = self.result
        return {"kind": "dns", "host": self.host, "role": self.role, "literal": r.literal,
                "from_hosts_file": r.from_hosts_file, "addresses": list(r.addresses),
                "runtime_addresses": self.runtime_addresses, "names_tried": list(r.names_tried),
                "queries": [q.to_dict() for q in r.queries], "nameservers": list(self.nameservers),
                "use_vc": self.use_vc}


@dataclass(slots=True)
class TcpObservation:
    """A connect to every address the runtime would dial (raced, per address)."""

    host: str
    port: int
    results: list[tcpprobe.TcpResult]
    proxy_host: bool = False
    route: dict[str, Any] | None = None  # ``ip route get`` of the first address, when none worked
    deadline_cut: bool = False  # the deadline shortened the wait for a SYN-ACK

    @property
    def connected(self) -> list[str]:
        return [r.address for r in self.results if r.status == tcpprobe.OK]

    @property
    def rtts(self) -> list[float]:
        return [r.latency_s for r in self.results
                if r.status == tcpprobe.OK and r.latency_s is not None]

    def to_dict(self) -> dict[str, JSONValue]:
        d: dict[str, JSONValue] = {"kind": "tcp", "host": self.host, "port": self.port,
                                   "results": [r.to_dict() for r in self.results]}
        if self.route is not None:
            d["route"] = self.route
        return d


@dataclass(slots=True)
class ProxyObservation:
    """An HTTP CONNECT tunnel through the proxy to ``target``."""

    proxy: str  # redacted
    target: str
    error: str | None = None  # None: the tunnel opened

    def to_dict(self) -> dict[str, JSONValue]:
        return {"kind": "proxy", "proxy": self.proxy, "target": self.target, "error": self.error}


@dataclass(slots=True)
class MtuRetry:
    """The same exchange repeated with TCP segments clamped to ``mss`` after a stall.

    ``ok`` True: it completed (size was the problem); False: it stalled too (size is ruled out);
    None: it was not run (``skipped`` says why, e.g. no time left before the deadline).
    """

    mss: int
    ok: bool | None
    skipped: str = ""
    interface_mtus: dict[str, int] = field(default_factory=dict)
    route: dict[str, Any] | None = None
    fetched: Fetched | None = None

    def to_dict(self) -> dict[str, JSONValue]:
        d: dict[str, JSONValue] = {"clamped_mss": self.mss, "clamped_ok": self.ok,
                                   "interface_mtus": dict(self.interface_mtus)}
        if self.skipped:
            d["clamped_skipped"] = self.skipped
        if self.fetched is not None:
            d["clamped"] = self.fetched.to_dict()
        if self.route is not None:
            d["route"] = self.route
        return d


@dataclass(slots=True)
class TlsObservation:
    """The TLS handshake with one host, as the runtime's client would make it."""

    port: int
    result: TlsResult
    insecure: bool = False  # the endpoint skips verification
    http_fallback: bool = False  # a plain-HTTP endpoint for this host follows in the runtime's list
    retry: MtuRetry | None = None
    deadline_cut: bool = False  # the deadline shortened the wait for the handshake

    @property
    def host(self) -> str:
        return self.result.host

    def to_dict(self) -> dict[str, JSONValue]:
        d: dict[str, JSONValue] = {"kind": "tls", "port": self.port, "insecure": self.insecure,
                                   **self.result.to_dict()}
        if self.retry is not None:
            d.update(self.retry.to_dict())
        return d


@dataclass(slots=True)
class HttpObservation:
    """One request to the registry, its token realm or a redirect target."""

    what: str  # "ping", "token", "manifest", "platform manifest", "config blob", "layer 2/3"
    fetched: Fetched
    error: RegistryError | None = None  # the registry's error document, for a 4xx/5xx
    rate_limit: dict[str, str] = field(default_factory=dict)
    retry: MtuRetry | None = None
    authorization_sent: bool | None = None
    location: str | None = None  # redacted redirect target (no query string)
    authenticated: bool = False  # credentials were accepted earlier in this endpoint's walk
    blob: bool = False  # the request is for a blob the manifest names
    deadline_cut: bool = False  # the deadline shortened the wait for the answer

    @property
    def status(self) -> int:
        return self.fetched.status

    @property
    def date(self) -> str | None:
        return self.fetched.headers.get("date")

    def to_dict(self) -> dict[str, JSONValue]:
        d: dict[str, JSONValue] = {"kind": "http", "what": self.what, **self.fetched.to_dict()}
        if self.error is not None:
            d.update(self.error.to_dict())
        d["rate_limit"] = dict(self.rate_limit)
        if self.date:
            d["date"] = self.date
        if self.retry is not None:
            d.update(self.retry.to_dict())
        if self.authorization_sent is not None:
            d["authorization_sent"] = self.authorization_sent
        if self.location is not None:
            d["location"] = self.location
        return d


@dataclass(slots=True)
class PingObservation:
    """``GET /v2/`` without credentials, and the challenges it answered with."""

    http: HttpObservation
    challenges: list[Challenge] = field(default_factory=list)

    def to_dict(self) -> dict[str, JSONValue]:
        return {**self.http.to_dict(),
                "challenges": [{"scheme": c.scheme, **c.params} for c in self.challenges]}


@dataclass(slots=True)
class AnonymousToken:
    """What the realm gives without credentials (evidence of what the credentials change)."""

    status: int
    token: bool
    grants_pull: bool | None

    def to_dict(self) -> dict[str, JSONValue]:
        return {"status": self.status, "token": self.token, "grants_pull": self.grants_pull}


@dataclass(slots=True)
class TokenObservation:
    """The bearer-token request to the challenge's realm."""

    realm: str  # redacted
    repository: str
    credentials_found: bool
    with_credentials: bool
    realm_usable: bool = True
    http: HttpObservation | None = None
    anonymous: AnonymousToken | None = None
    token_found: bool = False
    grants_pull: bool | None = None  # from the token's claims, when it is a JWT

    def to_dict(self) -> dict[str, JSONValue]:
        d: dict[str, JSONValue] = self.http.to_dict() if self.http is not None else {}
        d.update({"kind": "token", "realm": self.realm, "with_credentials": self.with_credentials,
                  "credentials_found": self.credentials_found})
        if self.anonymous is not None:
            d["anonymous"] = self.anonymous.to_dict()
        if self.grants_pull is not None:
            d["token_grants_pull"] = self.grants_pull
        return d


@dataclass(slots=True)
class ManifestObservation:
    """A manifest (or the platform's manifest from an index), fetched and checked."""

    http: HttpObservation
    reference: str
    expected_digest: str | None = None  # the digest asked for, or Docker-Content-Digest
    expected_size: int | None = None  # the size the index declared
    manifest: ManifestInfo | None = None

    def to_dict(self) -> dict[str, JSONValue]:
        d = self.http.to_dict()
        if self.manifest is not None:
            d.update({"media_type": self.manifest.media_type, "digest": self.http.fetched.sha256})
        return d


@dataclass(slots=True)
class PlatformObservation:
    """The platform chosen from an index, as the runtime chooses it."""

    wanted: str
    offered: list[str]
    chosen: dict[str, Any] | None

    def to_dict(self) -> dict[str, JSONValue]:
        return {"kind": "platform", "wanted": self.wanted, "offered": list(self.offered),
                "chosen": (self.chosen or {}).get("digest")}


@dataclass(slots=True)
class BlobObservation:
    """One hop of a blob request (GET, or HEAD for layers too large to verify)."""

    http: HttpObservation
    digest: str
    expected_size: int | None
    method: str = "GET"

    def to_dict(self) -> dict[str, JSONValue]:
        return self.http.to_dict()


@dataclass(frozen=True, slots=True)
class ClientProxy:
    """One kind of process that pulls (``PullClient``), and the proxy it uses (redacted)."""

    name: str
    who: str
    proxy: str | None  # HTTPS_PROXY (else HTTP_PROXY) as the process sees it; None: direct
    no_proxy: str | None
    source: str
    walked: bool


@dataclass(slots=True)
class ConfigObservation:
    """The configuration the runtime will use for this image (as ``pulldoctor host`` shows it)."""

    config: dict[str, Any]  # PullConfig.to_dict(): no secrets
    runtime: str
    endpoints: list[tuple[str, bool]]  # (url, is_mirror), in the order the runtime tries them
    nameservers: list[str]
    problems: list[str]
    proxy_set: bool  # the runtime's own proxy setting
    shell_proxy: str | None = None  # HTTPS_PROXY of this shell (redacted), which a daemon ignores
    clients: list[ClientProxy] = field(default_factory=list)  # who pulls, with which proxy
    client: str = "auto"  # the --client asked for

    def to_dict(self) -> dict[str, JSONValue]:
        return {"kind": "config", **self.config}


@dataclass(slots=True)
class PolicyObservation:
    """The trust policy containers/image applies to the image the walk fetched, and what the
    signatures it requires look like from here (never verified: present or absent)."""

    policy: PolicyView
    image: str  # the image as the runtime names it in the rejection (docker://...)
    digest: str | None = None  # the manifest's digest, which signatures are for
    missing_keys: list[str] = field(default_factory=list)
    stored: list[str] | None = None  # digests a file:// lookaside holds a signature for
    signature_url: str | None = None  # where the first signature for ``digest`` is looked for
    signature_status: int | None = None  # HTTP status there (a remote lookaside)
    attachment_status: int | None = None  # HTTP status of the sigstore attachment's manifest

    def to_dict(self) -> dict[str, JSONValue]:
        return {"kind": "policy", **self.policy.to_dict(), "digest": self.digest,
                "missing_keys": list(self.missing_keys), "stored_signatures": self.stored,
                "signature_url": self.signature_url, "signature_status": self.signature_status,
                "attachment_status": self.attachment_status}


@dataclass(slots=True)
class CredentialHelperObservation:
    """The credential helpers the runtime asks for this registry (the configuration's, asked
    before the walk), and what the walk then learnt about anonymous access."""

    runtime: str
    helpers: list[HelperCheck]
    anonymous_refused: bool | None = None
    """The registry refused the walk's anonymous pull (True), granted it (False), or the walk
    never got that far (None)."""

    def to_dict(self) -> dict[str, JSONValue]:
        return {"kind": "credential_helpers", "runtime": self.runtime,
                "helpers": [h.to_dict() for h in self.helpers],
                "anonymous_refused": self.anonymous_refused}


@dataclass(slots=True)
class HostChecksObservation:
    """What the host checks found (their own steps are in the ``host`` report)."""

    codes: list[str]
    evidence: list[str]
    finished: bool = True
    crashed: str | None = None
    checks: dict[str, str] = field(default_factory=dict)  # check name -> outcome
    given: dict[str, Any] = field(default_factory=dict)  # what the walk passed them

    def to_dict(self) -> dict[str, JSONValue]:
        return {"kind": "host", "codes": list(self.codes), "checks": dict(self.checks),
                "given": dict(self.given)}


@dataclass(slots=True)
class Stall:
    """A step that got no answer before its own timeout or the absolute deadline cut it."""

    stage: str  # the stage kind: "dns", "tcp", "proxy", "tls", "http"
    waiting_for: str  # what it was waiting for, in words
    waited_s: float
    by_deadline: bool  # the absolute deadline (--timeout) ended it, not the step's own cap
    rtt_s: float | None = None  # the link's measured round trip, when the walk has one
    target: str | None = None  # the URL or host:port it was waiting on

    def to_dict(self) -> dict[str, JSONValue]:
        return {"kind": "stall", "stage": self.stage, "waiting_for": self.waiting_for,
                "waited_s": round(self.waited_s, 3), "by_deadline": self.by_deadline,
                "target": self.target}
