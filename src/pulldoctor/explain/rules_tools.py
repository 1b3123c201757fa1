"""Rules for the own sentences of the tools around the runtimes (enroot, Jib, Bazel's rules_oci).

A registry's *status* reaches the user through each tool's carrier sentence, and those carriers are
read by the catalogue-generated status rules in :mod:`.rules_registry` (enroot's ``URL %s returned
error code: %d %s``, Bazel's ``GET returned 404 Not Found``, oras-go's ``response status code %d``,
regclient's ``[http %d]``, curl's ``The requested URL returned error: %d``). What is left here is
the tools' *own* reading of a failure, where they replace the registry's words by a suggestion or
a check of their own:

* Jib (``jib-plugins-common/.../HelpfulSuggestions.java``): ``<prefix>, perhaps you should
  <suggestion>``, one suggestion per exception class (``JibBuildRunner.java``), and the
  exceptions' own messages (``RegistryUnauthorizedException``: ``Unauthorized for %s/%s``,
  ``RegistryCredentialsNotSentException``, ``InsecureRegistryException``,
  ``CredentialHelperNotFoundException``);
* enroot (``src/docker.sh``): ``Could not parse digest information from %s`` (its jq found no
  config digest in the manifest it asked for), ``Could not parse authentication realm from %s``,
  ``Checksum mismatch: %s``; Bazel's downloader ``Checksum was %s but wanted %s``;
* rules_oci (``oci/private/pull.bzl``): ``Unable to retrieve the image manifest. This could be due
  to`` (a failed manifest download, its cause dropped), ``The registry sent a manifest with
  schemaVersion=1``, ``credential helper failed:``.
"""

from __future__ import annotations

from pulldoctor.causes import Code
from pulldoctor.explain.rulebase import DIAGNOSE, Rule, rule

_CREDS = ("docker login {registry}; docker pull {image}   # works: the tool reads other credentials "
          "(Jib: jib.from.auth / credHelper; Bazel: its credential helper; enroot: "
          "~/.config/enroot/.credentials); still refused: the name, or the account's access",)

