"""Rules for what the registry answered (the client's credential store: :mod:`.rules_credentials`).

Registry answers reach the user in a handful of *shapes*, one per library, and the shapes are what
these rules read (pull-internals.md 5.1):

* distribution's errcode rendering, lower-case with spaces: ``denied: <message>``;
* go-containerregistry's ``Diagnostic.String()``: ``DENIED: <message>`` (crane, ko, kaniko, pack,
  skaffold, kf; ``pkg/v1/remote/transport/error.go``), and the raw JSON body ``"code":"DENIED"``;
* an HTTP status in a carrier sentence: ``unexpected status code 401 Unauthorized`` (go-
  containerregistry), ``unexpected status from HEAD request to <url>: 403 Forbidden`` and
  ``pulling from host <h> failed with status code [...]: 500`` (containerd), ``invalid status code
  from registry 403`` / ``StatusCode: 502`` / ``received unexpected HTTP status: 500`` (containers/
  image, distribution's client), ``HTTP code 401`` / ``Error: Status 502 trying to pull repository``
  (moby's v1 registry session), ``expected status {200} but got 401`` (Charliecloud).

The code and status rules are generated from the catalogue's ``registry_codes`` and
``http_statuses`` (the one source of truth), so a code added there is read here without a new rule.
An Engine API status (``(HTTP code 500)``, docker-py's ``500 Server Error for http+docker://``,
docker-java's ``Status 500: {"message"``) is the daemon reporting *any* pull error: never read as
the registry's.
"""

from __future__ import annotations

import re

from pulldoctor.causes import CATALOGUE, Code
from pulldoctor.explain.rulebase import DIAGNOSE, RUNTIME_LOG, Rule, rule

# --- generated from the catalogue ------------------------------------------------------------

_STATUS_CARRIERS = (
    r"(?:unexpected status code (?:https?://\S{1,2048}: )?|unexpected status from \w{1,8} request to \S{1,2048}: |"
    r"failed with status code \[[^\]\n]{0,80}\]: |invalid status code from registry |StatusCode: |"
    r"received unexpected HTTP status: |(?<!\()HTTP code:? |Error: Status (?=\d{3} trying to pull)|"
    r"expected status \{\d{3}\} but got |\[HTTP |failed to fetch digest: |error parsing HTTP |"
    r"[Ss]tatus: (?=\d{3}\b)|failed with response: |Server error: (?:Status )?|"
    # the tools around the runtimes: oras-go (Helm, Flux) "%s %q: response status code %d: %s";
    # enroot "URL %s returned error code: %d %s"; Bazel's downloader "GET returned %d %s"; regclient
    # "%w [http %d]"; curl (22) "The requested URL returned error: %d"
    r"response status code |returned error code: |\b(?:GET|HEAD) returned |\[http (?=\d{3}\])|"
    r"The requested URL returned error: )"
)
_NAME_UNKNOWN_BUT_401 = (Code.REGISTRY_NOT_FOUND, 0.45)
"""Docker Hub, quay and nvcr answer 401 for a repository that does not exist when the client is
anonymous (tests/corpus/README.md, the 401 convention): the name is always the other suspect."""
_SILENT_HELPER = (Code.REGISTRY_CREDENTIAL_HELPER, 0.35)
"""A 401 that says no credentials were sent: a credential helper that failed quietly leaves the
client anonymous (the lab's credential-helper-missing-anonymous scenario, real docker)."""
_INCIDENT = (Code.REGISTRY_SERVER_ERROR, 0.3)
"""A registry (or its token service) in an incident answers 401/404 for what exists: the status is
the registry's, the reason may not be the caller's (Hub and quay outages answered both)."""
_ALSO_401 = (_NAME_UNKNOWN_BUT_401, _SILENT_HELPER, _INCIDENT)
_ALSO_403 = ((Code.REGISTRY_UNAUTHORIZED, 0.5), (Code.REGISTRY_NOT_FOUND, 0.45),
             (Code.REGISTRY_CREDENTIAL_HELPER, 0.35))
