"""``dns_truncate_udp``: the UDP reply has TC set and no answer, so clients retry over TCP."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pulldoctor.lab.faults.dns import DnsFault, Transport


@dataclass(frozen=True)
class TruncateUdp(DnsFault):
    """Over UDP: an empty reply with the truncation bit; over TCP: the real answer."""

    name = "dns_truncate_udp"

    def reply(self, reply: Any, transport: Transport) -> Any | None:
        if transport == "udp":
            reply.rr = []
            reply.header.tc = 1
        return reply
