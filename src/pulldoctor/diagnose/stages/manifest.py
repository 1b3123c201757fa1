"""Stages: the manifest the reference names, and (from an index) the platform's own manifest.

Both are fetched with the runtime's own ``Accept`` list, checked against their digest (the one
asked for, or ``Docker-Content-Digest``) and the size the index declared, and read as the runtime
reads them (schema 1 and unknown media types are refused).
"""

from __future__ import annotations

from pulldoctor.diagnose import infer
from pulldoctor.diagnose.observe import ManifestObservation
from pulldoctor.diagnose.session import EndpointWalk
from pulldoctor.diagnose.stage import Stage
from pulldoctor.diagnose.stages.request import request
from pulldoctor.diagnose.timing import cut_by_deadline, step_cap
from pulldoctor.diagnose.walk import Waiting, broken
from pulldoctor.model import Step


async def _fetch_manifest(ew: EndpointWalk, reference: str, what: str,
                         expected_size: int | None = None
                         ) -> tuple[Step, ManifestObservation | None]:
    from pulldoctor.probes import registry_api as rp

    url = rp.manifest_url(ew.base, ew.ref.repository, reference)
    rtt = ew.rtt()
    cap = step_cap(5.0, rtt)
    seen: list[ManifestObservation] = []

    async def probe(timeout: float) -> ManifestObservation:
        headers = ew.headers(url, Accept=rp.accept_header(ew.walk.config.runtime))
        http = await request(ew, "GET", url, what=what, timeout=timeout, rtt=rtt, headers=headers,
                             cut=timeout < cap - 0.01)
        f = http.fetched
        expected = reference if reference.startswith("sha256:") else \
            f.headers.get("docker-content-digest")
        obs = ManifestObservation(http, reference, expected, expected_size)
        if f.failure is None and 200 <= f.status < 300:
            obs.manifest = rp.read_manifest(f.body, f.headers.get("content-type", ""))
        seen.append(obs)
        return obs

    step = await ew.observe(what, cap, probe, infer.classify_manifest,
                            Waiting("http", f"the registry's answer to GET {url}", url),
                            precheck=lambda t: cut_by_deadline(t, rtt))
    return step, (seen[0] if seen else None)


async def _manifest(ew: EndpointWalk) -> Step | None:
    step, obs = await _fetch_manifest(ew, ew.ref.reference, "manifest")
    if not broken(step) and obs is not None and obs.manifest is not None:
        ew.manifest = obs.manifest
        if not obs.manifest.is_index:
            ew.image = obs.manifest
    return step


async def _platform_manifest(ew: EndpointWalk) -> Step | None:
    if ew.chosen is None:
        return None  # the manifest is the image's own: no index, no platform manifest
    size = ew.chosen.get("size")
    step, obs = await _fetch_manifest(ew, str(ew.chosen.get("digest")), "platform manifest",
                                     size if isinstance(size, int) else None)
    if not broken(step) and obs is not None and obs.manifest is not None:
        ew.image = obs.manifest
    return step


STAGE: Stage[EndpointWalk] = Stage("manifest", ("token",), _manifest)
PLATFORM_STAGE: Stage[EndpointWalk] = Stage("platform manifest", ("platform",),
                                            _platform_manifest, shown_when_blocked=False)
