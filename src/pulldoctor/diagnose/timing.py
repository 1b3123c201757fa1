"""How long an HTTP step waits, scaled to the round trip the walk has already measured.

Why: the registry steps had fixed budgets (a 5 s cap, half of it for the first attempt, the other
half for the clamped-MSS retry that tells an MTU blackhole from a stall). On a 1.2 s RTT link
(satellite) a fresh HTTPS request needs TCP + TLS + request = 3 round trips, 3.6 s, so the first
attempt timed out and a working registry or CDN was reported as a timeout. The TCP step measures
one round trip per address (its connect time); the budgets below never go under the old fixed
ones, so a fast link behaves exactly as before, and only a measured slow link gets more time.
"""

from __future__ import annotations

from collections.abc import Sequence

from pulldoctor.diagnose.infer import Verdict
from pulldoctor.diagnose.observe import TcpObservation
from pulldoctor.model import Outcome, Step

FRESH_REQUEST_RTTS = 4.0
"""Round trips the first request on a new connection may take: TCP, TLS, request, plus one spare."""


def measured_rtt(steps: Sequence[Step]) -> float | None:
    """The fastest successful TCP connect among ``steps`` (one round trip), or None without one."""
    rtts = [r for s in steps if isinstance(s.observation, TcpObservation)
            for r in s.observation.rtts]
    return min(rtts) if rtts else None


def step_cap(cap: float, rtt: float | None) -> float:
    """A step's cap: the fixed one, or room for two fresh requests (first try + clamped retry)."""
    return cap if rtt is None else max(cap, 2 * FRESH_REQUEST_RTTS * rtt)


def first_try(timeout: float, rtt: float | None, share: float = 0.5) -> float:
    """The first attempt's part of a step's ``timeout``: ``share`` of it, at least 4 RTTs."""
    base = timeout * share
    return base if rtt is None else min(timeout, max(base, FRESH_REQUEST_RTTS * rtt))


def cut_by_deadline(timeout: float, rtt: float | None) -> Verdict | None:
    """A TIMEOUT verdict without a cause when ``timeout`` cannot fit one fresh request.

    Why: near the walk's deadline a step gets only what is left; on a slow link that can be less
    than the round trips a request needs, and the request's timeout would then be read as the
    server's or the network's fault. What ran out is the diagnosis's own time, so the step says
    so and proves nothing. A fast link (milliseconds of RTT) never meets this.
    """
    if rtt is None or timeout >= FRESH_REQUEST_RTTS * rtt:
        return None
    return Verdict(Outcome.TIMEOUT, None, [
        f"not run: {timeout:.1f}s left before the deadline, less than the "
        f"{FRESH_REQUEST_RTTS:.0f} round trips of {rtt:.2f}s a request may need (raise --timeout)"])
