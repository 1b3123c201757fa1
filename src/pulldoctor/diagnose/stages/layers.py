"""Stage: every layer, three at a time as the runtimes download them.

Layers are streamed and verified (digest, size, throughput) when all of them together are small
(:data:`_VERIFY_BUDGET`) or with ``--layers``; otherwise a HEAD per layer proves each exists.
"""

from __future__ import annotations

import asyncio
from typing import Any

from pulldoctor.diagnose.session import EndpointWalk
from pulldoctor.diagnose.stage import Stage
from pulldoctor.diagnose.stages.blob import get_blob
from pulldoctor.diagnose.walk import broken
from pulldoctor.model import Step

_VERIFY_BUDGET = 16 * 1024 * 1024
"""Layers are streamed and verified without ``--layers`` when all of them together are this small
(bytes)."""
_CONCURRENCY = 3


async def _run(ew: EndpointWalk) -> Step | None:
    if ew.on_hosts_reached is not None:
        ew.on_hosts_reached(ew)  # registry, realm and CDN are reached: the layers only fetch
    if ew.image is None or not ew.image.layers:
        return None
    descs = ew.image.layers
    total = sum(int(d.get("size") or 0) for d in descs)
    method = "GET" if ew.layers_full or total <= _VERIFY_BUDGET else "HEAD"
    sem = asyncio.Semaphore(_CONCURRENCY)

    async def one(i: int, d: dict[str, Any]) -> Step:
        async with sem:
            cap = max(3.0, ew.walk.remaining() - 1.0)
            return await get_blob(ew, d, f"layer {i + 1}/{len(descs)}", cap=cap, method=method)

    steps = list(await asyncio.gather(*(one(i, d) for i, d in enumerate(descs))))
    return next((s for s in steps if broken(s)), steps[-1])


STAGE: Stage[EndpointWalk] = Stage("layers", ("config blob",), _run)
