"""``dns_drop``: no reply on either transport (a resolver that has lost the name's upstream)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pulldoctor.lab.faults.dns import DnsFault, Transport


@dataclass(frozen=True)
class Drop(DnsFault):
    """Send nothing for ``host``, over UDP or TCP."""

    name = "dns_drop"

    def reply(self, reply: Any, transport: Transport) -> Any | None:
        return None
