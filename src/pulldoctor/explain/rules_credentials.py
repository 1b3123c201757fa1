"""Rules for the client's credential store: the helper programs ``config.json`` names
(``credsStore``, ``credHelpers``), the stores behind them, and the cloud SDKs inside them.

Where each wording is made: docker/docker-credential-helpers ``client/client.go`` (``error
<verb> credentials - err: %v, out: `%s```), ``credentials/error.go`` (``credentials not found in
native keychain``, ``no credentials server URL``), ``osxkeychain/osxkeychain.go``
(``ErrInteractionNotAllowed``), ``pass/pass.go`` (``pass not initialized: %v``); docker-py
``docker/credentials/store.py`` (``StoreError``, ``{program} not installed or not available in
PATH``); containers/image ``pkg/docker/config`` (``errors looking up credentials``, ``Error looking
up credentials for %s in credential helper %s: %v``); go-containerregistry ``pkg/authn``
(``invoking docker-credential-X``). A helper that fails makes docker pull anonymously, so the
registry's 401 is what the user sees then: :mod:`.rules_registry` reads that answer.
"""

from __future__ import annotations

from pulldoctor.causes import Code
from pulldoctor.explain.rulebase import Rule, rule

_CREDS_CHECK = ("grep -E 'credsStore|credHelpers' ~/.docker/config.json; command -v "
                "docker-credential-HELPER   # the helper config.json names must be on PATH and answer "
                "'get'")
_CLOUD_HOSTS = r"(?:dkr\.ecr\.[\w.-]{1,40}amazonaws\.com|\bgcr\.io|docker\.pkg\.dev|azurecr\.io)"

