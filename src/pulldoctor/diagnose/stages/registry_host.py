"""Stage: reach the endpoint's own host (DNS, TCP, proxy, TLS: see ``stages/host.py``)."""

from __future__ import annotations

from pulldoctor.diagnose.session import EndpointWalk
from pulldoctor.diagnose.stage import Stage
from pulldoctor.model import Step


async def _run(ew: EndpointWalk) -> Step | None:
    r = await ew.reach(ew.endpoint.url, "registry")
    return r.failed


STAGE: Stage[EndpointWalk] = Stage("registry host", (), _run, shown_when_blocked=False)
