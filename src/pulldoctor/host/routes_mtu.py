"""Routes and MTUs on the way to the resolvers and the registry (``ip -j link``, ``ip -j route get``).

"network is unreachable" and path-MTU blackholes both start here: no route to an IPv6 resolver, a
tunnel or VPN interface with a smaller MTU than the rest of the path, or daemon.json ``mtu`` larger
than the uplink (it governs containers' interfaces, not the daemon's own pulls).
"""

from __future__ import annotations

import ipaddress
import json
from typing import Any

from pulldoctor.causes import Code
from pulldoctor.host.context import HostContext, outcome_of
from pulldoctor.model import Finding, Outcome, Step

NAME = "routes_mtu"


def _route_mtu(route: dict[str, Any]) -> int | None:
    """A route's own ``mtu`` metric, if it has one (pure)."""
    for m in route.get("metrics") or []:
        if isinstance(m, dict) and "mtu" in m:
            return int(m["mtu"])
    return None


def check(ctx: HostContext) -> Step:
    rc, out, err = ctx.run(["ip", "-j", "link", "show"])
    if rc != 0:
        return Step(NAME, Outcome.SKIPPED, summary="ip link not available", evidence=[err.strip()])
    links = {li["ifname"]: li for li in json.loads(out or "[]")}
    cfg = ctx.pull_config()
    findings: list[Finding] = []
    ev = ["interfaces: " + ", ".join(f"{n} mtu {li.get('mtu')} {li.get('operstate', '')}".strip()
                                     for n, li in links.items())]
    dests: list[tuple[str, str]] = []
    if cfg:
        dests += [(a, "resolver") for a in cfg.resolver.nameservers + cfg.resolver.stub_upstreams]
    dests += [(a, "registry") for a in ctx.registry_addresses]
    routes: dict[str, Any] = {}
    docker_mtu = cfg.settings.get("mtu") if cfg and cfg.runtime == "docker" else None
    for addr, role in dests:
        try:
            ipaddress.ip_address(addr.split("%")[0])
        except ValueError:
            continue
        rc, out, err = ctx.run(["ip", "-j", "route", "get", addr])
        if rc != 0:
            msg = err.strip() or f"ip route get {addr} failed"
            routes[addr] = {"error": msg}
            ev.append(f"route to {role} {addr}: {msg}")
            findings.append(Finding(f"no route to the {role} {addr}", "error",
                                    Code.DNS_RESOLVER_UNREACHABLE if role == "resolver" else Code.NET_UNREACHABLE,
                                    [f"ip route get {addr}: {msg}"],
                                    [f"ip route get {addr}", "ip route   # add the missing (default) route"]))
            continue
        r = (json.loads(out or "[]") or [{}])[0]
        dev = r.get("dev", "?")
        mtu = _route_mtu(r) or links.get(dev, {}).get("mtu")
        routes[addr] = {"dev": dev, "gateway": r.get("gateway"), "src": r.get("prefsrc"), "mtu": mtu}
        ev.append(f"route to {role} {addr}: dev {dev}"
                  + (f" via {r['gateway']}" if r.get("gateway") else "") + f", mtu {mtu}")
        if isinstance(docker_mtu, int) and isinstance(mtu, int) and docker_mtu > mtu and dev != "lo":
            findings.append(Finding(
                f"daemon.json mtu {docker_mtu} is larger than the MTU {mtu} of {dev} towards {addr}",
                "warning", Code.NET_MTU,
                [f"daemon.json mtu={docker_mtu}; {dev} mtu={mtu}",
                 "daemon.json mtu sets containers' interfaces; the daemon's own pulls use the host's"],
                advice=[f"set \"mtu\": {mtu} in /etc/docker/daemon.json and restart dockerd"]))
    summary = findings[0].title if findings else f"routes found to {len(routes)} address(es)"
    return Step(NAME, outcome_of(findings), summary=summary, evidence=ev, findings=findings,
                data={"links": {n: li.get("mtu") for n, li in links.items()}, "routes": routes})
