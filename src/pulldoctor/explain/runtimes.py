"""Which program printed an error text, told from the wrapping each one adds.

Each runtime wraps the network or registry error in its own words (pull-internals §1, §3, §4):
dockerd's graph-driver store says "error pulling image configuration", containerd says
"failed to pull and unpack image", containers/image says "initializing source", BuildKit says
"failed to solve", and the kubelet puts "Failed to pull image" or "ErrImagePull" around any of them.
The *outermost* wrapper names the runtime the user ran; the inner one (``backend``) says what did
the pull, which changes how facts are read (for example, moby drops the URL, containerd keeps it).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from pulldoctor.explain.prefilter import Gated

_KUBELET = re.compile(
    r"ErrImagePull|ImagePullBackOff|Back-off pulling image|Failed to pull image|"
    r"PullImage \"[^\"\n]{0,300}\" (?:from image service )?failed|PullImage from image service failed|"
    r"ImageInspectError|"
    r"ErrImageNeverPull|InvalidImageName|Failed to create pod sandbox|Failed to apply default image tag|"
    r"\bkubelet\b|Pull image \"[^\"\n]{0,300}\" failed"
)
_BUILDKIT = re.compile(
    r"failed to solve|failed to resolve source metadata|failed to build LLB|^#\d+ (?:ERROR|\[)|"
    r"dockerfile\.v0|failed to compute cache key|buildkit|\bbuildx\b",
    re.MULTILINE,
)
_PODMAN = re.compile(r"\bpodman\b|Trying to pull |Error: unable to pull|Error: initializing source|"
                     r"Storing signatures|Error: [\w ]*?: unable to pull")
_SKOPEO = re.compile(r"\bskopeo\b|Error (?:copying|listing repository tags)|level=fatal msg=")
_CRIO = re.compile(r"\bcri-?o\b|\bcrio\b|short-name \"")
_CONTAINERS_IMAGE = re.compile(
    r"initializing source|pinging (?:container|docker) registry|reading manifest \S+ in |"
    r"Mirrors also failed|fetching blob|reading blob sha256|Error writing blob|error storing blob"
)
_DOCKER = re.compile(
    r"Error response from daemon|error pulling image configuration|download failed after attempts|"
    r"pull access denied|failed to register layer|^docker: |\bdockerd\b|\bdocker (?:pull|run|compose)\b|"
    r"in the manifest list entries|"
    r"\(HTTP code \d{3}\) server error|Handler for POST|images/create|Pulling from |"
    r"manifest for \S+ not found|Pulling repository|Error while pulling image|"
    r"filesystem layer verification failed|Network timed out while trying to connect"
)
_CONTAINERD = re.compile(
    r"failed to pull and unpack image|failed to resolve reference|failed to resolve image|"
    r"failed to do request|httpReadSeeker|failed commit on ref|\bctr:|\bcrictl\b|containerd|"
    r"pulling from host \S+ failed with status code|no match for platform in manifest|"
    r"could not fetch content descriptor"
)


_GATED = {rx: Gated(rx) for rx in (_KUBELET, _BUILDKIT, _PODMAN, _SKOPEO, _CRIO, _CONTAINERS_IMAGE,
                                    _DOCKER, _CONTAINERD)}


@dataclass(frozen=True, slots=True)
class _Origin:
    """Who printed the text (``runtime``) and what did the pull underneath (``backend``)."""

    runtime: str  # docker | containerd | kubelet | cri-o | podman | skopeo | buildkit | unknown
    backend: str | None  # e.g. "containerd" under kubelet or docker; None when the same/unknown
    docker_store: str | None  # "graphdriver" | "containerd" when dockerd did the pull
    evidence: tuple[str, ...]


def _first(rx: re.Pattern[str], text: str) -> str | None:
    m = _GATED[rx].search(text)
    return m.group(0) if m else None



def detect(text: str) -> _Origin:
    """Name the outermost printer and the pulling backend; pure, linear-time."""
    hits = {
        name: _first(rx, text)
        for name, rx in (
            ("kubelet", _KUBELET), ("buildkit", _BUILDKIT), ("podman", _PODMAN),
            ("skopeo", _SKOPEO), ("cri-o", _CRIO), ("containers-image", _CONTAINERS_IMAGE),
            ("docker", _DOCKER), ("containerd", _CONTAINERD),
        )
    }
    found = {k: v for k, v in hits.items() if v}
    inner: str | None = None
    if found.get("docker"):
        inner = "docker"
    if found.get("containerd"):
        inner = "containerd" if not inner or "Error response from daemon" not in text else inner
    if found.get("containers-image"):
        inner = inner or "containers-image"

    runtime = "unknown"
    for name in ("kubelet", "buildkit", "podman", "skopeo", "cri-o"):
        if name in found:
            runtime = name
            break
    else:
        if "docker" in found and ("Error response from daemon" in text or "containerd" not in found):
            runtime = "docker"
        elif "containerd" in found:
            runtime = "containerd"
        elif "docker" in found:
            runtime = "docker"
        elif "containers-image" in found:
            runtime = "podman"
    if runtime == "kubelet" and inner is None and "containers-image" in found:
        inner = "cri-o"

    docker_store: str | None = None
    if runtime == "docker" or inner == "docker":
        if re.search(r"error pulling image configuration|download failed after attempts|"
                     r"failed to register layer|filesystem layer verification", text):
            docker_store = "graphdriver"
        elif "containerd" in found:
            docker_store = "containerd"
    same_library = inner == "containers-image" and runtime in ("podman", "skopeo", "cri-o")
    backend = inner if inner and inner != runtime and not same_library else None
    return _Origin(runtime, backend, docker_store, tuple(v for v in found.values() if v))
