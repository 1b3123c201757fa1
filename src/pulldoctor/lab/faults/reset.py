"""``reset_after``: the connection is reset by "the network" after N bytes from the server.

The router answers the client's next segment with a TCP RST once the server has sent
``after_bytes`` (conntrack accounting), the way a middlebox kills long transfers; the client sees
ECONNRESET mid-body. The server's data keeps flowing meanwhile on purpose: a RST is only
accepted when its sequence number is exactly what the client expects next, and the client's
(challenge) ACKs keep triggering fresh RSTs until one lands; dropping the server's data instead
would silence the client, and no RST would ever be sent.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from pulldoctor.lab.faults import AfterBytesFault, NftRule
from pulldoctor.lab.faults._match import to_server

if TYPE_CHECKING:
    from pulldoctor.lab.topology import Lab


@dataclass(frozen=True)
class ResetAfter(AfterBytesFault):
    """Reset TCP connections to ``to``:``port`` once the server sent ``after_bytes``."""

    name = "reset_after"

    def rules(self, lab: Lab) -> list[NftRule]:
        fwd = to_server(self.to, "tcp", self.port)
        return [NftRule("router", "forward",
                     f"{fwd} ct reply bytes > {self.after_bytes} reject with tcp reset")]
