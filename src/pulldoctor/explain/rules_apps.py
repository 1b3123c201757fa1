"""Rules for the own sentences of the updaters, local clusters and CI runners that pull for the user:
watchtower, kind, GitLab Runner, the GitHub Actions runner.

Each wraps ``docker pull`` (or the Engine API's pull) and passes the daemon's error on, read by the
other tables; the fallback gates (:mod:`.fallback`) know their wrappers so a text whose inner error
is gone still gets the step-implied candidates. What is read here is what the wrapper *adds*: a
registry client of its own (watchtower's digest check), a policy of its own (GitLab Runner's
allowed pull policies), a step of its own (kind's image import, the runner's ``docker login``).
Every rule names the source file and the format string it reads (``git grep`` in the repository
named).
"""

from __future__ import annotations

from pulldoctor.causes import Code
from pulldoctor.explain.rulebase import Rule, rule

_WATCHTOWER = (r"head request|Unable to update container|[Ww]atchtower|REPO_USER|"
               r"falling back to regular pull|Reason: (?:no credentials available|could not fetch token)")
"""watchtower's own context: its digest check's warning and its per-container wrapper."""
_WATCHTOWER_CREDS = ("docker exec watchtower cat /config.json 2>/dev/null | head -c 200; docker inspect "
                     "watchtower --format '{{.Config.Env}}' | tr ' ' '\\n' | grep -e REPO_ -e DOCKER_CONFIG"
                     "   # watchtower reads REPO_USER/REPO_PASS or the config.json mounted at "
                     "/config.json (a credsStore there needs its helper inside the container)",)

