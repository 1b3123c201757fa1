"""``reject``: refuse packets to a server the way a firewall REJECT does (fails fast, not a timeout).

``with_`` picks the answer: ``tcp-reset`` (the client sees ECONNREFUSED, as if nothing listened),
``port-unreachable`` (ICMP; UDP sockets see ECONNREFUSED), ``host-unreachable`` / ``net-unreachable``
(ICMP; EHOSTUNREACH / ENETUNREACH), ``admin-prohibited``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from pulldoctor.errors import LabError
from pulldoctor.lab.faults import Fault, Rule
from pulldoctor.lab.faults._match import to_server

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
class Reject(Fault):
    """Reject packets to ``to`` in the router with the given answer."""

    name = "reject"
    to: str = "registry"
    proto: str | None = "tcp"
    port: int | None = None
    with_: str = "tcp-reset"

    def rules(self, lab: Lab) -> list[Rule]:
        if self.with_ not in _WITH:
            raise LabError(f"reject with_ must be one of {', '.join(_WITH)}")
        if self.with_ == "tcp-reset" and self.proto != "tcp":
            raise LabError("reject with tcp-reset needs proto=tcp")
        match = to_server(self.to, self.proto, self.port)
        if self.with_ == "tcp-reset":
            match += " tcp flags & (syn|ack) == syn"
        return [Rule("router", "forward", f"{match} {_WITH[self.with_]}")]
