"""``no_route``: the client has no route to one server (``connect: network is unreachable``).

The client's default route is replaced by one route per *other* lab host, so the chosen server is
simply not routable from the client: ``connect()`` fails at once with ENETUNREACH and no packet
leaves. ``kind="unreachable"`` instead installs an ``unreachable`` route (EHOSTUNREACH,
``no route to host``), what an explicit reject route on a host looks like.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from pulldoctor.lab.faults import NetFault, Role
from pulldoctor.lab.faults._match import server_addr

if TYPE_CHECKING:
    from pulldoctor.lab.topology import Lab


@dataclass(frozen=True)
class NoRoute(NetFault):
    """Make ``to`` unroutable from the client (``kind``: "none" or "unreachable")."""

    name = "no_route"
    to: Role = "registry"
    kind: Literal["none", "unreachable"] = "none"

    def setup(self, lab: Lab) -> None:
        addr = server_addr(self.to)
        if self.kind == "unreachable":
            lab.ip("client", "route", "add", "unreachable", f"{addr}/32")
            return
        gateway = "198.18.1.1"
        lab.ip("client", "route", "del", "default")
        for role, host in lab.hosts.items():
            if role in ("client", "router", self.to):
                continue
            lab.ip("client", "route", "add", f"{host.addr}/32", "via", gateway)
