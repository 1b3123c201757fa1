"""``mtu_blackhole``: a smaller MTU on one router link and the ICMP that would announce it dropped.

This is the classic path-MTU blackhole: the router cannot forward full-size packets onto the
narrow link, sends ICMP "fragmentation needed", and a firewall eats that ICMP, so the sender never
learns to send smaller packets. Small exchanges (a TCP handshake, a short HTTP reply) work; a large
response stalls. The rule sits in the router's ``output`` chain because the router generates the
ICMP itself.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from pulldoctor.errors import LabError
from pulldoctor.lab.faults import NetFault, NftRule

if TYPE_CHECKING:
    from pulldoctor.lab.topology import Lab


@dataclass(frozen=True)
class MtuBlackhole(NetFault):
    """Set the MTU of the router's link to ``link`` (a role) and drop ICMP frag-needed."""

    name = "mtu_blackhole"
    mtu: int = 1200
    link: Literal["client", "registry", "cdn", "dns", "proxy", "auth"] = "client"

    def __post_init__(self) -> None:
        if not 576 <= self.mtu < 1500:
            raise LabError("mtu_blackhole mtu must be between 576 and 1499")

    def setup(self, lab: Lab) -> None:
        lab.ip("router", "link", "set", "dev", f"r-{self.link}", "mtu", str(self.mtu))

    def rules(self, lab: Lab) -> list[NftRule]:
        return [NftRule("router", "output",
                     "icmp type destination-unreachable icmp code frag-needed drop")]
