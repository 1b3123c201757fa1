"""``drop``: silently discard packets to a server (a firewall DROP): connects and queries time out."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from pulldoctor.lab.faults import Fault, Rule
from pulldoctor.lab.faults._match import to_server

if TYPE_CHECKING:
    from pulldoctor.lab.topology import Lab


@dataclass(frozen=True)
class Drop(Fault):
    """Drop packets from the client side to ``to`` (``proto``/``port`` narrow it) in the router."""

    name = "drop"
    to: str = "registry"
    proto: str | None = "tcp"
    port: int | None = None

    def rules(self, lab: Lab) -> list[Rule]:
        return [Rule("router", "forward", f"{to_server(self.to, self.proto, self.port)} drop")]
