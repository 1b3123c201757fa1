"""Candidates for a text that is clearly a failed pull but names no cause.

Wrappers say *that* a pull failed and *which step* failed long before the inner error says why,
and sometimes the inner error is gone (a CRI answer cut to ``context canceled``, an Engine API 500,
a tool that prints only its own sentence). Such a text still gets candidates: the causes its
failing step can have (pull-internals.md: resolve -> ping -> token -> manifest -> blobs -> unpack),
at low confidence, each with the check that tells them apart. A text with no pull wording at all
gets nothing: explain never guesses about text that is not a pull failure.
"""

from __future__ import annotations

from pulldoctor.causes import Code
from pulldoctor.explain.facts import step_of
from pulldoctor.explain.prefilter import Gated
from pulldoctor.explain.rulebase import DIAGNOSE, RUNTIME_LOG

_PULL_FAILURE = Gated(
    # kubelet (pkg/kubelet/images), CRI clients (crictl), containerd and its CRI plugin
    r"Failed to pull image|ErrImagePull|ImagePullBackOff|Back-off pulling image|failed pulling image|"
    r"PullImage [^\n]{0,300}failed|PullImage from image service failed|failed to get sandbox image|"
    r"failed to pull and unpack image|failed to pull image|failed to resolve reference|"
    r"failed to pull [\w.-]{1,253}[/:@][^\s:]{0,300}: |"
    r"failed to resolve image|failed to do request|failed commit on ref|"
    r"pulling image(?: failed)?: |failed to fetch (?:anonymous token|oauth token|manifest|blob|digest)|"
    r"failed to authorize|"
    # CRI-O's CRI error names and kubelet's waiting reasons for them (crierrors via
    # server/image_pull.go, pkg/kubelet/images/types.go ErrImageInspect), 1.6's and 2.x's
    # progress timers, CRI-O's "pull image: %s" from its pull child, the artifact fallback
    r"\bRegistryUnavailable\b|\bSignatureValidationFailed\b|\bImageInspectError\b|"
    r"Failed to inspect image \\?\"|cancel(?:led)? pulling image|image pull progress updates|"
    r"rpc error: code = \w{1,30} desc = pull image: |unable to pull image or OCI artifact|"
    # dockerd, the docker CLI and the Engine API's pull endpoint
    r"error pulling image|Error pulling image|Error while pulling image|pull access denied|"
    # the unpack step's wrappers (moby's layer store, containerd's unpacker)
    r"failed to register layer|failed to extract layer|failed to unpack image|"
    r"Error pulling dependent layers|download failed after attempts|"
    # containers/image (podman, skopeo, buildah, CRI-O)
    r"[Uu]nable to pull|unable to copy from source|[Ee]rror determining manifest MIME type|"
    r"[Ee]rror committing the finished image|adding layer with blob|storing blob to file|"
    r"[Pp]rocessing tar file\(|failed to get converter for|error from registry: |"
    # BuildKit's base-image step; Apptainer/Singularity fetching an OCI image for a build
    r"\[internal\] load metadata for [^\n]{1,300}\n[^\n]{0,40}ERROR|conveyor failed to get|"
    r"Unable to handle docker://|failed to get checksum for docker://|"
    # BuildKit and the tools around the runtimes
    r"CannotPull\w{0,20}ContainerError|While (?:pulling|making) image from oci registry|"
    r"While pulling (?:library|shub|oras) image|"
    r"Failed to pull `|Error in pulling image|failed to inspect remote image|Cannot fetch manifest|"
    r"failed to ping registry|error fetching image|[Ee]rror:? pulling image|"
    # Concourse runs an image resource's check/in scripts (registry-image, docker-image); the ECS
    # agent's augmented message (errormessages.go); apple/container's pull command
    r"resource script '[^'\n]{1,200}' failed|The task can.t pull the image|"
    # testcontainers (docker-java underneath)
    r"ContainerFetchException|Can't get Docker image|Failed to pull image after|"
    r"Error downloading kic artifacts|"
    # CI systems and platforms around them (GitHub Actions, GitLab Runner, Azure App Service)
    r"[Ii]mage pull failed|[Pp]ull image failed|[Dd]ocker pull failed|pull failed with exit code|"
    r"ImagePullFailure|failed to pull image \"[^\"\n]{1,300}\" with specified policies|"
    # the tools around the runtimes, by their own wrapper: Knative's tag-to-digest resolution
    # (RevisionContainerMissingMessage), Flux source-controller's OCIRepository, oras-go's CopyError
    # (Helm, ORAS), regclient, Jib's RegistryErrorExceptionBuilder, Bazel's downloader on a registry
    # URL, enroot's common::curl
    r"Unable to fetch image \"[^\"\n]{1,300}\": failed to resolve image to digest|"
    r"failed to determine artifact digest|failed to pull artifact from '|"
    r"failed to perform \"(?:Fetch\w{0,20}|Resolve)\"|failed to get (?:manifest|blob)\b|"
    r"Tried to pull (?:image manifest|BLOB) for|Error downloading \[https?://[^\]\s]{1,300}/v2/|"
    r"URL https?://\S{1,300} returned error code: |"
    # schedulers and builders (rules_platforms.py): the ECS agent's error names and timers, Nomad's
    # docker driver, kaniko's base-image steps, CNB lifecycle's access check, Apptainer's fetches
    r"CannotPull\w{0,30}Error|inactivity time exceeded timeout while pulling|image pull aborted due to "
    r"inactivity|Failed to find docker auth for repo|failed to get filesystem from image|"
    r"image not found on any configured mapped registries|failed to ensure registry read|"
    r"error fetching image to cache|while fetching library image|[Uu]nable to [Dd]ownload [Ii]mage|"
    r"image does not exist in the library|"
    # Maven's "Failed to execute goal <plugin>" around Jib's build (the cause follows it); flyctl's
    # "failed to fetch an image or build from source" (its image resolver found nothing usable)
    r"Failed to execute goal com\.google\.cloud\.tools:jib-|"
    r"failed to fetch an image or build from source|"
    # SmartOS/illumos imgadm importing a Docker image ("imgadm import: error (<Code>): <msg>")
    r"imgadm import: error|"
    # updaters, app platforms, local clusters and CI runners (rules_apps.py): watchtower's
    # per-container wrapper and its digest check (internal/actions/update.go "Unable to update
    # container %q: %v. Proceeding to next.", pkg/container/client.go "Could not do a head request
    # for %q"), Portainer's stack deploy (api/exec/compose_stack.go "failed to pull images of the
    # stack"), balena-supervisor's system event (src/lib/log-types.ts + src/logging/index.ts
    # "Failed to download image '%s' due to '%s'"), kind's loader and node-image pull
    # (docker-image.go "image: %q not present locally"; "failed to load image: command"), Tekton's
    # TaskRun status (pkg/reconciler/taskrun/taskrun.go "failed to pull the image %q"), GitLab
    # Runner's pull-policy check, the Actions runner's login step
    r"Unable to update container \\?\"|Could not do a head request for|failed to pull images of the stack|"
    r"Failed to download image '|\bimage: \\?\"[^\"\n]{1,300}\\?\" not present locally|"
    r"failed to load image: command|failed to pull the image \\?\"|TaskRunImagePullFailed|"
    r"allowed_pull_policies|AllowedPullPolicies|Docker login for '[^'\n]{1,253}' failed"
)
"""Wording that only a *failed* pull prints, from each runtime's and tool's wrapper."""
_PULL_CONTEXT = Gated(
    r"Pulling from |Pulling image |Trying to pull |Pulling fs layer|Pulling repository|images/create|"
    r"Unable to find image '[^'\n]{1,300}' locally|initializing source|copying system image|"
    r"pinging (?:container|docker) registry|[Rr]eading manifest|Error copying (?:image|tag)|"
    r"failed to resolve source metadata|fetching builder image|httpRead[Ss]eeker|trying next host|"
    # a request to a registry's API, the legacy builder's FROM step, docker-compose v1's pull
    # line, kaniko's and buildah's base-image steps, BuildKit's metadata step
    r"https?://[^\s\"]{1,300}/v2/|Step \d{1,4}/\d{1,4} : FROM |Pulling [\w.-]{1,100} \([^)\s]{1,300}\)"
    r"\.\.\.|Retrieving image (?:manifest )?\S|creating build container|load metadata for |"
    # enroot's progress lines
    r"Querying registry for permission grant|Fetching image manifest"
)
"""Pull wording a healthy pull prints too: a pull failure only with failure words beside it."""
_PULL_COMMAND = Gated(r"\b(?:docker|podman|nerdctl|crictl|buildah|skopeo|crane|ctr(?: -n[ =]?\S{1,40})?"
                     r"(?: images?)?|k3s ctr images?|docker-compose|docker compose|container image|"
                     r"oras|regctl(?: image| manifest)?|apptainer|singularity) "
                     r"(?:image )?"
                     r"(?:pull|run|from|copy|cp|get|inspect|up|create)\b|\benroot import |"
                     r"\bhelm (?:pull|install|upgrade|template) [^\n]{0,200}oci://")