RULES: tuple[Rule, ...] = (
    # docker/docker-credential-helpers client/client.go: "error <verb> credentials - err: %v, out:
    # `%s`" -- the helper program named by credsStore/credHelpers could not be run or failed
    rule("credential_helper_failed", Code.REGISTRY_CREDENTIAL_HELPER,
         r"error (?:getting|storing|erasing|listing) credentials - err: [^\n]{0,300}", 0.92,
         distinguish=(_CREDS_CHECK,)),
    # docker-py docker/credentials/store.py: "{program} not installed or not available in PATH",
    # 'Credentials store {program} exited with "..."'; go-containerregistry pkg/authn: "invoking
    # docker-credential-X: exec: ..."; Go os/exec ErrDot: "resolves to executable in current
    # directory"
    rule("credential_helper_missing", Code.REGISTRY_CREDENTIAL_HELPER,
         r"docker-credential-[\w.-]{1,40}\"? (?:not installed|resolves to executable)|"
         r"Credentials store (?:error|[\w.-]{1,60} exited with)|"
         r"(?:dockerpycreds|docker\.credentials)\.errors\.\w{1,40}|StoreError\(|"
         r"docker/credentials/store\.py|"
         r"invoking docker-credential-|exec: \"docker-credential-[\w.-]{1,40}\"|"
         r"pass not initialized", 0.95, distinguish=(_CREDS_CHECK,)),
    # the helper program named in the text, failing: docker-py runs it with subprocess
    # (CalledProcessError "Command '['docker-credential-pass', 'get']' returned non-zero exit
    # status 1"), tools around the runtimes print their own sentence around its name (batect: "The
    # credentials returned for '%s' by the credential helper executable '%s' are invalid"). A text
    # that names a docker-credential-* program beside a failure is that program's failure (the
    # name alone, not a path: a file of that name inside a layer is something else)
    rule("credential_helper_named_failure", Code.REGISTRY_CREDENTIAL_HELPER,
         r"(?<![/\\\w-])docker-credential-[\w.-]{1,40}[^\n]{0,200}?(?:exit status|non-zero|not found|"
         r"not installed|[Ff]ailed|[Ii]nvalid|[Ee]rror|[Cc]annot|[Uu]nable|No such file)|"
         r"(?:exit status|non-zero|[Ff]ailed|[Ii]nvalid|[Ee]rror|[Cc]annot|[Uu]nable)[^\n]{0,200}?"
         r"(?<![/\\\w-])docker-credential-[\w.-]{1,40}|"
         r"credential[- ]helper[^\n]{0,200}?(?:failed|not found|[Ee]rror|invalid|exit status|"
         r"not installed|cannot|unable|returned)|(?:[Ff]ailed|[Ee]rror|[Ii]nvalid|[Uu]nable|[Cc]annot)"
         r"[^\n]{0,200}?credential[- ]helper", 0.88,
         needles=("docker-credential-", "credential helper", "credential-helper"),
         distinguish=(_CREDS_CHECK,)),
    # the stores behind the helpers, in their own words: macOS keychain (osxkeychain.go
    # ErrInteractionNotAllowed, errSecInteractionNotAllowed -25308), Windows Credential Manager
    # (ERROR_NO_SUCH_LOGON_SESSION 1312, no interactive logon: services, SSH, CI), libsecret's
    # D-Bus Secret Service (no session bus or no provider), pass and its gpg key
    # (pass.go "pass not initialized: %v"), docker-credential-helpers' own "no credentials server
    # URL"/"no credentials username"
    rule("credential_store_unavailable", Code.REGISTRY_CREDENTIAL_HELPER,
         r"keychain cannot be accessed because the current session|User interaction is not allowed|"
         r"A specified logon session does not exist|Cannot autolaunch D-Bus without X11|"
         r"org\.freedesktop\.secrets was not provided|[Cc]annot create an item in a locked collection|"
         r"gpg: decryption failed: No secret key|password store is empty|"
         r"no credentials server URL|no credentials username", 0.85,
         distinguish=(_CREDS_CHECK, "docker-credential-HELPER list   # run as the pulling user, in "
                      "the same session: the store must be unlocked and reachable")),
    # apple/container ImagesService: "error querying keychain for %s" (the macOS keychain that
    # holds 'container registry login' credentials refused the query)
    rule("keychain_query_failed", Code.REGISTRY_CREDENTIAL_HELPER,
         r"error querying keychain for \S{1,300}|KeychainQuery\.Error", 0.85,
         distinguish=("security find-internet-password -s {registry}   # the keychain item exists and "
                      "this user may read it (Keychain Access: allow the container service)",)),
    # containers/image pkg/docker/config: "errors looking up credentials:\n\t* <the helper's error>"
    # and its debug line "Error looking up credentials for %s in credential helper %s: %v"
    rule("credential_lookup_failed", Code.REGISTRY_CREDENTIAL_HELPER,
         r"errors looking up credentials|[Ee]rror looking up credentials for \S{1,300} in credential "
         r"helper|getting credentials from helper|credential helper \S{1,80} (?:failed|not found)|"
         r"credential helper not found", 0.85, distinguish=(_CREDS_CHECK,)),
    # the helper ran and has no entry for this registry: usually harmless (anonymous pull follows)
    rule("credential_helper_empty", Code.REGISTRY_CREDENTIAL_HELPER,
         r"credentials not found in native keychain", 0.5,
         also=((Code.REGISTRY_UNAUTHORIZED, 0.45),), distinguish=(_CREDS_CHECK,)),
    # the cloud SDK inside a helper or agent found no identity to ask the registry's token service
    # with: aws-sdk-go's credential chain ("NoCredentialProviders: no valid providers in chain",
    # "EC2RoleRequestError", v2's "failed to refresh cached credentials"), used by
    # docker-credential-ecr-login, the ECS agent and Concourse's registry-image resource ("cannot
    # authenticate with ECR"); Google's ADC ("could not find default credentials") behind
    # docker-credential-gcr/gcloud
    rule("cloud_sdk_no_identity", Code.REGISTRY_CREDENTIAL_HELPER,
         r"NoCredentialProviders|no valid providers in chain|EC2RoleRequestError|"
         r"failed to refresh cached credentials|no EC2 IMDS role found|SharedCredsLoad|"
         r"could not find default credentials|cannot authenticate with (?:ECR|ACR)|"
         r"ecr: [Ff]ailed to get authorization token|Error retrieving credentials|"
         r"No AuthorizationToken found for|missing AuthorizationData in ECR", 0.82,
         also=((Code.REGISTRY_UNAUTHORIZED, 0.45),),
         distinguish=("aws sts get-caller-identity   # (or gcloud auth list) the identity the helper/"
                      "agent would use: none, or one without the registry's pull permission",
                      _CREDS_CHECK)),
    # kubelet's image credential provider plugins (kubernetes pkg/credentialprovider/plugin/
    # plugin.go: "Failed getting credential from external registry credential provider: %v",
    # "error execing credential provider plugin %s for image %s: %w"; the request it writes to the
    # plugin's stdin is a CredentialProviderRequest of credentialprovider.kubelet.k8s.io). A plugin
    # that is missing, fails, or is not a kubelet plugin at all (a docker-credential-* helper named
    # in --image-credential-provider-config reads that JSON as a server URL) leaves the kubelet
    # without credentials, and the pull goes out anonymously.
    rule("kubelet_credential_provider", Code.REGISTRY_CREDENTIAL_HELPER,
         r"external registry credential provider|credential provider plugin|"
         r"CredentialProviderRequest|credentialprovider\.kubelet\.k8s\.io", 0.88,
         also=((Code.REGISTRY_UNAUTHORIZED, 0.4),),
         distinguish=("grep -e image-credential-provider /var/lib/kubelet/kubeadm-flags.env "
                      "/etc/default/kubelet   # the config's provider 'name' must be an executable "
                      "in --image-credential-provider-bin-dir that speaks the kubelet's "
                      "CredentialProvider API (not a docker-credential-* helper)",)),
    # cloud registries are logged into through a helper (ecr-login, gcloud/gcr, acr): no credentials
    # at all for one of them points at the helper as much as at a missing login (most threads about
    # ECR's "no basic auth credentials" end at a helper that was not invoked, not on PATH or misnamed)
    rule("cloud_no_credentials", Code.REGISTRY_CREDENTIAL_HELPER,
         _CLOUD_HOSTS + r"[^\n]{0,400}?no basic auth credentials?", 0.75,
         distinguish=(_CREDS_CHECK,)),
)
