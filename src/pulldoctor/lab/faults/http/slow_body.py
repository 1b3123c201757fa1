"""``slow_body``: the body arrives at ``rate`` bytes per second (status and headers at once)."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass

from pulldoctor.errors import LabError
from pulldoctor.lab.faults.http import BodyFault


@dataclass(frozen=True)
class SlowBody(BodyFault):
    """Throttle the response body to ``rate`` bytes per second, intact."""

    name = "slow_body"
    rate: int = 1024

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.rate < 1:
            raise LabError("slow_body rate must be >= 1")

    async def relay(self, src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
        tick = 0.1
        per_tick = max(1, self.rate // 10)
        while True:
            started = time.monotonic()
            data = await src.read(per_tick)
            if not data:
                return
            dst.write(data)
            await dst.drain()
            await asyncio.sleep(max(0.0, tick * len(data) / per_tick - (time.monotonic() - started)))