"""A 403: credentials that are stale or for another account (a fresh login answers), a
repository that does not exist (registries answer 403 for it too, the catalogue's definition), or
a credential helper that handed over an expired token (ECR's and GAR's DENIED for a 12 h/1 h token
the helper cached)."""
_CHECK_403 = ("docker logout {registry}; docker login {registry}; docker pull {image}   # works now: "
              "the stored credentials were stale or another account's; still denied: the account "
              "lacks access, or the repository does not exist",
              "grep -E 'credsStore|credHelpers' ~/.docker/config.json   # a helper answers for this "
              "registry: run it by hand (echo {registry} | docker-credential-NAME get)")
_NOT_FOUND_CHECKS = (
    "skopeo list-tags docker://{registry_repo}   # the tag is not listed: the name or tag is wrong "
    "(typo, never pushed, deleted); listed: the registry (or a mirror in front) fails to serve it",
    "curl -s https://www.dockerstatus.com/ -o /dev/null -w '%{{http_code}}'; retry in a few minutes   "
    "# a tag that exists and 404s now: a registry incident")
_NOT_THE_REGISTRYS = (r"no match for platform|no matching manifest|not found locally|"
                      r"executable file not found|does not exist or no pull access|"
                      r"credentials not found in native keychain|OCI index found|"
                      r"failed to compute cache key|failed to calculate checksum of ref|"
                      r"failed to unpack image[^\n]{0,200}?content digest|image not known|"
                      r"credential helper|signatures for|credentials: not found|"
                      r"Error: image \S{1,300} not found|ctr: content digest sha256:\w{1,64}: not found"
                      # containerd's own "not found"s for a config (hosts.toml) or size limit (rules_cri.py)
                      r"|no (?:resolve|pull) hosts: not found|rejecting \d{1,12} byte manifest")
"""Wordings with "not found" in them that other rules read (a platform, a local file, a helper)."""
_CHECK_NAME = ("skopeo list-tags docker://{registry_repo}   # lists tags with valid credentials: "
               "then they were missing; 'not found' or 401 again: the name is wrong")


def _status_rules() -> tuple[Rule, ...]:
    out = []
    for ci in CATALOGUE.values():
        if not ci.http_statuses:
            continue
        statuses = "|".join(str(s) for s in ci.http_statuses)
        also, check = ((_ALSO_401, (_CHECK_NAME,)) if 401 in ci.http_statuses else
                       (_ALSO_403, _CHECK_403) if 403 in ci.http_statuses else ((), ()))
        out.append(rule(f"status_{ci.code}", ci.code, _STATUS_CARRIERS + r"(?:" + statuses + r")\b",
                        0.78, also=also, distinguish=check,
                        needles=("status", "Status", "HTTP code", "[HTTP", "fetch digest", "error parsing HTTP ",
                                 "failed with response: ", "Server error: ", "returned ", "[http ")))
    return tuple(out)


def _registry_code_rules() -> tuple[Rule, ...]:
    """``DENIED: msg`` (go-containerregistry), ``"code":"DENIED"`` (the body) and distribution's own
    rendering ``manifest invalid: msg`` (errcode.ErrorCode.Error(): the code lower-cased, ``_`` as a
    space) per cause. ``unknown:`` says nothing and ``denied:``/``unauthorized:``/``toomanyrequests``
    have hand-written rules with their alternatives."""
    out = []
    for ci in CATALOGUE.values():
        codes = [c for c in ci.registry_codes if c != "UNKNOWN"]
        if not codes:
            continue
        lower = [c.lower().replace("_", " ") for c in codes
                 if c not in ("DENIED", "UNAUTHORIZED", "TOOMANYREQUESTS")]
        alt = "|".join(codes + lower)
        pattern = (r"(?<![\w-])(?:" + alt + r"): |\"code\": ?\"(?:" + "|".join(ci.registry_codes)
                   + r")\"")
        out.append(rule(f"registry_code_{ci.code}", ci.code, pattern, 0.8,
                        needles=(*codes, *lower, '"code":')))
    return tuple(out)


