"""Stage: choose this pull's platform from an index, as the runtime does (none: no index)."""

from __future__ import annotations

from pulldoctor.diagnose import infer
from pulldoctor.diagnose.observe import PlatformObservation
from pulldoctor.diagnose.session import EndpointWalk
from pulldoctor.diagnose.stage import Stage
from pulldoctor.diagnose.walk import Waiting
from pulldoctor.model import Step


async def _run(ew: EndpointWalk) -> Step | None:
    from pulldoctor.probes import registry_api as rp

    index = ew.manifest
    if index is None or not index.is_index:
        return None

    async def probe(timeout: float) -> PlatformObservation:
        chosen, offered = rp.choose_platform(index.doc, ew.platform)
        ew.chosen = chosen
        return PlatformObservation(ew.platform, offered, chosen)

    return await ew.observe("platform", 1.0, probe, infer.classify_platform,
                            Waiting("platform", "nothing (no request is made)"))


# containers/image chooses the platform only once the trust policy accepted the image
STAGE: Stage[EndpointWalk] = Stage("platform", ("manifest", "signature policy"), _run)
