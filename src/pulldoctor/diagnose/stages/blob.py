"""Stage: the config blob, and how every blob is fetched (redirects followed by hand).

Why by hand: the registry sends blobs to another host (Docker Hub's CDN); that host must be
resolved, dialled and handshaken as the runtime does it, as steps of their own, and
``Authorization`` must provably not follow it (moby and containerd drop it), so every hop is its
own request and its own step, and the target is reached through :meth:`EndpointWalk.reach`.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from pulldoctor.diagnose import infer
from pulldoctor.diagnose.infer import blocked
from pulldoctor.diagnose.observe import BlobObservation
from pulldoctor.diagnose.session import EndpointWalk
from pulldoctor.diagnose.stage import Stage
from pulldoctor.diagnose.stages.request import request
from pulldoctor.diagnose.timing import cut_by_deadline, step_cap
from pulldoctor.diagnose.walk import Waiting, broken
from pulldoctor.model import Step
from pulldoctor.redact import redact_url

_MAX_HOPS = 5
_CONFIG_CAP_S = 6.0


async def get_blob(ew: EndpointWalk, desc: dict[str, Any], what: str, *, cap: float,
                   method: str = "GET") -> Step:
    """Fetch (or HEAD) a blob, hop by hop, verifying digest and size where it is served."""
    from pulldoctor.probes import registry_api as rp

    digest, size = str(desc.get("digest", "")), desc.get("size")
    url = rp.blob_url(ew.base, ew.ref.repository, digest)
    step: Step | None = None
    for _n in range(_MAX_HOPS):
        step, location = await _hop(ew, url, digest, size if isinstance(size, int) else None,
                                    what, cap, method)
        if broken(step) or not location or method == "HEAD":
            return step  # a redirect answers a HEAD: the blob exists
        target = rp.resolve_location(url, location)
        r = await ew.reach(target, "blob redirect")
        if not r.ok:
            return ew.record(blocked(what, r.failed.name if r.failed else "blob redirect"))
        url = target
    assert step is not None
    return step


async def _hop(ew: EndpointWalk, url: str, digest: str, size: int | None, what: str, cap: float,
               method: str) -> tuple[Step, str | None]:
    location: list[str] = []
    rtt = ew.rtt()
    step_budget = step_cap(cap, rtt)

    async def probe(timeout: float) -> BlobObservation:
        headers = ew.headers(url)  # only the registry's own origin gets Authorization
        http = await request(ew, method, url, what=what, timeout=timeout, rtt=rtt,
                             headers=headers, read_cap=3.0, keep_body=0, blob=True,
                             cut=timeout < step_budget - 0.01)
        http.authorization_sent = "Authorization" in headers
        f = http.fetched
        if f.failure is None and 300 <= f.status < 400:
            raw = f.headers.get("location", "")
            location.append(raw)
            http.location = redact_url(raw.split("?", 1)[0])
        return BlobObservation(http, digest, size, method)

    step = await ew.observe(f"{what} {urlsplit(url).hostname}", step_budget, probe,
                            infer.classify_blob, Waiting("http", f"the blob from {url}", url),
                            precheck=lambda t: cut_by_deadline(t, rtt))
    return step, (location[0] if location and not broken(step) else None)


async def _config(ew: EndpointWalk) -> Step | None:
    if ew.image is None or ew.image.config is None:
        return None
    return await get_blob(ew, ew.image.config, "config blob", cap=_CONFIG_CAP_S)


STAGE: Stage[EndpointWalk] = Stage("config blob", ("manifest", "platform manifest"), _config)
