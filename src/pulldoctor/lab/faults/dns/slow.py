"""``dns_slow``: the right answer, ``delay_ms`` late (a slow upstream for one name)."""

from __future__ import annotations

from dataclasses import dataclass

from pulldoctor.errors import LabError
from pulldoctor.lab.faults.dns import DnsFault

MAX_DELAY_MS = 60_000


@dataclass(frozen=True)
class Slow(DnsFault):
    """Answer ``host`` correctly after ``delay_ms`` milliseconds, on both transports."""

    name = "dns_slow"
    delay_ms: int = 2000

    def __post_init__(self) -> None:
        super().__post_init__()
        if not 0 <= self.delay_ms <= MAX_DELAY_MS:
            raise LabError(f"dns_slow delay_ms must be between 0 and {MAX_DELAY_MS}")

    @property
    def delay_s(self) -> float:
        return self.delay_ms / 1000
