"""Rules for the core runtimes' own error returns that earlier tables did not read.

Round eleven read the pull paths of the runtimes kubelet talks to end to end -- containerd
(``core/remotes/docker``: resolver.go, fetcher.go, authorizer.go, auth/fetch.go, config/hosts.go;
``core/remotes/handlers.go``; ``core/unpack/unpacker.go``; ``internal/cri/server/images/
image_pull.go``, 1.6/1.7's ``pkg/cri/server/images``), CRI-O (``server/image_pull.go``,
``internal/storage/image.go``), containers/image (``docker/docker_client.go``, ``docker/errors.go``,
``docker/body_reader.go``, ``copy/*.go``, ``storage/storage_dest.go``), kubelet
(``pkg/kubelet/images``) and BuildKit (``util/resolver``, ``util/imageutil/config.go``,
``source/containerimage/pull.go``) -- and checked every wording against the tables. These are the
returns no rule named (or named wrongly), each with the source file and format string beside it.

Most are wordings the *runtime* chose for a condition the registry, a proxy in front of it, the
runtime's own configuration or the image causes; where the words cannot decide, the alternatives
carry the other readings and ``distinguish`` the check that tells them apart.
"""

from __future__ import annotations

from pulldoctor.causes import Code
from pulldoctor.explain.rulebase import DIAGNOSE, Rule, rule

_HOSTS_TOML = ("ls -l /etc/containerd/certs.d/{host}/; cat /etc/containerd/certs.d/{host}/hosts.toml   "
               "# the files the runtime's registry configuration names must exist and parse")
_LAYERS = "pulldoctor diagnose --layers {image}   # streams every blob and checks its digest and diffID"
_RAW = ("curl -sI https://{host}/v2/   # the headers the registry (or a proxy in front) answers "
        "with; compare with 'curl --noproxy \\* ...'")

