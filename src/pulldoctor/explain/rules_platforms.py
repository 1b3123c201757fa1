"""Rules for the own sentences of the schedulers and builders that pull for the user: the AWS ECS
agent, HashiCorp Nomad's docker driver, kaniko, Cloud Native Buildpacks' lifecycle, Apptainer.

Each wraps the runtime's (or go-containerregistry's) error in a sentence of its own, and the inner
error, when it is there, is read by the other tables. What is read here is what the wrapper *adds*:
its own verdict (a timer of its own, a credential lookup of its own, a suggestion) -- words no
runtime prints. Every rule names the source file and the format string it reads (``git grep`` in
the repository named).
"""

from __future__ import annotations

from pulldoctor.causes import Code
from pulldoctor.explain.rulebase import PROXY_NEEDED, Rule, rule

_ECS_CREDS = ("aws ecs describe-task-definition --task-definition TASKDEF --query "
              "'taskDefinition.[executionRoleArn,containerDefinitions[].repositoryCredentials]'   # "
              "the execution role (ECR) or the Secrets Manager secret (other registries) the agent "
              "must read; then aws ecr get-login-password works with that role?",)

RULES: tuple[Rule, ...] = (
    # The agent's own credential lookup for the task, before docker is asked to pull
    # (amazon-ecs-agent agent/engine/docker_task_engine.go "engine ecr credentials: not found",
    # "engine docker private registry credentials: not found"; agent/dockerclient/dockerauth/ecr.go
    # "ecr auth: missing AuthorizationData in ECR response for %s", "ecr auth: AuthorizationData
    # is nil for %s", "dockerauth: missing container's registry auth data"): the execution role
    # or the ASM secret did not yield credentials -- the registry was never asked
    rule("ecs_agent_credentials", Code.REGISTRY_CREDENTIAL_HELPER,
         r"engine (?:ecr|docker private registry) credentials: not found|ecr auth: (?:missing "
         r"AuthorizationData|AuthorizationData is nil)|dockerauth: missing container's \w{1,10} auth data",
         0.86, also=((Code.DAEMON_CONFIG, 0.45), (Code.REGISTRY_UNAUTHORIZED, 0.35)),
         distinguish=_ECS_CREDS),
    # The agent's inactivity timer (agent/dockerclient/dockerapi/docker_client.go: "inactivity time
    # exceeded timeout while pulling image", ECS_IMAGE_PULL_INACTIVITY_TIMEOUT) and Nomad's
    # (drivers/docker/coordinator.go handlePullInactivity: "image pull aborted due to inactivity",
    # the driver's image_pull_timeout): docker reported no progress for that long. A transfer that
    # stalls (lost full-size segments), a proxy holding the connection, or a registry that stopped
    # sending all go quiet the same way
    rule("pull_inactivity_timer", Code.NET_REQUEST_TIMEOUT,
         r"inactivity time exceeded timeout while pulling image|image pull aborted due to inactivity",
         0.6, also=((Code.NET_MTU, 0.4), (Code.PROXY_ERROR, 0.32), (Code.REGISTRY_SERVER_ERROR, 0.3)),
         distinguish=("pulldoctor diagnose --layers {image}   # which blob stalls, and whether small "
                      "replies pass while large ones hang (MTU)", PROXY_NEEDED)),
    # The agent's augmented message (agent/api/errormessages/error_messages.go): when docker's text
    # matches PatternImageDoesNotExistError ("denied: requested access to the resource is denied")
    # it adds "The task can't pull the image. Check whether the image exists." -- Docker Hub's
    # answer for a missing repository and for a private one, so the name rises beside the denial
    rule("ecs_check_image_exists", Code.REGISTRY_NOT_FOUND,
         r"The task can.t pull the image\. Check whether the image exists", 0.7,
         also=((Code.REGISTRY_UNAUTHORIZED, 0.45),),
         distinguish=("skopeo list-tags docker://{registry_repo}   # not listed: the name or tag is "
                      "wrong; listed: the task's credentials (repositoryCredentials) are missing",)),
    # ...and for PatternECRBatchGetImageError ("denied: User: %s is not authorized to perform:
    # ecr:BatchGetImage"): "The task can't pull the image. Check that the role has the permissions"
    rule("ecs_check_role", Code.REGISTRY_DENIED,
         r"The task can.t pull the image\. Check that the role has the permissions", 0.86,
         also=((Code.REGISTRY_CREDENTIAL_HELPER, 0.35),), distinguish=_ECS_CREDS),
    # Nomad drivers/docker/driver.go: "Failed to find docker auth for repo %q: %v" (the plugin's
    # auth.config file or auth.helper failed); drivers/docker/utils.go "Failed to open auth config
    # file: %v, error: %v", "Failed to parse auth config file: %v"
    rule("nomad_docker_auth", Code.REGISTRY_CREDENTIAL_HELPER, r"Failed to find docker auth for repo", 0.8,
         also=((Code.DAEMON_CONFIG, 0.5),),
         distinguish=("grep -A4 'auth' /etc/nomad.d/*.hcl   # the docker plugin's auth { config, "
                      "helper }: the file must be readable by the client, the helper "
                      "docker-credential-HELPER on its PATH",)),
    rule("nomad_auth_config", Code.DAEMON_CONFIG,
         r"Failed to (?:open|parse) auth config file", 0.82,
         distinguish=("grep -A4 'auth' /etc/nomad.d/*.hcl   # the auth.config path the docker plugin "
                      "reads",)),
    # kaniko pkg/image/remote/remote.go: with --registry-map (or --registry-mirror) and
    # --skip-default-registry-fallback, "image not found on any configured mapped registries for
    # %s" -- each mapped registry's own error was only a warning ("Failed to retrieve image %s from
    # remapped registry %s: %s"): the mapping, or the image in it
    rule("kaniko_mapped_registries", Code.DAEMON_CONFIG,
         r"image not found on any configured mapped registries for \S{1,300}", 0.62,
         also=((Code.REGISTRY_NOT_FOUND, 0.55), (Code.REGISTRY_UNAUTHORIZED, 0.4)),
         distinguish=("grep -e 'remapped registry' -e 'Retrieving image' KANIKO_LOG   # each mapped "
                      "registry's own error, logged as a warning before this line",)),
    # CNB lifecycle image/registry_handler.go: "failed to ensure registry read access to %s: %w" /
    # "read/write access" -- imgutil's CheckReadAccess answered false (its error is often nil,
    # printed "%!w(<nil>)"): the keychain (CNB_REGISTRY_AUTH, the docker config the platform
    # mounted) had no working credentials for that registry, or the account lacks access
    rule("cnb_registry_access", Code.REGISTRY_UNAUTHORIZED,
         r"failed to ensure registry read(?:/write)? access to \S{1,300}", 0.55,
         also=((Code.REGISTRY_CREDENTIAL_HELPER, 0.45), (Code.REGISTRY_DENIED, 0.42),
               (Code.REGISTRY_NOT_FOUND, 0.35)),
         distinguish=("echo \"$CNB_REGISTRY_AUTH\" | head -c 80; ls ~/.docker/config.json   # the "
                      "keychain the lifecycle reads (pack: --publish uses the host's docker login)",
                      "crane manifest {image}   # the same credentials from a shell: the registry's "
                      "own answer")),
    # Apptainer internal/pkg/client/library/pull.go: "image does not exist in the library: %s (%s)"
    # -- the second value is the architecture asked for: the image may exist for another one
    rule("apptainer_library_missing", Code.REGISTRY_NOT_FOUND,
         r"image does not exist in the library: \S{1,300}(?: \([\w-]{1,20}\))?", 0.82,
         also=((Code.IMAGE_PLATFORM_MISMATCH, 0.5),),
         distinguish=("apptainer search NAME   # the tags and architectures the library holds",)),
    # Apptainer internal/pkg/client/oci/pull.go: an oras:// artifact (a SIF pushed with ORAS)
    # pulled as docker:// -- "%v; try changing the protocol to oras://"
    rule("apptainer_oras_artifact", Code.IMAGE_UNSUPPORTED, r"try changing the protocol to oras://", 0.85,
         distinguish=("apptainer pull oras://{image}   # a SIF stored as an OCI artifact",)),
    # Apptainer internal/pkg/client/oras/pull.go: "image file hash(%s) and expected hash(%s) does
    # not match", "image file size(%d) and expected size(%d) does not match"
    rule("apptainer_oras_mismatch", Code.IMAGE_CORRUPT,
         r"image file (?:hash|size)\(\S{1,80}\) and expected (?:hash|size)\(\S{1,80}\) does not match", 0.8,
         also=((Code.NET_RESET, 0.35), (Code.PROXY_ERROR, 0.3)),
         distinguish=("apptainer cache clean; apptainer pull oras://{image}   # the same mismatch "
                      "again: the stored artifact is bad",)),
)
