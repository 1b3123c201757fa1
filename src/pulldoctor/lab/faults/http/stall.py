"""``stall``: status and headers, then nothing; the connection stays open ``seconds`` (bounded)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from pulldoctor.errors import LabError
from pulldoctor.lab.faults.http import BodyFault


@dataclass(frozen=True)
class Stall(BodyFault):
    """Send the response head, then hold the body back for ``seconds``."""

    name = "stall"
    seconds: int = 300

    def __post_init__(self) -> None:
        super().__post_init__()
        if not 1 <= self.seconds <= 900:
            raise LabError("stall seconds must be between 1 and 900")

    async def relay(self, src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
        await asyncio.sleep(self.seconds)
