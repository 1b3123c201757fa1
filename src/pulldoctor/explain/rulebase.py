"""What one rule is, and the pieces of runtime wording several rule tables share.

A :class:`Rule` is one piece of expert knowledge: the runtime's wording (a regex with bounded
repetition only), the cause it points at with an ordinal confidence, the alternatives the same
words do not exclude, and the check that tells them apart. The tables live in one module per area
(``rules_*.py``, listed by :mod:`.rules`, the engine that runs them).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from pulldoctor.causes import Code

H = r"(?:\[[0-9a-fA-F:.%\w]{2,64}\]|[\w.<>*-]{1,255})"
"""A host or a [v6] address as Go prints it."""
_PLACEHOLDER = r"<[\w.-]{1,40}>|\[[A-Za-z_.-]{2,60}\]"
"""An address the reporter replaced by a word (``<IP_ADDRESS_REMOVED>``, ``[REDACTED]``; normalize
joins its words), often with the port gone too. A bracketed word without a colon is never an IPv6
literal."""
A = r"(?:" + H + r":\d{1,5}|" + _PLACEHOLDER + r")"
"""host:port as Go prints it (or a placeholder pasted in its place)."""
LOOKUP = r"lookup [\w.*-]{1,255}(?: on " + A + r")?: "
"""golang/go src/net/net.go DNSError.Error(): ``lookup <name>[ on <server>]: <err>``."""
EXTRACTING = (r"(?:failed to register layer|ApplyLayer|[Pp]rocessing tar file|failed to extract "
               r"layer|re-exec error|failed to unpack|unpacking failed|adding layer with blob|"
               r"[Ee]rror committing the finished image|could not get decompression stream|"
               r"failed to apply diff)")
"""The wrappers of layer extraction: whatever follows them happened while writing the rootfs.
containers/storage's untar child reports ``processing tar file(%s): %w`` (its stderr in the
parentheses; older versions ``Error processing tar file``) under containers/image's ``adding layer
with blob %s`` (older: ``Error committing the finished image``)."""
DIAGNOSE = "pulldoctor diagnose {image}   # re-walks the pull step by step and proves which one fails"
RUNTIME_LOG = ("journalctl -u containerd -u crio -u docker --since -1h | grep -i -e 'pull' -e "
               "'trying next host'   # the runtime logs the inner error this text dropped")
"""The check for texts whose inner error was dropped by a wrapper (CRI, the Engine API)."""

NOT_VIA_PROXY = r"proxyconnect|necting to proxy|connecting to " + A + r": dial tcp"
"""Wordings that show the dial went to a proxy: the proxy rules read them, not the direct-dial ones."""
MIRROR_ROUTE = ("docker info | grep -A3 'Registry Mirrors'; grep -rn -e server -e host "
                 "/etc/containerd/certs.d/*/hosts.toml   # the address dialled is a mirror or endpoint "
                 "from the configuration (wrong host/port, a mirror that is down)")
PROXY_NEEDED = ("env | grep -i _proxy; systemctl show --property=Environment docker containerd crio   "
                 "# does this network let traffic out only through a proxy (direct dials dropped/reset)?")
"""The checks for the causes behind a dial that did not connect: the route the configuration sets
(a mirror, a hosts.toml endpoint) and a network that lets traffic out only through a proxy."""


@dataclass(frozen=True, slots=True)
class Rule:
    """One piece of knowledge: wording -> cause (and the alternatives it does not exclude)."""

    name: str
    code: Code
    pattern: re.Pattern[str]
    confidence: float
    also: tuple[tuple[Code, float], ...] = ()
    distinguish: tuple[str, ...] = ()
    unless: re.Pattern[str] | None = None
    needles: tuple[str, ...] | None = None
    """Words one of which every match contains; derived from the pattern when not given."""
    requires: re.Pattern[str] | None = None
    """A second pattern that must also be found somewhere in the text (the context)."""
    note: str | None = None
    """A plain statement explain adds to the report when this rule decides the top cause."""


def rule(name: str, code: Code, pattern: str, confidence: float, *,
         also: tuple[tuple[Code, float], ...] = (), distinguish: tuple[str, ...] = (),
         unless: str | None = None, needles: tuple[str, ...] | None = None,
         requires: str | None = None, note: str | None = None) -> Rule:
    """A :class:`Rule` with its patterns compiled."""
    return Rule(name, code, re.compile(pattern), confidence, also, distinguish,
                re.compile(unless) if unless else None, needles,
                re.compile(requires) if requires else None, note)
