"""``reject``: refuse packets to a server the way a firewall REJECT does (fails fast, not a timeout).

``with_`` picks the answer: ``tcp-reset`` (the client sees ECONNREFUSED, as if nothing listened),
``port-unreachable`` (ICMP; UDP sockets see ECONNREFUSED), ``host-unreachable`` / ``net-unreachable``
(ICMP; EHOSTUNREACH / ENETUNREACH), ``admin-prohibited``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from pulldoctor.errors import LabError
from pulldoctor.lab.faults import NetFault, NftRule, Role
from pulldoctor.lab.faults._match import Proto, to_server

if TYPE_CHECKING:
    from pulldoctor.lab.topology import Lab

_WITH = {
    "tcp-reset": "reject with tcp reset",
    "port-unreachable": "reject with icmp type port-unreachable",
    "host-unreachable": "reject with icmp type host-unreachable",
    "net-unreachable": "reject with icmp type net-unreachable",
    "admin-prohibited": "reject with icmp type admin-prohibited",
}


@dataclass(frozen=True)
class Reject(NetFault):
    """Reject packets to ``to`` in the router with the given answer."""

    name = "reject"
    to: Role = "registry"
    proto: Proto | None = "tcp"
    port: int | None = None
    with_: Literal["tcp-reset", "port-unreachable", "host-unreachable", "net-unreachable",
                   "admin-prohibited"] = "tcp-reset"

    def __post_init__(self) -> None:
        if self.with_ == "tcp-reset" and self.proto != "tcp":
            raise LabError("reject with tcp-reset needs proto=tcp")
        if self.port is not None and self.proto is None:
            raise LabError("reject: a port needs a protocol")

    def rules(self, lab: Lab) -> list[NftRule]:
        match = to_server(self.to, self.proto, self.port)
        if self.with_ == "tcp-reset":
            match += " tcp flags & (syn|ack) == syn"
        return [NftRule("router", "forward", f"{match} {_WITH[self.with_]}")]