# --- hand-written: wording the tables above cannot carry ---------------------------------------

_ANSWERS: tuple[Rule, ...] = (
    rule("rate_limited", Code.REGISTRY_RATE_LIMITED,
         r"toomanyrequests[^\n]{0,120}|Too Many Requests|[Ss]tatus:? 429\b|\b429 Too|pull rate limit", 0.95),
    # docker's own sentence names both readings: "repository does not exist or may require
    # 'docker login'" -- the name, and the missing login, are the runners-up
    rule("pull_access_denied", Code.REGISTRY_DENIED,
         r"pull access denied[^\n]{0,200}|not found: does not exist or no pull access|"
         r"repository does not exist or may require '?docker login", 0.75,
         also=((Code.REGISTRY_NOT_FOUND, 0.55), (Code.REGISTRY_UNAUTHORIZED, 0.5)),
         distinguish=("docker login {registry} && docker pull {image}   # still denied with valid "
                      "credentials: the repository does not exist (Hub answers both the same way)",
                      DIAGNOSE)),
    rule("denied", Code.REGISTRY_DENIED,
         r"denied: [^\n]{0,160}|requested access to the resource is denied|\b403 Forbidden|"
         r"status(?: code)?:? 403\b|HTTP 403 response|: denied(?m:[.\"]{0,2}\s{0,4}$)|insufficient_scope|"
         r"\b403 \(Forbidden\)|invalid status code from registry 403", 0.8,
         also=_ALSO_403, distinguish=_CHECK_403, unless=r"Authorization Token has expired|authorization token has expired|pull access denied"),
    # the registry's authentication answer cannot be used: a WWW-Authenticate without a realm or
    # with a scheme nobody speaks, a token body that is not JSON, a digest header that is not a
    # digest -- a front or proxy answering for the registry, or a registry that is not one.
    # containerd "no realm specified for token auth challenge", "failed to find supported auth
    # scheme", "invalid content digest in response"; containers/image "missing realm in bearer
    # auth challenge", "decoding bearer token (last URL %q, body start %q)"
    rule("auth_challenge_unusable", Code.REGISTRY_SERVER_ERROR,
         r"no realm specified for token auth challenge|missing realm in bearer auth challenge|"
         r"invalid token auth challenge realm|failed to find supported auth scheme|"
         r"decoding bearer token|invalid content digest in response", 0.55,
         also=((Code.PROXY_ERROR, 0.45),),
         distinguish=("curl -sI https://{host}/v2/ | grep -i -e www-authenticate -e docker-"
                      "distribution   # a registry answers 401 with a Bearer realm; anything else "
                      "is a front or proxy answering for it",)),
    # containerd's basic-auth handler with nothing to send: the registry asks for a login the
    # client does not have (no login, or a helper that gave nothing)
    rule("basic_auth_without_credentials", Code.REGISTRY_UNAUTHORIZED,
         r"failed to handle basic auth because missing username or secret", 0.8,
         also=((Code.REGISTRY_CREDENTIAL_HELPER, 0.45),),
         distinguish=("docker login {registry}   # or the pull secret / hosts.toml auth for "
                      "{registry}",)),
    # distribution's client ErrNoToken: the token endpoint answered 200 with no token in it -- not
    # the token service (a portal, a proxy, a misrouted realm) or a broken one
    rule("token_without_token", Code.REGISTRY_SERVER_ERROR,
         r"authorization server did not include a token in the response", 0.5,
         also=((Code.PROXY_ERROR, 0.42), (Code.REGISTRY_UNAUTHORIZED, 0.4)),
         distinguish=("curl -s 'REALM?service=SERVICE&scope=repository:REPO:pull' | head -c 300   "
                      "# the realm from 'curl -sI https://{host}/v2/' must answer JSON with a token",)),
    rule("token_expired", Code.REGISTRY_UNAUTHORIZED,
         r"Authorization Token has expired|[Aa]uthorization token has expired|token (?:has )?expired", 0.86,
         # ECR sends it under the DENIED code (a 403: distribution renders "denied: ..."), and the
         # stale token is often a credential helper's cache rather than a 'docker login'
         also=((Code.REGISTRY_CREDENTIAL_HELPER, 0.45), (Code.REGISTRY_DENIED, 0.4)),
         distinguish=("docker logout {registry}; docker login {registry}   # a fresh login works: "
                      "the stored token had expired",)),
    # a 401 that names the credentials (wrong password, none sent): the credentials
    rule("unauthorized_credentials", Code.REGISTRY_UNAUTHORIZED,
         r"no basic auth credentials?|incorrect username or password|invalid username/password", 0.86,
         distinguish=("docker login {registry} && docker pull {image}   # works: no (or stale) login "
                      "for this registry in the config the pulling user reads",)),
    # a bare 401: registries answer it for a repository the caller may not see *or* that does not
    # exist (Hub, Harbor, GitLab and quay do, anonymously), so the name is always the runner-up
    rule("unauthorized", Code.REGISTRY_UNAUTHORIZED,
         r"unauthorized: [^\n]{0,160}|authentication required|\b401 Unauthorized|"
         r"status(?: code)?:? 401\b|"
         r"HTTP 401 response|401 Client Error|\b401 unauthorized|invalid status code from registry 401",
         0.85, also=_ALSO_401, distinguish=(_CHECK_NAME, _NOT_FOUND_CHECKS[1]),
         # a challenge with error="insufficient_scope" (RFC 6750): the token was accepted and does
         # not cover this repository -- the registry's DENIED reading, not bad credentials
         unless=r"insufficient_scope"),
    # a 401 from the *token endpoint* (containerd "failed to fetch oauth|anonymous token: unexpected
    # status from GET request to <realm>?...: 401", go-containerregistry "GET <realm>?scope=...:
    # unexpected status code 401"): token services issue a token for a repository that does not
    # exist (the registry refuses it later), so this 401 is about the credentials sent -- or the
    # token service itself failing; the name is not the runner-up here
    rule("token_endpoint_401", Code.REGISTRY_UNAUTHORIZED,
         r"(?:oauth|anonymous) token: [^\n]{0,400}?\b401\b|"
         r"/(?:token|oauth2/token|jwt/auth|service/token|auth)\?[^\s\"]{0,400}\\?\"?: "
         r"(?:unexpected status code )?401\b", 0.87,
         also=((Code.REGISTRY_SERVER_ERROR, 0.5),),
         distinguish=("docker logout {registry}; docker pull {image}   # works anonymously: the stored "
                      "credentials are wrong; still 401: the token service is failing (status page) "
                      "or the registry allows no anonymous pulls",)),
    # the registry's bare code word after the URL it answered for (containerd and the Engine print
    # the errcode alone when its message is empty): Head "https://ghcr.io/v2/...": unauthorized
    rule("bare_unauthorized", Code.REGISTRY_UNAUTHORIZED,
         r"https?://[^\s\"]{1,2048}\"?: unauthorized\b(?!:)", 0.82,
         also=(_NAME_UNKNOWN_BUT_401,), distinguish=(_CHECK_NAME,)),
    # a platform's own wrapper that merges "no such image" and "not allowed" into one sentence
    # (SageMaker's "Cannot pull algorithm container. Either the image does not exist or its
    # permissions are incorrect", like docker's "repository does not exist or may require 'docker
    # login'"): the text cannot tell which; the name is the first thing to check
    rule("image_missing_or_forbidden", Code.REGISTRY_NOT_FOUND,
         r"(?:image|repository) does not exist or (?:its )?permissions? (?:are|is) incorrect|"
         r"Cannot pull algorithm container", 0.6,
         also=((Code.REGISTRY_DENIED, 0.55), (Code.REGISTRY_UNAUTHORIZED, 0.45)),
         distinguish=(_CHECK_NAME,)),
    rule("not_found", Code.REGISTRY_NOT_FOUND,
         r"manifest unknown|manifest for \S{1,300} not found|repository \S{1,300} not found|name unknown|"
         r"blob unknown|could not fetch content descriptor[^\n]{0,200}|\b404 Not Found|\S: not found\b|"
         r"invalid status code from registry 404|(?:unknown|error|errors): Not Found\b|"
         r"was deleted or has expired|Tag \S{1,128} not found in repository",
         # GHCR, GitLab, Harbor, ACR and quay answer a repository the caller may not see as unknown
         # (404/NAME_UNKNOWN) rather than 401/403, so missing or wrong credentials stay a candidate;
         # a tag that exists and 404s is an incident or a replica lagging behind
         0.85, also=((Code.REGISTRY_UNAUTHORIZED, 0.35), _INCIDENT), distinguish=(*_NOT_FOUND_CHECKS, _CHECK_NAME), unless=_NOT_THE_REGISTRYS),
    # a manifest request answered 404 with no error code shown: the name may be wrong, or the
    # manifest exists in a media type the client's Accept header did not list (GHCR answers 404
    # "OCI index found, but Accept header does not support OCI indexes"; tools that fetch
    # manifests themselves -- enroot, Helm's and CI scripts' own clients -- often ask only for
    # Docker schema 2). The registry's own words (MANIFEST_UNKNOWN, NAME_UNKNOWN) settle it
    # ... and when it says so: GHCR "OCI index found, but Accept header does not support OCI
    # indexes", Harbor "OCI manifest found, but accept header does not support OCI manifests"
    # (under MANIFEST_UNKNOWN / 404): the name is right, the client's media types are not
    rule("manifest_type_not_accepted", Code.IMAGE_UNSUPPORTED,
         r"(?i:(?:OCI (?:index|manifest)|manifest list|image index) found, but accept header does not "
         r"support)", 0.92,
         distinguish=("skopeo inspect --raw docker://{image} | head -c 300   # its mediaType is one "
                      "the failing client did not put in Accept: upgrade the client",)),
    rule("manifest_404_status_only", Code.IMAGE_UNSUPPORTED,
         r"/manifests/[^\s\"]{1,300}\"?:? (?:returned (?:error code: |status )?)?404\b", 0.4,
         distinguish=("skopeo inspect --raw docker://{image} | head -c 300   # the manifest exists: "
                      "its mediaType (an OCI index?) is one the failing client does not accept",),
         unless=r"manifest unknown|MANIFEST_UNKNOWN|name unknown|NAME_UNKNOWN|[Nn]ot [Ff]ound: "),
    # a bare "not found" without the registry's words (a tool's own sentence, a local lookup) says
    # less than a 404 or "manifest unknown": below any wording that names a cause
    rule("bare_not_found", Code.REGISTRY_NOT_FOUND, r"\bnot found\b", 0.6,
         also=((Code.REGISTRY_UNAUTHORIZED, 0.35), _INCIDENT), distinguish=_NOT_FOUND_CHECKS,
         unless=_NOT_THE_REGISTRYS),
    # kubelet tries each pull secret in turn and reports them all ("[err1, err2]", apimachinery's
    # Aggregate): a registry tells "manifest unknown" only to a client allowed to read the
    # repository, so beside it the "unauthorized" is the anonymous attempt -- the tag is missing
    rule("aggregate_unknown_beside_unauthorized", Code.REGISTRY_NOT_FOUND,
         r"manifest unknown|MANIFEST_UNKNOWN|manifest for \S{1,300} not found", 0.88,
         requires=r"\[rpc error: code = [^\n]{0,2000}(?:unauthorized|UNAUTHORIZED|401)"),
    # moby 1.6-1.9 fell back to the v1 protocol when the v2 pull failed (auth, network...) and
    # printed the v1 registry's 404 (graph/pull_v1.go "Error: image %s not found"): the v2 error,
    # often a private repository pulled without login, is hidden behind it
    rule("v1_fallback_not_found", Code.REGISTRY_NOT_FOUND, r"Error: image \S{1,300} not found", 0.6,
         also=((Code.REGISTRY_UNAUTHORIZED, 0.5),),
         distinguish=("docker login {registry} && docker pull {image}   # works logged in: a private "
                      "repository", "dockerd --debug   # the log shows the v2 error before the "
                      "v1 fallback")),
    # the registry's own path segments inside the repository name (a registry URL or "v2/" pasted
    # into the image name): the repository does not exist under that name
    # or a registry's *web* address pasted as the image name (quay.io/repository/ORG/NAME is quay's
    # page, hub.docker.com/r/ Docker Hub's): a link is not the reference, so no repository matches
    rule("doubled_api_path", Code.REGISTRY_NOT_FOUND,
         r"/v2/v2/|/manifests/[^\s\"/]{1,128}/manifests/|"
         r"(?<!https://)(?<!http://)(?:quay\.io/repository|hub\.docker\.com/(?:r|_))/[\w.-]{1,200}", 0.88,
         needles=("/v2/v2/", "/manifests/", "quay.io/repository", "hub.docker.com/")),
    # graph-driver dockerd prints "Pulling from" only after the tag's manifest was fetched, and the
    # containerd store after it resolved: a "manifest unknown" after it is a per-platform manifest
    # the index names and the registry does not hold (a cleanup job deleted it)
    rule("dangling_index_child", Code.IMAGE_CORRUPT, r"Pulling from [^\n]{1,300}\n(?:[^\n]{0,200}\n){0,6}"
         r"[^\n]{0,200}manifest unknown", 0.6,
         distinguish=("skopeo inspect --raw docker://{image}   # the index resolves; then skopeo "
                      "inspect --raw docker://{image}@CHILD_DIGEST answers 404: the registry lost "
                      "a manifest the index still names",)),
    # containerd fetched a manifest *by the digest the tag resolved to* and got 404: the tag exists,
    # the content it points at is not served (an index child deleted, a registry/mirror that does
    # not serve manifests by digest)
    rule("resolved_manifest_missing", Code.IMAGE_CORRUPT,
         r"content at \S{1,2048}/manifests/sha256:[0-9a-f]{64} not found", 0.6,
         also=((Code.REGISTRY_SERVER_ERROR, 0.45),),
         distinguish=("skopeo inspect --raw docker://{image}   # the tag resolves; then the digest it "
                      "names answers 404: the registry lost (or does not serve) that manifest",)),
    # a blob the manifest names is missing: the registry lost content it still references
    # (distribution's BLOB_UNKNOWN is the catalogue's image.corrupt), not a wrong name. containerd:
    # "content at %v not found" for blobs; the Engine: "blob unknown to registry"; distribution's
    # client ErrBlobUnknown: "unknown blob" (moby's config fetch, also after a redirect)
    rule("blob_missing", Code.IMAGE_CORRUPT,
         r"content at \S{1,2048}/blobs/\S{1,300} not found|/blobs/sha256:[0-9a-f]{6,64}\"?: not found|"
         r"blob unknown(?: to registry)?|unknown blob", 0.87,
         also=((Code.REGISTRY_NOT_FOUND, 0.5),),
         distinguish=("skopeo inspect --raw docker://{image}   # the manifest resolves, one of its "
                      "blobs 404s: the registry (or a mirror/cache) lost content; re-push the image",)),
    # distribution's client UnexpectedHTTPResponseError: "error parsing HTTP %d response body: %s:
    # %q" -- the body is not the registry API's JSON. An HTML page (invalid character '<') is a
    # front, portal or proxy answering instead of the registry
    rule("non_registry_body", Code.PROXY_ERROR,
         r"error parsing HTTP \d{3} response body: invalid character '<'", 0.45,
         also=((Code.REGISTRY_SERVER_ERROR, 0.4),),
         distinguish=("curl -s https://{host}/v2/ | head -c 300   # HTML, not JSON: a proxy, portal "
                      "or load balancer answers for the registry",)),
    # containerd remotes/handlers.go: "unable to fetch descriptor (%s) which reports content size of
    # zero" -- the manifest the registry (or a proxy/mirror in front) served names a blob of size 0
    rule("zero_size_descriptor", Code.REGISTRY_SERVER_ERROR,
         r"which reports content size of zero", 0.55,
         also=((Code.IMAGE_CORRUPT, 0.5), (Code.PROXY_ERROR, 0.35)),
         distinguish=("skopeo inspect --raw docker://{image}   # a \"size\": 0 in the manifest: the "
                      "registry or the mirror in front rewrote it",)),
    # apple/containerization RegistryClient+Fetch: "missing required header Docker-Content-Digest"
    # (Content-Type, Content-Length): the server answering is not a conformant registry -- or a
    # proxy/mirror in front strips the headers
    rule("registry_headers_missing", Code.REGISTRY_SERVER_ERROR,
         r"missing required header (?:Docker-Content-Digest|Content-Type|Content-Length)", 0.6,
         also=((Code.PROXY_ERROR, 0.45), (Code.IMAGE_UNSUPPORTED, 0.35)),
         distinguish=("curl -sI -H 'Accept: application/vnd.oci.image.index.v1+json' "
                      "https://{host}/v2/REPO/manifests/TAG   # the headers this client needs",)),
    rule("server_error", Code.REGISTRY_SERVER_ERROR,
         r"(?<!HTTP code )\b5\d\d (?:Internal Server Error|Bad Gateway|Service Unavailable|Gateway Time-?out)|"
         r"\b5\d\d \((?:Internal Server Error|Bad Gateway|Service Unavailable)\)|"
         r"StatusCode: 5\d\d|unavailable: service unavailable|HTTP 5\d\d response|"
         r"unexpected HTTP status: 5\d\d", 0.85,
         # a 502/503/504 is written by whichever HTTP hop failed: the registry's front, or a proxy
         # on the path that could not reach it (a missing NO_PROXY entry for an internal registry)
         also=((Code.PROXY_ERROR, 0.4),),
         distinguish=("curl -sv https://{host}/v2/ 2>&1 | grep -i -e '^< server' -e '^< via'   # "
                      "who answered the 5xx: the registry's front or a proxy",
                      "env | grep -i -e _proxy -e no_proxy   # an internal registry missing from NO_PROXY"),
         needles=("Internal Server Error", "Bad Gateway", "Service Unavailable", "Gateway Time",
                  "StatusCode: 5", "service unavailable", "response", "HTTP status: 5")),
    rule("ping_bad_gateway", Code.REGISTRY_SERVER_ERROR,
         r"(?:pinging (?:docker|container) registry|ping attempt failed)[^\n]{0,300}?\b50[234]\b", 0.8,
         also=((Code.PROXY_ERROR, 0.45),),
         distinguish=("env | grep -i -e proxy -e no_proxy   # a proxy that cannot reach an internal "
                      "registry answers 502: add the registry to NO_PROXY",)),
    # the Engine API's own 500 (docker-py "500 Server Error for http+docker://", docker-java
    # "Status 500: {", Docker.DotNet "status code=InternalServerError", go-dockerclient "API error
    # (500)"): the daemon maps not-found, auth and invalid-reference errors to 4xx, so a 500 is a
    # failure it could not classify -- an upstream 5xx or a network error. Any inner wording wins
    rule("engine_api_500", Code.REGISTRY_SERVER_ERROR,
         r"\b5\d\d Server Error|Exception: Status 5\d\d\b|status code=InternalServerError|"
         r"API error \(5\d\d\)", 0.45,
         also=((Code.NET_REQUEST_TIMEOUT, 0.3), (Code.NET_TCP_TIMEOUT, 0.28)),
         distinguish=(RUNTIME_LOG,)),
    # the Engine API's own 4xx for a pull (go-dockerclient "API error (404)", docker-py "404 Client
    # Error for http+docker://", docker-java "NotFoundException: Status 404"): the daemon maps
    # not-found to 404, unauthorized to 401, forbidden to 403 (moby errdefs). Read when the
    # registry's own words were dropped; any inner wording outranks it
    rule("engine_api_404", Code.REGISTRY_NOT_FOUND,
         r"API error \(404\)|\b404 Client Error for http\+docker|NotFoundException: Status 404", 0.6,
         also=((Code.REGISTRY_DENIED, 0.4),),
         distinguish=("docker pull {image}   # on the host: the daemon's full answer (not found, or "
                      "pull access denied)",)),
    rule("engine_api_401", Code.REGISTRY_UNAUTHORIZED,
         r"API error \(401\)|\b401 Client Error for http\+docker|UnauthorizedException: Status 401",
         0.6),
    rule("engine_api_403", Code.REGISTRY_DENIED,
         r"API error \(403\)|\b403 Client Error for http\+docker|Status 403: \{", 0.6),
    # 400 has no registry meaning (distribution never sends it for a pull): the server answering is
    # not speaking the registry API as this client does -- a mirror or pull-through proxy that
    # mangles the request (containerd's ?ns= parameter, a rewritten path), or a broken front
    rule("status_400", Code.DAEMON_CONFIG,
         r"(?:unexpected status code (?:https?://\S{1,2048}: )?|unexpected status from \w{1,8} request to "
         r"\S{1,2048}: |StatusCode: |received unexpected HTTP status: |invalid status code from registry )"
         r"400\b", 0.5, also=((Code.REGISTRY_SERVER_ERROR, 0.45),),
         needles=("status", "Status"),
         distinguish=("grep -rn server /etc/containerd/certs.d/*/hosts.toml; docker info | grep -A3 "
                      "Mirrors   # the mirror or proxy answering 400; pull once from the registry "
                      "itself",)),
    # golang/go net/http transport.go (dialConn): a proxy that refuses CONNECT is reported as
    # errors.New(<the status text without its code>) -- so "<url>: Bad Request" is the proxy's answer
    # The reason phrase is the proxy's own (any words: "AuthorizedOnly", "Access Denied"), and Go's
    # errors are lower-case: capitalised words alone after the URL, to the end of the line, are it
    rule("proxy_bare_status", Code.PROXY_ERROR,
         r"https?://[^\s\"]{1,500}\\?\"?: (?:Internal Server Error|Bad Gateway|Service Unavailable|"
         r"Gateway Timeout|Forbidden|Bad Request|Method Not Allowed|Request Timeout)\b|"
         r"https?: ?/{1,2}[^\s\"]{1,500}\\?\"?: (?!EOF\b)[A-Z][A-Za-z]{1,30}(?: [A-Z][A-Za-z]{1,30}){0,4}"
         r"(?m:[.\"'*]{0,3}\s{0,4}$)", 0.75,
         needles=("Internal Server Error", "Bad Gateway", "Service Unavailable", "Gateway Timeout",
                  "Forbidden", "Bad Request", "Method Not Allowed", "Request Timeout", "http"),
         distinguish=("a bare status text after the URL (no code) is Go's report of a proxy refusing "
                      "CONNECT: env | grep -i proxy; curl -v -x \"$HTTPS_PROXY\" https://{host}/v2/",)),
)

RULES: tuple[Rule, ...] = _ANSWERS + _registry_code_rules() + _status_rules()

MIRROR_HOST = re.compile(r"reading manifest \S{1,300} in (?P<h>[\w.-]{1,253}(?::\d{1,5})?)/")
"""containers/image names the host it read the manifest from; a mirror when it is not the image's."""
