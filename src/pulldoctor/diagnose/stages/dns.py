"""Stage: resolve a host against the runtime's resolvers (UDP and TCP asked; Go's view decides).

Two declarations: the host itself (when no proxy applies) and the proxy's host (when one does,
once per endpoint walk). The addresses the walk may dial afterwards are only those the runtime's
own transports obtained (:attr:`~pulldoctor.diagnose.observe.DnsObservation.runtime_addresses`).
"""

from __future__ import annotations

from pathlib import Path

from pulldoctor.diagnose import infer
from pulldoctor.diagnose.observe import DnsObservation
from pulldoctor.diagnose.stage import Stage
from pulldoctor.diagnose.stages.target import HostTarget
from pulldoctor.diagnose.walk import Waiting
from pulldoctor.model import Step
from pulldoctor.probes import dns as dnsprobe

CAP_S = 6.0


async def resolve(t: HostTarget, host: str, role: str, proxy_host: bool) -> Step:
    """One DNS step for ``host``; its runtime addresses become this walk's pins for the host."""
    ew = t.ew
    res_cfg = ew.walk.config.resolver

    async def probe(timeout: float) -> DnsObservation:
        per_query = min(res_cfg.timeout_s or 2.0, 2.0, timeout)
        res = await dnsprobe.probe_dns(
            host, list(res_cfg.nameservers), search=list(res_cfg.search), ndots=res_cfg.ndots,
            timeout=per_query, tries=3, hosts_file=Path(ew.walk.root) / "etc/hosts",
            budget=timeout)
        obs = DnsObservation(host, role, list(res_cfg.nameservers), res, use_vc=res_cfg.use_vc,
                             proxy_host=proxy_host)
        ew.dns[host] = obs
        ew.pins[host] = obs.runtime_addresses
        if ew.on_addresses is not None and obs.runtime_addresses:
            ew.on_addresses(list(obs.runtime_addresses))
        return obs

    return await ew.observe(f"dns {host}", CAP_S, probe, infer.classify_dns,
                            Waiting("dns", f"the resolvers' answers for {host}", host))


async def _host(t: HostTarget) -> Step | None:
    if t.proxy is not None:
        return None
    return await resolve(t, t.host, t.role, proxy_host=False)


async def _proxy(t: HostTarget) -> Step | None:
    phost, _port = t.proxy_host
    if t.proxy is None or t.ew.pins.get(phost):
        return None
    return await resolve(t, phost, "proxy", proxy_host=True)


STAGE: Stage[HostTarget] = Stage("dns", (), _host)
PROXY_STAGE: Stage[HostTarget] = Stage("proxy dns", (), _proxy)