"""A pasted command line that pulls: with an error after it, the error is the pull's."""
_NOT_A_PULL = Gated(
    r"[Pp]robe failed|MountVolume\.|Health check for container|FailedScheduling|nodes are available|"
    r"OCI runtime (?:create|exec|start) failed|runc create failed|No such container|"
    r"(?:configmap|secret|persistentvolumeclaim|serviceaccount) \"[^\"\n]{1,253}\" not found|"
    r"failed to compute cache key|did not complete successfully: exit code|"
    r"Back-off restarting failed container|CrashLoopBackOff|exec format error|"
    r"The connection to the server [^\n]{1,200} was refused"
)
"""Other failures that share generic words with pulls (probes time out, volumes are "not found",
builds fail): with no pull wording beside them, such a text is not a pull failure."""
_PLATFORM_WARNING = Gated(r"image's platform \([^)\n]{1,60}\) does not match the detected host platform|"
                         r"image platform \([^)\n]{1,60}\) does not match the expected platform")
"""docker's and podman's warning that the image pulled is for another platform: an "exec format
error" after it is that mismatch, not an unrelated failure."""
FAILED = Gated(r"[Ee]rror|ERRO|FATA|[Ff]ailed|no such image|denied|refused|timed out|not found|"
               r"[Uu]nable|[Cc]annot|invalid|rejected|exceeded|canceled|unknown|EOF|FATAL")

