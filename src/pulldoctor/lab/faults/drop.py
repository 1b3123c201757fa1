"""``drop``: silently discard packets to a server (a firewall DROP): connects and queries time out."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from pulldoctor.errors import LabError
from pulldoctor.lab.faults import NetFault, NftRule, Role
from pulldoctor.lab.faults._match import Proto, to_server

if TYPE_CHECKING:
    from pulldoctor.lab.topology import Lab


@dataclass(frozen=True)
class Drop(NetFault):
    """Drop packets from the client side to ``to`` (``proto``/``port`` narrow it) in the router."""

    name = "drop"
    to: Role = "registry"
    proto: Proto | None = "tcp"
    port: int | None = None

    def __post_init__(self) -> None:
        if self.port is not None and self.proto is None:
            raise LabError("drop: a port needs a protocol")

    def rules(self, lab: Lab) -> list[NftRule]:
        return [NftRule("router", "forward", f"{to_server(self.to, self.proto, self.port)} drop")]
