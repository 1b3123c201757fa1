"""DNS faults: what the lab DNS server does, on the wire, for one query name (``host``).

Why per name and per transport: the DNS failures pulldoctor must tell apart differ only in what
the server does, per transport and per name: a resolver that drops UDP but answers TCP, one that
truncates, one that is slow for one host only (the classic "registry resolves, CDN times out").
:mod:`pulldoctor.lab.dnsserver` builds the healthy reply, then hands it to the fault for the name
(``host``; ``"*"`` for every name) through :meth:`DnsFault.reply`, one module per fault here.

dnslib is imported only inside the methods the server calls, so scenarios (and ``pulldoctor lab
list``) need no DNS library.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from pulldoctor.errors import LabError
from pulldoctor.lab.faults import Fault

Transport = Literal["udp", "tcp"]


@dataclass(frozen=True)
class DnsFault(Fault):
    """Base of the DNS faults: the query name it applies to (``"*"``: every name)."""

    layer = "dns"
    host: str = "*"

    def __post_init__(self) -> None:
        if not self.host or self.host != self.host.lower().rstrip("."):
            raise LabError(f"{self.name}: host must be a lower-case name without the final dot")

    def reply(self, reply: Any, transport: Transport) -> Any | None:
        """The reply to send (a dnslib ``DNSRecord``, changed or not), or None to send nothing."""
        return reply

    @property
    def delay_s(self) -> float:
        """How long the server waits before replying."""
        return 0.0


def set_rcode(reply: Any, rcode: str) -> Any:
    """``reply`` with no answers and the response code named ``rcode`` (``NXDOMAIN`` ...)."""
    from dnslib import RCODE

    reply.rr = []
    reply.header.rcode = getattr(RCODE, rcode)
    return reply