_CHECKS: dict[str, tuple[str, ...]] = {
    "resolve": (DIAGNOSE, "skopeo inspect docker://{image}   # answers: the registry side is fine "
                "here; an error names the real answer"),
    "ping": ("curl -sv https://{host}/v2/ -o /dev/null   # connects, TLS verifies, answers 200/401?",
             "env | grep -i _proxy   # the proxy the runtime uses for {host}"),
    "token": ("grep -E 'credsStore|credHelpers' ~/.docker/config.json   # a helper must answer for "
              "{registry}", "docker logout {registry}; docker pull {image}   # anonymous works: the "
              "stored credentials are bad"),
    "manifest": ("skopeo inspect --raw docker://{image}   # 404/401/403 or a media type this "
                 "runtime does not know", DIAGNOSE),
    "layer": ("pulldoctor diagnose --layers {image}   # streams and verifies every blob",
              "ping -M do -s 1472 -c 3 {host}   # large packets dropped: MTU"),
    "unpack": ("df -h /var/lib/docker /var/lib/containerd; dmesg | tail   # space, I/O errors, OOM",
               "skopeo inspect --raw docker://{image}   # layer media types (zstd needs a recent "
               "runtime)"),
    "any": (RUNTIME_LOG, DIAGNOSE),
}

_BY_STEP: dict[str, tuple[Code, ...]] = {
    "resolve": (Code.REGISTRY_NOT_FOUND, Code.REGISTRY_UNAUTHORIZED, Code.NET_TCP_TIMEOUT,
                Code.REGISTRY_SERVER_ERROR),
    "ping": (Code.NET_TCP_TIMEOUT, Code.PROXY_ERROR, Code.REGISTRY_SERVER_ERROR,
             Code.TLS_UNKNOWN_AUTHORITY),
    "token": (Code.REGISTRY_UNAUTHORIZED, Code.REGISTRY_CREDENTIAL_HELPER, Code.REGISTRY_DENIED,
              Code.PROXY_ERROR),
    "manifest": (Code.REGISTRY_NOT_FOUND, Code.REGISTRY_UNAUTHORIZED, Code.IMAGE_UNSUPPORTED,
                 Code.REGISTRY_SERVER_ERROR),
    "config": (Code.NET_RESET, Code.NET_REQUEST_TIMEOUT, Code.IMAGE_CORRUPT, Code.NET_MTU),
    "layer": (Code.NET_RESET, Code.NET_REQUEST_TIMEOUT, Code.IMAGE_CORRUPT, Code.NET_MTU),
    "unpack": (Code.IMAGE_CORRUPT, Code.HOST_DISK_FULL, Code.IMAGE_UNSUPPORTED, Code.HOST_MEMORY),
    "any": (Code.NET_REQUEST_TIMEOUT, Code.REGISTRY_NOT_FOUND, Code.REGISTRY_UNAUTHORIZED,
            Code.NET_TCP_TIMEOUT, Code.REGISTRY_SERVER_ERROR),
}
_TOP = 0.3
"""Confidence of the first step-implied candidate; each next one is a little lower."""
STEP = 0.03

_Inferred = tuple[Code, float, list[str], tuple[str, ...]]


def is_other_failure(text: str) -> bool:
    """A failure of something else (a probe, a volume, a build step), with no pull wording."""
    return (_NOT_A_PULL.search(text) is not None and not _is_pull_failure(text)
            and _PLATFORM_WARNING.search(text) is None)


def _is_pull_failure(text: str) -> bool:
    """Does ``text`` carry wording only a failed pull prints?"""
    if _PULL_FAILURE.search(text) is not None:
        return True
    return ((_PULL_CONTEXT.search(text) is not None or _PULL_COMMAND.search(text) is not None)
            and FAILED.search(text) is not None)


def candidates(text: str) -> tuple[list[_Inferred], str | None]:
    """The causes the failing step implies, most likely first, and the note that says why.

    Empty (and no note) when the text is not a pull failure.
    """
    m = _PULL_FAILURE.search(text)
    if m is None:
        m = _PULL_CONTEXT.search(text) or _PULL_COMMAND.search(text)
        if m is None or FAILED.search(text) is None:
            return [], None
    step = step_of(text) or "any"
    evidence = [text[max(0, m.start() - 40):m.end() + 160].strip().split("\n")[0][:300]]
    checks = _CHECKS.get(step, _CHECKS["layer"] if step == "config" else _CHECKS["any"])
    out = [(code, round(_TOP - i * STEP, 2), evidence, checks)
           for i, code in enumerate(_BY_STEP[step])]
    where = "" if step == "any" else f" at the {step} step"
    note = (f"the pull failed{where}, but no wording in this text names why: these are the causes "
            "that step can have, at low confidence; the 'distinguish' checks tell them apart")
    return out, note
