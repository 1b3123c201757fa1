"""One registry request as the registry stages make it: a first try, and after a stall the same
request with small TCP segments, inside the step's own budget (see ``stages/tls.py`` for why)."""

from __future__ import annotations

from urllib.parse import urlsplit

from pulldoctor.diagnose.observe import HttpObservation, MtuRetry
from pulldoctor.diagnose.session import EndpointWalk
from pulldoctor.diagnose.timing import first_try
from pulldoctor.probes import mtu

RETRY_MIN_S = 0.5


async def request(ew: EndpointWalk, method: str, url: str, *, what: str, timeout: float,
                  rtt: float | None, headers: dict[str, str] | None = None, share: float = 0.5,
                  read_cap: float = 2.5, keep_body: int = 4 * 1024 * 1024,
                  blob: bool = False, cut: bool = False) -> HttpObservation:
    """``method url`` within ``timeout``: the observation, with the clamped retry after a stall.

    ``cut``: the deadline left the step less than its own cap, so a stall is classified as the
    deadline's cut (a TIMEOUT that says what it waited for).
    """
    from pulldoctor.probes import http as hp
    from pulldoctor.probes import registry_api as rp

    first = first_try(timeout, rtt, share)
    f = await hp.fetch(ew.client(url), method, url, headers=headers, timeout=first,
                       read_timeout=min(read_cap, first), keep_body=keep_body)
    obs = HttpObservation(what, f, rate_limit=rp.rate_limit(f.headers),
                          authenticated=ew.creds_accepted, blob=blob,
                          deadline_cut=cut)
    if f.status >= 400:
        obs.error = rp.parse_registry_errors(f.status, f.body, f.url)
    if f.failure is None or f.failure.kind not in ("stall", "read_timeout"):
        return obs
    obs.retry = MtuRetry(mtu.SMALL_MSS, None, interface_mtus=mtu.interface_mtus())
    left = min(timeout - f.seconds, ew.walk.budget(timeout - f.seconds)) - 0.15
    if left < RETRY_MIN_S:
        obs.retry.skipped = "no time left before the deadline"
    else:
        g = await hp.fetch(ew.client(url, mss=mtu.SMALL_MSS), method, url, headers=headers,
                           timeout=left, read_timeout=min(read_cap, left), keep_body=0)
        obs.retry.ok = g.failure is None and 200 <= g.status < 300
        obs.retry.fetched = g
    host = urlsplit(url).hostname or ""
    if ew.pins.get(host):
        obs.retry.route = await mtu.route_get(ew.pins[host][0], 1.0)
    return obs
