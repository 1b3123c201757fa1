"""Reaching one host, as its own small walk of declared stages: DNS, TCP, proxy, TLS.

Every host an endpoint's walk touches goes through :func:`reach`: the registry or mirror, the
token realm's host and every redirect target (the CDN), each reached once per endpoint walk and
never with anything another endpoint learnt. With a proxy, the proxy's host is resolved and
dialled instead and the target is reached through a CONNECT tunnel (``https://``), as Go does.
"""

from __future__ import annotations

import asyncio

from pulldoctor.diagnose.session import EndpointWalk, Reached
from pulldoctor.diagnose.stage import Stage, check_stages, run_stages
from pulldoctor.diagnose.stages import dns, proxy, tcp, tls
from pulldoctor.diagnose.stages.target import HostTarget, proxy_for

__all__ = ["HOST_STAGES", "proxy_for", "reach"]

HOST_STAGES: tuple[Stage[HostTarget], ...] = (
    dns.PROXY_STAGE,
    tcp.PROXY_STAGE,
    dns.STAGE,
    tcp.STAGE,
    proxy.STAGE,
    tls.STAGE,
)
"""Registered by hand, in the order they run; each needs only what its ``after`` names."""

if problems := check_stages(HOST_STAGES):  # pragma: no cover - caught at import
    raise RuntimeError("; ".join(problems))


async def reach(ew: EndpointWalk, url: str, role: str) -> Reached:
    """Reach the host of ``url`` once per endpoint walk; later calls get the first result."""
    t = HostTarget.of(ew, url, role)
    key = f"{t.scheme}://{t.host}:{t.port}"
    if key not in ew.reached:  # a task: layers redirected at once share one reach of the CDN
        ew.reached[key] = asyncio.ensure_future(_reach(t))
    return await asyncio.shield(ew.reached[key])


async def _reach(t: HostTarget) -> Reached:
    res = await run_stages(HOST_STAGES, t, show_blocked=False)
    return Reached(res.ok, res.failed, t.proxy)
