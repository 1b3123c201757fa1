"""``data_drop``: the server's handshake packets pass, every segment carrying data is dropped.

TCP connects (SYN-ACK is small) but nothing the server says arrives: the TLS ServerHello never
comes, so the client's TLS handshake deadline fires (``net/http: TLS handshake timeout``).
Segments are told apart by IP length: a bare ACK or SYN-ACK is at most 60 bytes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from pulldoctor.lab.faults import NetFault, NftRule, Role
from pulldoctor.lab.faults._match import from_server

if TYPE_CHECKING:
    from pulldoctor.lab.topology import Lab


@dataclass(frozen=True)
class DataDrop(NetFault):
    """Drop data-bearing TCP segments from ``to``:``port`` (handshakes and ACKs pass)."""

    name = "data_drop"
    to: Role = "registry"
    port: int | None = None

    def rules(self, lab: Lab) -> list[NftRule]:
        return [NftRule("router", "forward", f"{from_server(self.to, 'tcp', self.port)} "
                     "ip length > 64 drop")]
