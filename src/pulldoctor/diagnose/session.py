"""One endpoint's walk: everything it learns belongs to it, and to no other endpoint.

Why per endpoint: a runtime that falls back from one endpoint to the next (a mirror to the
registry, ``https://`` to ``http://`` for an insecure registry) starts over: it resolves every host
again over its own DNS transports and dials it again. A walk that reused what an earlier
endpoint learnt (an address only a TCP query got, a connection) reached hosts the runtime cannot,
and called a failing pull healthy. So the addresses this walk dials (``pins``) are the ones *its*
DNS steps obtained the way the runtime would (:attr:`DnsObservation.runtime_addresses`); its
challenges, token and HTTP clients are its own and closed when it ends.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import urlsplit

from pulldoctor.config.model import Endpoint, ProxyConfig
from pulldoctor.diagnose.infer import Verdict
from pulldoctor.diagnose.observe import DnsObservation
from pulldoctor.diagnose.timing import measured_rtt
from pulldoctor.diagnose.walk import Waiting, Walk
from pulldoctor.model import Observation, Step
from pulldoctor.reference import ImageReference

if TYPE_CHECKING:
    import httpx

    from pulldoctor.probes.http import Challenge
    from pulldoctor.probes.registry_api import ManifestInfo

ObsT = TypeVar("ObsT", bound=Observation)


@dataclass(slots=True)
class Reached:
    """The result of reaching one host (DNS, TCP, proxy tunnel, TLS)."""

    ok: bool
    failed: Step | None = None  # the step that broke (None: fine, or the runtime fell back)
    proxy: str | None = None  # the proxy requests to this host go through


@dataclass(slots=True)
class EndpointWalk:
    """The state of walking one endpoint (see the module docstring)."""

    walk: Walk
    ref: ImageReference
    endpoint: Endpoint
    platform: str
    layers_full: bool = False
    http_fallback: bool = False  # the runtime's next endpoint is this host over plain HTTP
    proxy: ProxyConfig | None = None  # the walked client's proxy settings (None: the config's)
    pull_client: str | None = None  # the client(s) this walk is for, when diagnose walks several
    pins: dict[str, list[str]] = field(default_factory=dict)
    dns: dict[str, DnsObservation] = field(default_factory=dict)
    reached: dict[str, asyncio.Future[Reached]] = field(default_factory=dict)
    steps: list[Step] = field(default_factory=list)
    ended: bool = False  # the runtime goes no further on this endpoint (falls back)
    on_hosts_reached: Callable[[EndpointWalk], None] | None = None
    """Called once every host of the pull has been reached (before the layers are fetched): what
    the host checks need from the walk is known then."""
    on_addresses: Callable[[list[str]], None] | None = None
    """Called with the addresses each DNS step gives the runtime, as soon as it has them (the
    host checks that read firewall rules and routes for those addresses start then)."""
    # the registry conversation
    challenges: list[Challenge] = field(default_factory=list)
    auth: str | None = None  # an Authorization header value for ``origin`` only
    creds_accepted: bool = False
    manifest: ManifestInfo | None = None  # what the reference names (maybe an index)
    image: ManifestInfo | None = None  # the image manifest (the platform's, from an index)
    chosen: dict[str, Any] | None = None  # the index entry for the platform
    clients: dict[tuple[str | None, int | None], httpx.AsyncClient] = field(default_factory=dict)

    @property
    def url(self) -> str:
        return self.endpoint.url

    @property
    def origin(self) -> str:
        parts = urlsplit(self.endpoint.url)
        return f"{parts.scheme}://{parts.netloc}"

    @property
    def base(self) -> str:
        return self.origin + (self.endpoint.path_prefix or "/v2")

    @property
    def proxy_settings(self) -> ProxyConfig:
        """The proxy environment of the process that pulls on this walk's path."""
        return self.proxy if self.proxy is not None else self.walk.config.proxy

    @property
    def insecure(self) -> bool:
        return self.endpoint.insecure or self.endpoint.skip_verify

    def record(self, step: Step) -> Step:
        step.endpoint, step.client = self.endpoint.url, self.pull_client
        self.steps.append(step)
        return self.walk.record(step)

    def rtt(self) -> float | None:
        """The fastest successful TCP connect of this walk (one round trip), or None."""
        return measured_rtt(self.steps)

    async def observe(self, name: str, cap: float, probe: Callable[[float], Awaitable[ObsT]],
                      classify: Callable[[ObsT], Verdict], waiting: Waiting, *,
                      precheck: Callable[[float], Verdict | None] | None = None) -> Step:
        """Record one step of this endpoint (see :meth:`Walk.observe`)."""
        step, verdict = await self.walk.observe(name, cap, probe, classify, waiting,
                                                endpoint=self.endpoint.url, client=self.pull_client,
                                                rtt=self.rtt(), precheck=precheck)
        self.steps.append(step)
        if verdict.ends_endpoint:
            self.ended = True
        return step

    async def reach(self, url: str, role: str) -> Reached:
        """Reach the host of ``url`` from scratch, once per walk (see ``stages/host.py``)."""
        from pulldoctor.diagnose.stages.host import reach

        return await reach(self, url, role)

    def client(self, url: str, mss: int | None = None) -> httpx.AsyncClient:
        """An HTTP client that dials only what this walk reached (per proxy and MSS)."""
        from pulldoctor.diagnose.stages.host import proxy_for
        from pulldoctor.probes import http as hp
        from pulldoctor.probes.tls import client_context

        proxy = proxy_for(url, self.proxy_settings)
        key = (proxy, mss)
        if key not in self.clients:
            ctx = client_context(self.walk.rooted(list(self.endpoint.ca_files)),
                                 verify=not self.insecure)
            self.clients[key] = hp.make_client(self.pins, ssl_context=ctx, proxy=proxy, mss=mss)
        return self.clients[key]

    def headers(self, url: str, **extra: str) -> dict[str, str]:
        """Request headers; ``Authorization`` only for the registry's own origin."""
        from pulldoctor.probes.registry_api import same_origin

        h = dict(extra)
        if self.auth and same_origin(url, self.origin):
            h["Authorization"] = self.auth
        return h

    async def close(self) -> None:
        for fut in self.reached.values():
            fut.cancel()  # a reach still under way when the walk ended (the deadline cut it)
        for c in self.clients.values():
            await c.aclose()
        self.clients.clear()
