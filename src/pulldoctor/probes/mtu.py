"""Path-MTU evidence: interface MTUs, the route to a host, and the MSS-clamp retry that proves it.

Why a clamped retry: a blackhole drops only *large* packets (the ICMP "fragmentation needed" that
would shrink them never arrives), so small exchanges work and the first big flight (a certificate
chain, a blob) stalls. Repeating the stalled exchange on a socket whose TCP MSS is clamped to
:data:`SMALL_MSS` makes every segment small: if it then completes, size was the problem, which no
timeout-based guess can show. Reading MTUs and routes is cheap and read-only.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

SMALL_MSS = 536
"""RFC 879's default MSS: 576-byte packets, which every IPv4 path must carry."""


def interface_mtus(sys_class_net: Path = Path("/sys/class/net")) -> dict[str, int]:
    """MTU of every interface this network namespace has."""
    out: dict[str, int] = {}
    try:
        entries = sorted(sys_class_net.iterdir())
    except OSError:
        return out
    for dev in entries:
        try:
            out[dev.name] = int((dev / "mtu").read_text().strip())
        except (OSError, ValueError):
            continue
    return out


async def route_get(address: str, timeout: float = 2.0) -> dict[str, Any]:
    """``ip -j route get ADDRESS``: outgoing device, source, gateway, and any cached path MTU."""
    try:
        proc = await asyncio.create_subprocess_exec(
            "ip", "-j", "-d", "route", "get", address,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    except OSError as exc:
        return {"error": str(exc)}
    try:
        out, err = await asyncio.wait_for(proc.communicate(), timeout)
    except TimeoutError:
        proc.kill()
        await proc.wait()
        return {"error": "ip route get timed out"}
    if proc.returncode != 0:
        return {"error": err.decode(errors="replace").strip()}
    try:
        routes = json.loads(out)
    except ValueError:
        return {"error": "unparsable ip -j output"}
    if not routes:
        return {}
    r = routes[0]
    keep = ("dst", "dev", "gateway", "prefsrc", "mtu")
    info: dict[str, Any] = {k: r[k] for k in keep if k in r}
    metrics = r.get("metrics")
    if isinstance(metrics, list):
        for m in metrics:
            if isinstance(m, dict) and "mtu" in m:
                info["path_mtu"] = m["mtu"]
    return info