RULES: tuple[Rule, ...] = (
    # --- Jib -------------------------------------------------------------------------------------
    # HelpfulSuggestions.forHttpStatusCodeUnauthorized / RegistryUnauthorizedException: a 401 from
    # the registry -- no or wrong credentials, or (anonymous, on Hub and quay) a name that does not
    # exist (the 401 convention)
    rule("jib_unauthorized", Code.REGISTRY_UNAUTHORIZED,
         r"perhaps you should make sure your credentials for '[^'\n]{1,300}' are set up correctly|"
         r"RegistryUnauthorizedException|\bUnauthorized for [\w.:-]{1,253}/\S{1,300}", 0.82,
         also=((Code.REGISTRY_NOT_FOUND, 0.45), (Code.REGISTRY_CREDENTIAL_HELPER, 0.35)),
         distinguish=_CREDS),
    # forHttpStatusCodeForbidden: a 403 -- the account lacks access, or the repository is missing
    rule("jib_forbidden", Code.REGISTRY_DENIED,
         r"perhaps you should make sure you have permissions for \S{1,300} and set correct credentials",
         0.8, also=((Code.REGISTRY_UNAUTHORIZED, 0.5), (Code.REGISTRY_NOT_FOUND, 0.45)),
         distinguish=_CREDS),
    # forUnknownHost (java.net.UnknownHostException): the registry's name does not resolve
    rule("jib_unknown_host", Code.DNS_NXDOMAIN,
         r"perhaps you should make sure that the registry you configured exists/is spelled properly",
         0.75, also=((Code.DNS_UDP_TIMEOUT, 0.35),),
         distinguish=("dig {host}   # NXDOMAIN: the registry name is misspelled or private to "
                      "another network",)),
    # forHttpHostConnect (Apache HttpHostConnectException): the TCP connect failed -- refused or
    # timed out, the exception covers both
    rule("jib_host_connect", Code.NET_REFUSED,
         r"perhaps you should make sure your Internet is up and that the registry you are pushing to "
         r"exists", 0.5, also=((Code.NET_TCP_TIMEOUT, 0.45), (Code.PROXY_ERROR, 0.4)),
         distinguish=("nc -vz -w 5 {host} 443   # refused or timing out here too; connects: the "
                      "JVM's proxy settings (-Dhttps.proxyHost) are missing",)),
    # InsecureRegistryException ("Failed to verify the server at %s because only secure connections
    # are allowed") / forInsecureRegistry: HTTPS failed -- an untrusted certificate, or a registry
    # that speaks plain HTTP
    rule("jib_insecure_registry", Code.TLS_UNKNOWN_AUTHORITY,
         r"Failed to verify the server at \S{1,300} because only secure connections are allowed|"
         r"InsecureRegistryException|set the configuration parameter 'allowInsecureRegistries'", 0.6,
         also=((Code.TLS_HTTP_RESPONSE_TO_HTTPS, 0.45), (Code.DAEMON_CONFIG, 0.35)),
         distinguish=("openssl s_client -connect {host}:443 -servername {host} </dev/null   # no "
                      "TLS at all: the registry is plain HTTP (allowInsecureRegistries); an unknown "
                      "issuer: import its CA into the JVM's cacerts",)),
    # RegistryCredentialsNotSentException / forCredentialsNotSent: Jib refuses to send credentials
    # over plain HTTP -- a setting (sendCredentialsOverHttp, or HTTPS for the registry) decides
    rule("jib_credentials_not_sent", Code.DAEMON_CONFIG,
         r"were not sent because the connection was over HTTP|sendCredentialsOverHttp", 0.75,
         also=((Code.REGISTRY_UNAUTHORIZED, 0.5),),
         distinguish=("curl -sv https://{host}/v2/   # the registry speaks HTTPS: point the build at "
                      "https; else -Djib.sendCredentialsOverHttp=true",)),
    # CredentialHelperNotFoundException / CredentialHelperUnhandledServerUrlException
    rule("jib_credential_helper", Code.REGISTRY_CREDENTIAL_HELPER,
         r"The system does not have docker-credential-\S{1,60} CLI|"
         r"The credential helper \([^)\n]{1,200}\) has nothing for server URL", 0.82,
         also=((Code.REGISTRY_UNAUTHORIZED, 0.4),),
         distinguish=("which docker-credential-HELPER; echo {registry} | docker-credential-HELPER get"
                      "   # the helper must be on PATH and answer for this registry",)),
    # --- enroot and Bazel ------------------------------------------------------------------------
    # enroot docker.sh: jq found no .config.digest in the manifest it was served -- a media type
    # enroot's Accept list (or version) does not read (an OCI manifest/index, a schema 1), or a
    # body that is not a manifest (an HTML page from a proxy or portal)
    rule("enroot_manifest_unparsed", Code.IMAGE_UNSUPPORTED,
         r"Could not parse digest information from \S{1,500}|Could not retrieve digest from \S{1,500}",
         0.6, also=((Code.REGISTRY_SERVER_ERROR, 0.35), (Code.PROXY_ERROR, 0.3)),
         distinguish=("skopeo inspect --raw docker://{image} | head -c 300   # the media type served: "
                      "an OCI manifest/index needs a recent enroot; HTML: a proxy answered",)),
    # enroot: the 401's WWW-Authenticate header had no realm -- not a registry's token challenge
    # (the same class as containerd's "no realm specified for token auth challenge")
    rule("enroot_no_realm", Code.REGISTRY_SERVER_ERROR,
         r"Could not parse authentication realm from \S{1,500}|Unsupported authentication method \S{1,60}",
         0.5, also=((Code.PROXY_ERROR, 0.45),),
         distinguish=("curl -sI https://{host}/v2/ | grep -i www-authenticate   # a registry answers "
                      "Bearer realm=...; anything else is a front answering for it",)),
    # enroot "Checksum mismatch: %s" (its sha256sum of the download), Bazel's downloader "Checksum
    # was %s but wanted %s": the bytes received are not the blob -- a corrupt or truncated transfer,
    # a proxy that rewrote it, or a registry serving wrong content
    rule("download_checksum_mismatch", Code.IMAGE_CORRUPT,
         r"Checksum mismatch: \S{1,80}|Checksum was \S{1,80} but wanted \S{1,80}",
         0.75, also=((Code.NET_RESET, 0.35), (Code.PROXY_ERROR, 0.3)),
         distinguish=("pulldoctor diagnose --layers {image}   # streams and verifies every blob: a "
                      "short or changing body is the path, a stable wrong one the registry",)),
    # rules_oci: the manifest download failed and the cause was dropped; the sentence itself lists
    # the suspects -- credentials, OCI media types (before Bazel 7.1), a URL rewriter blocking it
    rule("rules_oci_manifest", Code.REGISTRY_UNAUTHORIZED,
         r"Unable to retrieve the image manifest\. This could be due to", 0.5,
         also=((Code.IMAGE_UNSUPPORTED, 0.4), (Code.REGISTRY_NOT_FOUND, 0.4), (Code.DAEMON_CONFIG, 0.3)),
         distinguish=("crane manifest {image}   # the registry's own answer (401/404) with the same "
                      "credentials; works: the downloader (URL rewriter, Bazel < 7.1 and OCI media "
                      "types)", DIAGNOSE)),
    # rules_oci SCHEMA1_ERROR: a registry that needs the Docker-Distribution-API-Version header
    # answered with a schema 1 manifest
    rule("rules_oci_schema1", Code.IMAGE_UNSUPPORTED,
         r"The registry sent a manifest with schemaVersion=1", 0.65,
         also=((Code.REGISTRY_UNAUTHORIZED, 0.35),),
         distinguish=("skopeo inspect --raw docker://{image} | head -c 200   # schemaVersion 2 here: "
                      "the registry downgrades clients that do not send the API-version header",)),
    # rules_oci authn.bzl: the credential helper it runs exited non-zero
    rule("rules_oci_helper", Code.REGISTRY_CREDENTIAL_HELPER, r"credential helper failed: ?\n?STDOUT", 0.8,
         distinguish=("echo {registry} | docker-credential-HELPER get   # the helper's own error",)),
    # flyctl internal/build/imgsrc/resolver.go: every strategy (local daemon, remote registry,
    # build) failed -- "could not find image %q" -- after "failed to fetch an image or build from
    # source". The registry lookup's own error is dropped: the image missing, no access, or a
    # manifest its resolver does not read (an index with attestations from a newer buildx)
    rule("flyctl_image_not_resolved", Code.REGISTRY_NOT_FOUND,
         r"[Cc]ould not find image \\?\"[^\"\n]{1,300}", 0.55,
         also=((Code.IMAGE_UNSUPPORTED, 0.45), (Code.REGISTRY_UNAUTHORIZED, 0.4)),
         requires=r"failed to fetch an image or build from source|no strategies resulted in an image",
         distinguish=("skopeo inspect --raw docker://{image} | head -c 300   # 404/401 here: the name or "
                      "the token; an index with attestation manifests: push with --provenance=false",)),
    # Helm pkg/registry/client.go: the OCI artifact is not a chart this Helm accepts -- "could not
    # load config with mediatype %s" (a container image pulled as a chart: no Helm config),
    # "manifest does not contain a layer with mediatype %s", and its copy filter's "media type %q
    # is not allowed, found in descriptor with digest: %q" (a layer type this version refuses)
    rule("helm_not_a_chart", Code.IMAGE_UNSUPPORTED,
         r"could not load config with mediatype \S{1,120}|manifest does not contain a layer with "
         r"mediatype \S{1,120}|media type \\?\"[\w./+-]{1,120}\\?\" is not allowed, found in descriptor", 0.8,
         also=((Code.REF_INVALID, 0.4),),
         distinguish=("oras manifest fetch {image} | head -c 400   # config.mediaType must be "
                      "application/vnd.cncf.helm.config.v1+json: anything else is an image or another "
                      "artifact, not a chart (or a layer type this Helm version does not allow)",)),
)