RULES: tuple[Rule, ...] = (
    # --- containerd ------------------------------------------------------------------------------
    # core/unpack/unpacker.go: "wrong diff id %q calculated on extraction %q, desc %q" and
    # "number of layers and diffIDs don't match: %d != %d" -- the layer extracted does not hash to
    # what the image config says: a broken image (or a layer rewritten by a mirror in front)
    rule("containerd_wrong_diff_id", Code.IMAGE_CORRUPT,
         r"wrong diff id \"?sha256:\w{1,64}\"? calculated on extraction|"
         r"number of layers and diffIDs don't match: \d{1,4} != \d{1,4}", 0.82,
         also=((Code.REGISTRY_SERVER_ERROR, 0.35),),
         distinguish=(_LAYERS,)),
    # core/remotes/handlers.go (FetchHandler): "%v not supported" for a descriptor media type the
    # fetcher has no handler for (a foreign layer, an artifact pulled as an image)
    rule("containerd_media_type_not_supported", Code.IMAGE_UNSUPPORTED,
         r"application/vnd\.[\w.+-]{1,200} not supported", 0.72,
         also=((Code.IMAGE_CORRUPT, 0.3),),
         distinguish=("skopeo inspect --raw docker://{image}   # the mediaType this runtime has no "
                      "handler for (an artifact, not an image?)",)),
    # core/remotes/docker/resolver.go: "rejecting %d byte manifest for %s" -- a manifest over the
    # 4 MiB limit (often an HTML page or a huge index), not a missing one despite the "not found"
    rule("containerd_manifest_too_large", Code.IMAGE_UNSUPPORTED,
         r"rejecting \d{1,12} byte manifest for", 0.72,
         also=((Code.REGISTRY_SERVER_ERROR, 0.45), (Code.PROXY_ERROR, 0.35)),
         distinguish=("curl -s -o /dev/null -w '%{{size_download}} %{{content_type}}\\n' "
                      "https://{host}/v2/REPO/manifests/TAG   # size and type: a real manifest or "
                      "an HTML page",)),
    # resolver.go "no resolve hosts: %w" / fetcher.go "no pull hosts: %w": the hosts.toml (or the
    # CRI registry config) leaves no host with the resolve/pull capability for this registry
    rule("containerd_no_hosts", Code.DAEMON_CONFIG,
         r"no (?:resolve|pull) hosts: not found", 0.8,
         also=((Code.REGISTRY_NOT_FOUND, 0.3),),
         distinguish=(_HOSTS_TOML + " (capabilities = [\"pull\", \"resolve\"] on some host)",)),
    # resolver.go CheckRedirect: "stopped after 10 redirects" -- a registry/front end sending the
    # client in circles (a login portal, a misconfigured proxy, an http<->https loop)
    rule("containerd_redirect_loop", Code.REGISTRY_SERVER_ERROR,
         r"stopped after 10 redirects", 0.6,
         also=((Code.PROXY_ERROR, 0.45), (Code.DAEMON_CONFIG, 0.35)),
         distinguish=("curl -sIL --max-redirs 12 https://{host}/v2/ | grep -i -e '^HTTP' -e "
                      "'^location'   # where the loop goes",)),
    # fetcher.go "unsupported Content-Encoding algorithm: %s", resolver.go "unhandled content range
    # in response: %v" / "content range requests ignored", "%q in header not a valid digest", and
    # containers/image docker_client.go `Missing "Content-Length" header in response`,
    # body_reader.go "(after reconnecting, server did not process a Range: header": the server (or a
    # proxy/cache in front) answers HTTP a registry client cannot use
    rule("registry_http_unusable", Code.REGISTRY_SERVER_ERROR,
         r"unsupported Content-Encoding algorithm: \S{1,40}|unhandled content range in response|"
         r"content range requests ignored|\"[^\"\n]{0,200}\" in header not a valid digest|"
         r"Missing \"Content-Length\" header in response|"
         r"server did not process a Range: header", 0.6,
         also=((Code.PROXY_ERROR, 0.48), (Code.NET_RESET, 0.3)),
         distinguish=(_RAW,)),
    # auth/fetch.go "unable to decode token response: %w" (containerd, BuildKit): the token realm
    # answered something that is not JSON -- a portal/proxy page or a broken token service
    rule("token_response_not_json", Code.REGISTRY_SERVER_ERROR,
         r"unable to decode token response", 0.6,
         also=((Code.PROXY_ERROR, 0.5), (Code.REGISTRY_UNAUTHORIZED, 0.3)),
         distinguish=("curl -s 'REALM?service=SERVICE&scope=repository:REPO:pull' | head -c 300   "
                      "# the realm from 'curl -sI https://{host}/v2/': JSON with a token, or a page",)),
    # authorizer.go "server message: %s: %w" (ErrInvalidAuthorization "authorization failed"),
    # the registry's own token error code: invalid_token / unauthorized mean the credentials
    rule("containerd_server_message_auth", Code.REGISTRY_UNAUTHORIZED,
         r"server message: (?:invalid_token|invalid_request|unauthorized|invalid_client)"
         r"[^\n]{0,200}authorization failed", 0.78,
         also=((Code.REGISTRY_CREDENTIAL_HELPER, 0.35),),
         distinguish=("docker logout {registry}; docker pull {image}   # anonymous works: the "
                      "stored credentials/pull secret are bad",)),
    # internal/cri/server/images/image_pull.go ParseAuth: "invalid decoded auth: %q" -- the pull
    # secret's "auth" field decodes to no user:password pair
    rule("cri_invalid_decoded_auth", Code.REGISTRY_UNAUTHORIZED,
         r"invalid decoded auth: ", 0.78,
         also=((Code.DAEMON_CONFIG, 0.4),),
         distinguish=("kubectl get secret SECRET -o jsonpath='{{.data.\\.dockerconfigjson}}' | base64 "
                      "-d | jq -r '.auths[].auth' | base64 -d   # must be user:password",)),
    # config/hosts.go (hosts.toml loader) and the CRI plugin's endpoint parsing: "unable to load CA
    # cert %q", "unable to read CA cert %q: %w", "unable to read CERT file %q: %w", "failed to load
    # X509 key pair: %w", "unable to initialize cert pool", "unable to parse server %v", "unknown
    # capability %v", `invalid type %v for "ca"`, "parse registry endpoint %q from mirrors: %w",
    # "failed to decode hosts.toml"; image_pull.go "failed to parse image_pull_progress_timeout";
    # BuildKit util/resolver/resolver.go "failed to load keypair for %s", "failed to read %s" (its
    # buildkitd.toml registry CA/keypair files)
    rule("registry_config_files", Code.DAEMON_CONFIG,
         r"unable to (?:load|read) CA cert \"|unable to read CERT file \"|unable to initialize cert pool|"
         r"unable to parse server [^\n]{1,200}|unknown capability \w{1,40}|invalid type \S{1,60} for "
         r"\\?\"(?:ca|client)\\?\"|parse registry endpoint \\?\"[^\n]{1,300}from mirrors|"
         r"failed to decode \S{1,300}hosts\.toml|failed to parse image_pull_progress_timeout|"
         r"failed to load keypair for /\S{1,300}|failed to read /\S{1,300}\.(?:pem|crt|cert|key)\b",
         0.8, also=((Code.TLS_UNKNOWN_AUTHORITY, 0.3),),
         distinguish=(_HOSTS_TOML, "grep -n -A5 registry /etc/buildkit/buildkitd.toml   # BuildKit's "
                      "ca/keypair paths")),
    # 1.6's pkg/cri/server/image_pull.go: "cancelled pulling image %s because of no progress in %v"
    # (2.x: "cancel pulling image"); CRI-O server/image_pull.go: "Timed out on waiting up to %s for
    # image pull progress updates": no bytes for the whole window -- a stalled transfer
    rule("pull_progress_stalled", Code.NET_REQUEST_TIMEOUT,
         r"cancel(?:led)? pulling image \S{1,300} because of no progress in|"
         r"Timed out on waiting up to \S{1,20} for image pull progress updates", 0.72,
         also=((Code.NET_MTU, 0.45), (Code.PROXY_ERROR, 0.35), (Code.REGISTRY_SERVER_ERROR, 0.3)),
         distinguish=("pulldoctor diagnose --layers {image}   # which blob stalls; then "
                      "'ping -M do -s 1472 {host}' (MTU) and the proxy's idle timeouts",)),
    # --- CRI-O -----------------------------------------------------------------------------------
    # server/image_pull.go: "%w: %w" with crierrors.ErrRegistryUnavailable ("RegistryUnavailable")
    # -- CRI-O wraps only syscall.ECONNREFUSED in it; kubelet shows it as the waiting reason
    rule("crio_registry_unavailable", Code.NET_REFUSED,
         r"\bRegistryUnavailable\b", 0.7,
         also=((Code.PROXY_ERROR, 0.4), (Code.DAEMON_CONFIG, 0.35)),
         distinguish=("nc -vz -w 5 {host} 443   # refused here too: nothing listens (registry down, "
                      "wrong port, a mirror in registries.conf that is down)",)),
    # internal/storage/image.go: "resolve pulled image %s: not found in container storage (%w) or
    # artifact store (%w)" -- the pull reported success but the image is not in c/storage
    rule("crio_pulled_image_missing", Code.IMAGE_CORRUPT,
         r"resolve pulled image \S{1,300}: not found in container storage", 0.55,
         also=((Code.HOST_DISK_FULL, 0.4), (Code.DAEMON_CONFIG, 0.35)),
         distinguish=("crictl images | grep IMAGE; podman --root /var/lib/containers/storage images   "
                      "# the storage CRI-O reads (storage.conf graphroot) has it?",)),
    # --- containers/image --------------------------------------------------------------------------
    # docker/errors.go ErrTooManyRequests "too many requests to registry" (a 429 without a body)
    rule("containers_image_too_many_requests", Code.REGISTRY_RATE_LIMITED,
         r"too many requests to registry", 0.88,
         distinguish=("curl -sI -H \"Authorization: Bearer TOKEN\" https://{host}/v2/REPO/manifests/TAG "
                      "| grep -i ratelimit   # the remaining pull budget",)),
    # storage/storage_dest.go "uncompressed digest of layer %q is %q, config claims %q"
    rule("containers_image_uncompressed_digest", Code.IMAGE_CORRUPT,
         r"uncompressed digest of layer \"[^\"\n]{1,100}\" is \"[^\"\n]{1,100}\", config claims", 0.82,
         distinguish=(_LAYERS,)),
    # docker/docker_image_src.go: "reading images from docker: reference %q without a tag or digest
    # is not supported"
    rule("containers_image_no_tag", Code.REF_INVALID,
         r"without a tag or digest is not supported", 0.82,
         distinguish=("skopeo inspect docker://{image}:latest   # name a tag or a digest",)),
    # copy/copy.go ErrDecryptParamsMissing "Necessary DecryptParameters not present": an encrypted
    # image (ocicrypt) pulled without its key
    rule("containers_image_encrypted", Code.IMAGE_UNSUPPORTED,
         r"Necessary DecryptParameters not present", 0.75,
         also=((Code.DAEMON_CONFIG, 0.5),),
         distinguish=("skopeo inspect --raw docker://{image} | grep -o 'encrypted'   # encrypted "
                      "layers: pass --decryption-key (CRI-O: decryption_keys_path)",)),
    # --- kubelet -----------------------------------------------------------------------------------
    # pkg/kubelet/images/image_manager.go: "Failed to inspect image %q: %v" (ErrImageInspect, the
    # waiting reason ImageInspectError): the runtime could not read its own image store before any
    # pull; the inner error, when present, is read by the other rules and outranks this
    rule("kubelet_inspect_failed", Code.IMAGE_CORRUPT,
         r"Failed to inspect image \\?\"|\bImageInspectError\b", 0.45,
         also=((Code.HOST_DISK_FULL, 0.35), (Code.DAEMON_CONFIG, 0.3)),
         distinguish=("crictl inspecti IMAGE; journalctl -u containerd -u crio --since -1h | grep -i "
                      "image   # the store error; 'crictl rmi IMAGE' and a re-pull repair a broken entry",)),
    # --- BuildKit ----------------------------------------------------------------------------------
    # source/containerimage/pull.go "image digest %s for %s does not match expected checksum %s":
    # the registry served a manifest that is not the one the digest pins
    rule("buildkit_checksum_mismatch", Code.IMAGE_CORRUPT,
         r"image digest sha256:\w{1,64} for \S{1,300} does not match expected checksum", 0.75,
         also=((Code.REGISTRY_SERVER_ERROR, 0.4), (Code.DAEMON_CONFIG, 0.3)),
         distinguish=("skopeo inspect docker://{image} | jq -r .Digest   # the digest the registry "
                      "(or the mirror BuildKit uses) serves now", DIAGNOSE)),
    # util/imageutil/config.go: "invalid ambiguous manifest and manifest list", "mediaType in
    # manifest does not match manifest contents": a manifest whose JSON contradicts its type
    rule("buildkit_manifest_contradiction", Code.IMAGE_CORRUPT,
         r"invalid ambiguous manifest and manifest list|mediaType in manifest does not match manifest "
         r"contents", 0.7,
         also=((Code.IMAGE_UNSUPPORTED, 0.5),),
         distinguish=("skopeo inspect --raw docker://{image} | jq '{{mediaType, manifests: "
                      "(.manifests|length), layers: (.layers|length)}}'   # both or the wrong one",)),
)
