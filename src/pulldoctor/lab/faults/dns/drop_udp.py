"""``dns_drop_udp``: no reply over UDP, TCP answers (a firewall or resolver losing UDP only).

Go's resolver asks over UDP and uses TCP only after a truncated answer, so a runtime times out
(``read udp ...: i/o timeout``) while ``dig +tcp`` works: the signature pulldoctor must prove.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pulldoctor.lab.faults.dns import DnsFault, Transport


@dataclass(frozen=True)
class DropUdp(DnsFault):
    """Send nothing for ``host`` over UDP; answer normally over TCP."""

    name = "dns_drop_udp"

    def reply(self, reply: Any, transport: Transport) -> Any | None:
        return None if transport == "udp" else reply
