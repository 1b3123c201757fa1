"""``reset_mid_body``: send ``after`` body bytes, then abort with a TCP RST, not a clean FIN."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from pulldoctor.errors import LabError
from pulldoctor.lab.faults.http import CHUNK, BodyFault, reset


@dataclass(frozen=True)
class ResetMidBody(BodyFault):
    """Relay the first ``after`` bytes of the body, then reset the connection."""

    name = "reset_mid_body"
    after: int = 65536

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.after < 0:
            raise LabError("reset_mid_body after must be >= 0")

    async def relay(self, src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
        left = self.after
        while left > 0:
            data = await src.read(min(CHUNK, left))
            if not data:
                break
            dst.write(data)
            left -= len(data)
        await dst.drain()
        reset(dst)
