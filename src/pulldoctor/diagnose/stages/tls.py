"""Stage: the TLS handshake (``https://`` only), and after a stall, the same with small segments.

Why the clamped retry: a path-MTU blackhole drops only full-size packets, so a handshake whose
certificate flight is large stalls while small exchanges work; repeating it with TCP segments
clamped to :data:`pulldoctor.probes.mtu.SMALL_MSS` proves (or rules out) packet size. It runs only
inside the step's own budget: near the deadline it is skipped, and the verdict says so.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Awaitable

from pulldoctor.diagnose import infer
from pulldoctor.diagnose.observe import MtuRetry, TlsObservation
from pulldoctor.diagnose.stage import Stage
from pulldoctor.diagnose.stages.proxy import connect_via
from pulldoctor.diagnose.stages.target import HostTarget
from pulldoctor.diagnose.walk import Waiting
from pulldoctor.model import Step
from pulldoctor.probes import mtu
from pulldoctor.probes import tls as tlsprobe

CAP_S = 9.0
_HANDSHAKE_S = 4.0
RETRY_S = 3.0
RETRY_MIN_S = 0.5


async def _run(t: HostTarget) -> Step | None:
    if t.scheme != "https":
        return None
    ew = t.ew
    ca_files = ew.walk.rooted(list(ew.endpoint.ca_files))
    registry = t.role == "registry"

    async def probe(timeout: float) -> TlsObservation:
        start = time.monotonic()
        hs_timeout = min(timeout, _HANDSHAKE_S)

        def connector() -> Awaitable[socket.socket]:
            return connect_via(t, None, hs_timeout)

        res = await tlsprobe.probe_tls(connector, t.host, ca_files, hs_timeout)
        obs = TlsObservation(t.port, res, insecure=ew.insecure if registry else
                             ew.endpoint.insecure, http_fallback=registry and ew.http_fallback,
                             deadline_cut=hs_timeout < _HANDSHAKE_S)
        if res.status == tlsprobe.HANDSHAKE_TIMEOUT:
            left = min(RETRY_S, timeout - (time.monotonic() - start) - 0.1)
            obs.retry = MtuRetry(mtu.SMALL_MSS, None, interface_mtus=mtu.interface_mtus())
            if left < RETRY_MIN_S:
                obs.retry.skipped = "no time left before the deadline"
            else:
                def clamped() -> Awaitable[socket.socket]:
                    return connect_via(t, mtu.SMALL_MSS, left)

                again = await tlsprobe.probe_tls(clamped, t.host, ca_files, left)
                obs.retry.ok = again.status not in (tlsprobe.HANDSHAKE_TIMEOUT, tlsprobe.RESET)
            if ew.pins.get(t.host) and t.proxy is None:
                obs.retry.route = await mtu.route_get(ew.pins[t.host][0], 1.0)
        return obs

    return await ew.observe(f"tls {t.host}:{t.port}", CAP_S, probe, infer.classify_tls,
                            Waiting("tls", f"{t.host}'s answer to the TLS ClientHello",
                                    f"https://{t.host}:{t.port}"))


STAGE: Stage[HostTarget] = Stage("tls", ("tcp", "proxy connect"), _run)