RULES: tuple[Rule, ...] = (
    # --- watchtower ------------------------------------------------------------------------------
    # containrrr/watchtower pkg/registry/auth/auth.go GetToken: the /v2/ challenge carried neither
    # Basic nor Bearer ("unsupported challenge type from registry"), or a Bearer challenge without
    # realm/service ("challenge header did not include all values needed to construct an auth
    # url"). The digest check then falls back to a regular pull (pkg/container/client.go "Could
    # not do a head request for %q, falling back to regular pull."): a registry with no auth at
    # all, or a front (proxy, portal) answering /v2/ for it
    rule("watchtower_challenge", Code.REGISTRY_SERVER_ERROR,
         r"unsupported challenge type from registry|challenge header did not include all values "
         r"needed to construct an auth url", 0.5,
         also=((Code.PROXY_ERROR, 0.42), (Code.DAEMON_CONFIG, 0.3)),
         distinguish=("curl -sI https://{host}/v2/ | grep -i -e '^HTTP' -e www-authenticate   # no "
                      "challenge on a 200: a registry without auth (harmless, the regular pull "
                      "follows); HTML or a proxy's header: a front answers for the registry",)),
    # auth.go: a Basic challenge and no stored credentials -- "no credentials available"
    # (logged on its own line after the warning: "Reason: no credentials available")
    rule("watchtower_no_credentials", Code.REGISTRY_UNAUTHORIZED, r"no credentials available", 0.72,
         also=((Code.REGISTRY_CREDENTIAL_HELPER, 0.45), (Code.DAEMON_CONFIG, 0.35)),
         requires=_WATCHTOWER, distinguish=_WATCHTOWER_CREDS),
    # pkg/registry/digest/digest.go GetDigest: the token request answered without a token --
    # "could not fetch token" (anonymous access refused, or the token endpoint's body was not JSON)
    rule("watchtower_no_token", Code.REGISTRY_UNAUTHORIZED, r"could not fetch token", 0.55,
         also=((Code.REGISTRY_SERVER_ERROR, 0.4), (Code.REGISTRY_CREDENTIAL_HELPER, 0.35),
               (Code.PROXY_ERROR, 0.3)),
         requires=_WATCHTOWER, distinguish=_WATCHTOWER_CREDS),
    # pkg/registry/manifest/manifest.go BuildManifestURL: "Parsed container image ref has no tag:
    # %s" and pkg/container/client.go "container uses a pinned image, and cannot be updated by
    # watchtower": the container runs a digest (or an image id), which has no newer version to pull
    rule("watchtower_pinned", Code.REF_INVALID,
         r"Parsed container image ref has no tag|container uses a pinned image, and cannot be updated",
         0.6, also=((Code.REGISTRY_NOT_FOUND, 0.3),),
         distinguish=("docker inspect CONTAINER --format '{{.Config.Image}}'   # name@sha256:... or "
                      "sha256:...: recreate the container from a tag for watchtower to follow",),
         note="the container was created from a digest or an image id: watchtower has no tag to "
              "look for a newer image under"),
    # --- kind ------------------------------------------------------------------------------------
    # kubernetes-sigs/kind pkg/cmd/kind/load/docker-image/docker-image.go: `image: %q not present
    # locally` -- kind load reads the image from the local docker: never pulled or built there, or
    # under another name or tag
    rule("kind_not_present_locally", Code.REGISTRY_NOT_FOUND,
         r"image: \\?\"[^\"\n]{1,300}\\?\" not present locally", 0.55,
         also=((Code.REF_INVALID, 0.45),),
         distinguish=("docker image ls --format '{{.Repository}}:{{.Tag}}' | grep NAME   # the exact "
                      "name:tag kind was given must be listed; else docker pull/build it first",)),
    # kind's loader runs `ctr --namespace=k8s.io images import --all-platforms --digests` on the
    # node (docker-image.go, nodeutils LoadImageArchive); ctr's "content digest %s: not found"
    # there means the archive `docker save` wrote lacks blobs an index names: a multi-platform
    # image of which only this host's platform is stored (docker's containerd image store). kind's
    # main prints a failed command's output after "Command Output: " (cmd/kind/app/main.go)
    rule("kind_import_missing_content", Code.IMAGE_PLATFORM_MISMATCH,
         r"ctr: content digest sha256:\w{1,64}: not found", 0.55,
         also=((Code.IMAGE_CORRUPT, 0.42), (Code.DAEMON_CONFIG, 0.3)),
         requires=r"images import|kind load|failed to load image|Command Output: ctr: content digest",
         distinguish=("docker image inspect IMAGE --format '{{.Os}}/{{.Architecture}}'; docker info "
                      "-f '{{.DriverStatus}}'   # a multi-platform index with one platform stored "
                      "(containerd image store): pull with --platform, or kind load image-archive "
                      "of a single-platform save",)),
    # --- GitLab Runner ---------------------------------------------------------------------------
    # gitlab-org/gitlab-runner common/constants.go IncompatiblePullPolicy "pull_policy (%v)
    # defined in %s is not one of the allowed_pull_policies (%v)", and the docker executor's "the
    # configured PullPolicies (%v) are not allowed by AllowedPullPolicies (%v)": the job asks for a
    # pull policy the runner's config.toml does not allow -- nothing reached a registry
    rule("gitlab_pull_policy_not_allowed", Code.DAEMON_CONFIG,
         r"is not one of the allowed_pull_policies|are not allowed by AllowedPullPolicies", 0.88,
         distinguish=("grep -n -e pull_policy -e allowed_pull_policies /etc/gitlab-runner/config.toml"
                      "   # the job's image:pull_policy must be one of the runner's "
                      "allowed_pull_policies",)),
    # --- GitHub Actions runner -------------------------------------------------------------------
    # actions/runner src/Runner.Worker/ContainerOperationProvider.cs: "Docker login for '%s' failed
    # with exit code %d" (after three tries): the credentials given in container.credentials are
    # wrong or empty (a secret not passed to forked pull requests), or the registry was unreachable
    # -- docker login's own output, above it, says which
    rule("actions_docker_login", Code.REGISTRY_UNAUTHORIZED,
         r"Docker login for '[^'\n]{1,253}' failed with exit code \d{1,3}", 0.6,
         also=((Code.REGISTRY_CREDENTIAL_HELPER, 0.35), (Code.NET_TCP_TIMEOUT, 0.3)),
         distinguish=("grep -B5 \"Docker login for\" JOB_LOG   # docker login's own answer: "
                      "'unauthorized' (the secret is empty or wrong -- forks get no secrets) or a "
                      "dial error (the registry is unreachable from the runner)",)),
)
