"""``dns_refused``: The server refuses the query (REFUSED), as a resolver that does not serve this client."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pulldoctor.lab.faults.dns import DnsFault, Transport, set_rcode


@dataclass(frozen=True)
class Refused(DnsFault):
    """Answer REFUSED for ``host`` on both transports."""

    name = "dns_refused"

    def reply(self, reply: Any, transport: Transport) -> Any | None:
        return set_rcode(reply, "REFUSED")
