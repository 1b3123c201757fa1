"""Stage: ``GET /v2/`` without credentials, as dockerd and containers/image ping first; its
``WWW-Authenticate`` challenges tell the token stage what the registry wants."""

from __future__ import annotations

from pulldoctor.diagnose import infer
from pulldoctor.diagnose.observe import PingObservation
from pulldoctor.diagnose.session import EndpointWalk
from pulldoctor.diagnose.stage import Stage
from pulldoctor.diagnose.stages.request import request
from pulldoctor.diagnose.timing import cut_by_deadline, step_cap
from pulldoctor.diagnose.walk import Waiting
from pulldoctor.model import Step


async def _run(ew: EndpointWalk) -> Step | None:
    from pulldoctor.probes.http import parse_www_authenticate

    url = ew.base + "/"
    rtt = ew.rtt()
    cap = step_cap(5.0, rtt)

    async def probe(timeout: float) -> PingObservation:
        obs = await request(ew, "GET", url, what="ping", timeout=timeout, rtt=rtt,
                            keep_body=64 * 1024, cut=timeout < cap - 0.01)
        ew.challenges = parse_www_authenticate(obs.fetched.headers.get("www-authenticate", ""))
        return PingObservation(obs, list(ew.challenges))

    return await ew.observe(f"registry ping {ew.origin}", cap, probe,
                            infer.classify_ping, Waiting("http", f"the answer to GET {url}", url),
                            precheck=lambda t: cut_by_deadline(t, rtt))


STAGE: Stage[EndpointWalk] = Stage("registry ping", ("registry host",), _run)
