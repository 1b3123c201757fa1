"""``dns_nxdomain``: The name does not exist (NXDOMAIN), as for a typo."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pulldoctor.lab.faults.dns import DnsFault, Transport, set_rcode


@dataclass(frozen=True)
class NxDomain(DnsFault):
    """Answer NXDOMAIN for ``host`` on both transports."""

    name = "dns_nxdomain"

    def reply(self, reply: Any, transport: Transport) -> Any | None:
        return set_rcode(reply, "NXDOMAIN")
