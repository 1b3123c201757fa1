"""``loss``: drop a random share of packets (``numgen random``), both directions, in the router."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from pulldoctor.errors import LabError
from pulldoctor.lab.faults import NetFault, NftRule, Role
from pulldoctor.lab.faults._match import server_addr

if TYPE_CHECKING:
    from pulldoctor.lab.topology import Lab


@dataclass(frozen=True)
class Loss(NetFault):
    """Drop ``percent`` % of the packets to and from ``to`` (every server when ``to`` is None)."""

    name = "loss"
    percent: int = 30
    to: Role | None = None

    def __post_init__(self) -> None:
        if not 0 < self.percent <= 100:
            raise LabError("loss percent must be between 1 and 100")

    def rules(self, lab: Lab) -> list[NftRule]:
        drop = f"numgen random mod 100 < {self.percent} drop"
        if self.to is None:
            return [NftRule("router", "forward", drop)]
        addr = server_addr(self.to)
        return [NftRule("router", "forward", f"ip daddr {addr} {drop}"),
                NftRule("router", "forward", f"ip saddr {addr} {drop}")]
