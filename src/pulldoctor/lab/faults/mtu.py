"""``mtu_blackhole``: a smaller MTU on one router link and the ICMP that would announce it dropped.

This is the classic path-MTU blackhole: the router cannot forward full-size packets onto the
narrow link, sends ICMP "fragmentation needed", and a firewall eats that ICMP, so the sender never
learns to send smaller packets. Small exchanges (a TCP handshake, a short HTTP reply) work; a large
response stalls. The rule sits in the router's ``output`` chain because the router generates the
ICMP itself.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from pulldoctor.errors import LabError
from pulldoctor.lab.faults import Fault, Rule

if TYPE_CHECKING:
    from pulldoctor.lab.topology import Lab


@dataclass(frozen=True)
class MtuBlackhole(Fault):
    """Set the MTU of the router's link to ``link`` (a role) and drop ICMP frag-needed."""

    name = "mtu_blackhole"
    mtu: int = 1200
    link: str = "client"

    def setup(self, lab: Lab) -> None:
        if not 576 <= self.mtu < 1500:
            raise LabError("mtu_blackhole mtu must be between 576 and 1499")
        if self.link not in lab.hosts or self.link == "router":
            raise LabError(f"mtu_blackhole link must be a lab host, not '{self.link}'")
        lab.ip("router", "link", "set", "dev", f"r-{self.link}", "mtu", str(self.mtu))

    def rules(self, lab: Lab) -> list[Rule]:
        return [Rule("router", "output",
                     "icmp type destination-unreachable icmp code frag-needed drop")]
