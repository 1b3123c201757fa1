"""``dns_servfail``: The resolver fails (SERVFAIL), as when its upstream is broken."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pulldoctor.lab.faults.dns import DnsFault, Transport, set_rcode


@dataclass(frozen=True)
class ServFail(DnsFault):
    """Answer SERVFAIL for ``host`` on both transports."""

    name = "dns_servfail"

    def reply(self, reply: Any, transport: Transport) -> Any | None:
        return set_rcode(reply, "SERVFAIL")
