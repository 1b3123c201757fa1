"""Rules for the hosted registries' own answers: cloud IAM (ECR, Artifact Registry/GCR, ACR),
ECR's token lifetime, and the ways GHCR, quay and Docker Hub word a repository the caller may not
see.

Split from :mod:`.rules_registry` (the answers every registry gives, in each library's shape): the
rules here hold what one operator's service says, which the generic status and errcode rules would
read as the plain status.
"""

from __future__ import annotations

from pulldoctor.causes import Code
from pulldoctor.explain.rulebase import Rule, rule

RULES: tuple[Rule, ...] = (
    # cloud registries' IAM answers: the caller's identity lacks the pull (or login) permission.
    # AWS: "User: <arn> is not authorized to perform: ecr:<Action>"; Google IAM: 'Permission "<p>"
    # denied on resource', '<who> does not have permission "<p>"' (artifactregistry.repositories.
    # downloadArtifacts, storage.objects.get behind gcr.io); Azure RBAC: "does not have
    # authorization to perform action"
    rule("cloud_iam_denied", Code.REGISTRY_DENIED,
         r"AccessDeniedException|is not authorized to perform: ecr:\w{1,40}|"
         r"Permission [\"'](?:artifactregistry|storage|containeranalysis)\.[\w.]{1,80}[\"'] denied|"
         r"(?:does|do) not have (?:permission|authorization) (?:to [^\n]{0,40}(?:pull|perform)|"
         r"[\"'](?:artifactregistry|storage)\.[\w.]{1,80}[\"'])|AuthorizationFailed|"
         r"[Cc]aller does not have permission", 0.85),
    # the same IAM answer to a caller that sent no identity at all: logging in (or a helper that
    # supplies the login) is the other fix
    rule("cloud_iam_anonymous", Code.REGISTRY_UNAUTHORIZED,
         r"Unauthenticated requests? do(?:es)? not have permission|[Aa]nonymous caller does not have",
         0.6, distinguish=("gcloud auth configure-docker REGION-docker.pkg.dev; docker pull {image}   "
                           "# works logged in: the repository is private (grant allUsers read to "
                           "make it public)",)),
    # ECR tokens last 12 hours and are normally fetched by docker-credential-ecr-login (credsStore/
    # credHelpers): an expired one is a stale 'docker login', or the helper serving its cache
    rule("ecr_token_expired", Code.REGISTRY_CREDENTIAL_HELPER,
         r"Your [Aa]uthorization [Tt]oken has expired|dkr\.ecr\.[^\n]{0,300}?token (?:has )?expired",
         0.7, distinguish=("grep -E 'credsStore|credHelpers|ecr' ~/.docker/config.json; ls "
                           "~/.ecr/cache.json   # a helper answers for ECR: clear its cache; none: "
                           "log in again (tokens last 12 h)",)),
    rule("ghcr_stale_token", Code.REGISTRY_UNAUTHORIZED,
         r"https://ghcr\.io/v2/[^\n]{0,300}?denied: denied", 0.84, also=((Code.REGISTRY_DENIED, 0.6),),
         distinguish=("docker logout ghcr.io && docker pull {image}   # works (public image) or asks "
                      "for login: the stored ghcr token was stale; ghcr answers 'denied' instead of 401",)),
    rule("hub_missing_repository", Code.REGISTRY_DENIED,
         r"denied: requested access to the resource is denied\s{1,8}unauthorized: authentication required",
         0.88, also=((Code.REGISTRY_NOT_FOUND, 0.6),),
         distinguish=("docker login docker.io && docker pull {image}   # still refused: the repository "
                      "does not exist (Hub answers DENIED+UNAUTHORIZED for missing and private repos)",)),
    # Quay answers this 401 for every repository the caller cannot see -- private ones and ones
    # that do not exist. The answer is a 401, so the credentials come first; the name is a close
    # second (the check tells them apart). On the /v2/ ping no repository is named, so there it
    # is the credentials alone
    rule("quay_not_authorized", Code.REGISTRY_UNAUTHORIZED,
         r"access to the requested resource is not authorized", 0.86,
         also=((Code.REGISTRY_NOT_FOUND, 0.84),),
         distinguish=("skopeo inspect --creds USER docker://{image}   # not found with valid "
                      "credentials: the repository or tag does not exist (quay answers 401 for both)",),
         unless=r"/v2/\\?\"?: unauthorized: access to the requested resource"),
    # Docker Hub's official images (library/NAME) are all public: an anonymous 401 for one is
    # Hub's answer for a repository that does not exist (a build stage name, a typo pulled as an
    # image), not missing credentials -- wrong credentials fail earlier, at the token endpoint
    rule("hub_library_401", Code.REGISTRY_NOT_FOUND,
         r"docker\.io/v2/library/[\w.-]{1,200}/manifests/\S{1,200}\\?\"?: (?:UNAUTHORIZED|unauthorized): "
         r"authentication required", 0.88, also=((Code.REGISTRY_UNAUTHORIZED, 0.6),),
         distinguish=("skopeo list-tags docker://docker.io/library/NAME   # an official image "
                      "lists its tags anonymously; 401 again: there is no such official image",)),
)
