"""This host's clock against the registry's ``Date`` header.

A clock that is hours off makes every certificate look expired or not yet valid and bearer tokens
look stale; the error then blames the registry. The only trustworthy reference pulldoctor has
without NTP is the ``Date`` header the registry itself sent, which diagnose passes in.
"""

from __future__ import annotations

import time
from email.utils import parsedate_to_datetime

from pulldoctor.causes import Code
from pulldoctor.host.context import HostContext, outcome_of
from pulldoctor.model import Finding, Outcome, Step

NAME = "clock"
_WARN_S = 60.0
_ERROR_S = 300.0


def _offset_seconds(date_header: str, now: float) -> float:
    """Local clock minus the registry's, in seconds (pure); raises ValueError on a bad header."""
    return now - parsedate_to_datetime(date_header).timestamp()


def check(ctx: HostContext) -> Step:
    if not ctx.registry_date:
        return Step(NAME, Outcome.SKIPPED,
                    summary="no registry Date header to compare with (diagnose passes one)")
    try:
        off = _offset_seconds(ctx.registry_date, time.time())
    except (ValueError, TypeError):
        return Step(NAME, Outcome.SKIPPED, summary="the registry's Date header does not parse",
                    evidence=[f"Date: {ctx.registry_date!r}"])
    ev = f"local clock is {abs(off):.0f}s {'ahead of' if off > 0 else 'behind'} the registry's Date header"
    findings: list[Finding] = []
    if abs(off) >= _ERROR_S:
        findings.append(Finding("this host's clock is wrong: certificates and tokens look invalid",
                                "error", Code.TLS_EXPIRED, [ev],
                                ["timedatectl set-ntp true", "chronyc makestep   # if chrony is used"]))
    elif abs(off) >= _WARN_S:
        findings.append(Finding("this host's clock drifts", "warning", None, [ev], ["timedatectl"]))
    return Step(NAME, outcome_of(findings), summary=findings[0].title if findings else ev,
                evidence=[ev], findings=findings, data={"offset_s": round(off, 1)})
