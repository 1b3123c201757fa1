"""``stall_after``: a connection works, then goes silent after N bytes from the server.

Needs conntrack byte accounting in the router (``nf_conntrack_acct``), switched on by setup. The
client sees a response start and then nothing: a read or request deadline fires.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from pulldoctor.lab.faults import AfterBytesFault, NftRule
from pulldoctor.lab.faults._match import from_server, to_server

if TYPE_CHECKING:
    from pulldoctor.lab.topology import Lab


@dataclass(frozen=True)
class StallAfter(AfterBytesFault):
    """Drop everything of a TCP connection to ``to``:``port`` once it carried ``after_bytes``."""

    name = "stall_after"

    def rules(self, lab: Lab) -> list[NftRule]:
        back = from_server(self.to, "tcp", self.port)
        fwd = to_server(self.to, "tcp", self.port)
        return [NftRule("router", "forward", f"{back} ct reply bytes > {self.after_bytes} drop"),
                NftRule("router", "forward", f"{fwd} ct reply bytes > {self.after_bytes} drop")]
