"""explain by class of wording: each family of issues 10 and 15, built from the format strings
the rules cite (not from corpus texts), plus the texts whose cause is not in the text.

A class test instantiates the runtime's format string with values no corpus text has, so a rule
that only matched one pasted example fails here.
"""

from __future__ import annotations

import pytest

from pulldoctor.explain import NOTHING_RECOGNISED, explain

D = "sha256:" + "ab" * 32

CLASS_CASES = [
    # extraction: moby "failed to register layer: %v" around the extractor's errors
    ("failed to register layer: ApplyLayer exit status 1 stdout:  stderr: gzip: invalid header",
     "image.corrupt"),
    (f"failed to extract layer {D}: exit status 1: unpigz: skipping: <stdin>: corrupted -- crc32 "
     "mismatch", "image.corrupt"),
    ("failed to register layer: Error processing tar file(exit status 1): write /srv/x: no space left "
     "on device", "host.disk_full"),
    (f"failed commit on ref \"layer-{D}\": unexpected commit size 12, expected 99: failed precondition",
     "image.corrupt"),
    ("writing blob: Download config.json digest " + D + " does not match expected " + D,
     "image.corrupt"),
    (f"failed to pull and unpack image \"r.io/a:1\": failed to extract layer {D}: failed to get stream "
     "processor for application/vnd.oci.image.layer.v1.tar+zstd: no processor for media-type: "
     "unknown", "image.unsupported"),
    # Windows and OS wording (moby config.go / pull_v2_windows.go; HCS)
    ('image operating system "windows" cannot be used on this platform', "image.platform_mismatch"),
    ("a Windows version 10.0.20348-based image is incompatible with a 10.0.17763 host",
     "image.platform_mismatch"),
    ("hcs::CreateComputeSystem 4f1c: The container operating system does not match the host "
     "operating system.", "image.platform_mismatch"),
    # media types
    ('initializing source docker://q.io/a:1: unsupported docker v2s2 media type: "application/x-foo"',
     "image.unsupported"),
    ("reading manifest 2 in docker.io/a/b: manifest unknown: OCI index found, but accept header does "
     "not support OCI indexes", "image.unsupported"),
    # registry answers in go-containerregistry's shape and as status carriers (catalogue tables)
    ("GET https://r.example/v2/a/b/manifests/1: MANIFEST_UNKNOWN: manifest unknown; map[Tag:1]",
     "registry.not_found"),
    ("HEAD https://r.example/v2/a/b/manifests/1: unexpected status code 403 Forbidden (HEAD responses "
     "have no body, use GET for details)", "registry.denied"),
    ("GET https://r.example/v2/a/b/manifests/1: TOOMANYREQUESTS: slow down", "registry.rate_limited"),
    ("failed to resolve reference \"r.example/a:1\": pulling from host r.example failed with status "
     "code [manifests 1]: 503 Service Unavailable", "registry.server_error"),
    ("Error: Status 504 trying to pull repository a/b: \"gateway timeout\"", "registry.server_error"),
    ('Head "https://r.example/v2/a/manifests/1": unauthorized', "registry.unauthorized"),
    # credential helpers (docker-credential-helpers client.go; docker-py store.py)
    ("error getting credentials - err: exit status 1, out: `no usernames for r.example`",
     "registry.credential_helper"),
    ("docker.errors.DockerException: Credentials store error: StoreError('docker-credential-pass not "
     "installed or not available in PATH')", "registry.credential_helper"),
    # signature policy (containers/image signature/policy_eval_*.go)
    ("Source image rejected: Running image docker://r.example/a:1 is rejected by policy.",
     "image.policy_rejected"),
    ("copying system image from manifest list: Source image rejected: None of the signatures were "
     "accepted, reasons: signature verification failed", "image.policy_rejected"),
    # transport
    ("Get \"https://r.example/v2/a/blobs/" + D + "\": stream error: stream ID 41; PROTOCOL_ERROR; "
     "received from peer", "net.reset"),
    ("read tcp 10.1.1.1:5000->10.2.2.2:443: use of closed network connection", "net.reset"),
    # lookups failing with a local errno
    ("dial tcp: lookup r.example on [fd00::53]:53: dial udp [fd00::53]:53: socket: address family "
     "not supported by protocol", "dns.resolver_unreachable"),
    # containerd / CRI plugin configuration that does not load
    ('failed to load plugin io.containerd.grpc.v1.cri error="invalid plugin config: `mirrors` cannot '
     'be set when `config_path` is provided"', "daemon.config"),
    # references
    ('Invalid image name "r.example/a:1", unknown transport "r.example/a"', "ref.invalid"),
    # kubelet's own settings
    ('Container image "a:1" is not present with pull policy of Never', "daemon.config"),
    # Winsock errno texts (Go on Windows prints FormatMessage after the call's name)
    ("read tcp 192.168.9.4:50811->52.1.2.3:443: wsasend: An existing connection was forcibly closed "
     "by the remote host.", "net.reset"),
    ("read tcp 10.9.9.9:1->10.8.8.8:443: wsarecv: An established connection was aborted by the "
     "software in your host machine.", "net.reset"),
    ("dial tcp 10.4.4.4:443: connectex: A socket operation was attempted to an unreachable network.",
     "net.unreachable"),
    ("dial tcp: lookup r.example: The requested name is valid, but no data of the requested type was "
     "found.", "dns.nxdomain"),
    # a reporter's placeholder where Go printed an address
    ('failed to do request: Head "https://r.example/v2/a/manifests/1": dial tcp: lookup r.example on '
     "<dns server hidden>: read udp <my ip>-><dns server hidden>: i/o timeout", "dns.udp_timeout"),
    # a refusal is a refusal, whoever's address it is (the proxy reading is the runner-up)
    ('Error response from daemon: Get "https://quay.io/v2/": dial tcp 3.4.5.6:443: connect: '
     "connection refused", "net.refused"),
    # a reporter's bracketed placeholder in place of host:port
    ('RequestError: send request failed caused by: Post "https://api.ecr.eu-west-1.amazonaws.com/": '
     "dial tcp [REDACTED]: i/o timeout", "net.tcp_timeout"),
    # a proxy the paste shows set, and a dial that went direct: the pulling process lacks it
    ("$ echo $HTTPS_PROXY\nhttp://10.9.9.9:3128\n$ sudo nerdctl pull r.example/a:1\nr.example/a:1: "
     "resolving ... failed to do request: Head \"https://r.example/v2/a/manifests/1\": dial tcp "
     "203.0.113.7:443: i/o timeout", "proxy.error"),
    # moby v1 session: status 0 = no response at all, five times
    ("Error pulling image (v3) from r.example/a, Server error: Status 0 while fetching image layer "
     "(" + "cd" * 32 + ")", "net.tcp_timeout"),
    # moby < 1.10: net/http's proxy dial error
    ("Get https://index.docker.io/v1/repositories/a/b/images: http: error connecting to proxy "
     "http://10.3.3.3:3128: dial tcp 10.3.3.3:3128: i/o timeout", "proxy.error"),
    # logrus levels: a warning's error yields to the error line's
    ('level=warning msg="Error getting v2 registry: Get https://10.1.2.3/v2/: dial tcp 10.1.2.3:443: '
     'connection refused"\nlevel=error msg="filesystem layer verification failed for digest ' + D
     + '"', "image.corrupt"),
    # cloud IAM answers (Google IAM, Azure RBAC) and cloud SDK identities (aws-sdk chain, ADC)
    ('denied: Permission "artifactregistry.repositories.downloadArtifacts" denied on resource '
     '"projects/p/locations/europe-west1/repositories/r" (or it may not exist)', "registry.denied"),
    ("The client 'x' with object id 'y' does not have authorization to perform action "
     "'Microsoft.ContainerRegistry/registries/pull/read'", "registry.denied"),
    ("error getting credentials - err: exit status 1, out: `ecr: Failed to get authorization token: "
     "operation error ECR: GetAuthorizationToken, get identity: get credentials: failed to refresh "
     "cached credentials, no EC2 IMDS role found`", "registry.credential_helper"),
    ("CannotPullECRContainerError: NoCredentialProviders: no valid providers in chain",
     "registry.credential_helper"),
    ("invoking docker-credential-gcr: google: could not find default credentials.",
     "registry.credential_helper"),
    # kubelet's aggregate of credential attempts: "not found" was said to a client allowed to read
    ('Failed to pull image "r.example/a": [rpc error: code = NotFound desc = failed to pull and unpack '
     'image "r.example/a:latest": failed to resolve reference "r.example/a:latest": r.example/a:latest: '
     "not found: manifest unknown, rpc error: code = Unknown desc = failed to pull and unpack image "
     '"r.example/a:latest": failed to resolve reference "r.example/a:latest": unexpected status code '
     "401 Unauthorized]", "registry.not_found"),
    ("Error response from daemon: Get https://r.example/v2/v2/team/app/manifests/2: unauthorized: "
     "authentication required", "registry.not_found"),
    # media types (containers/image, apple/containerization) and schema 1 signatures (libtrust)
    ('Error: unsupported: "media type application/vnd.oci.image.layer.v1.tar+zstd not supported."',
     "image.unsupported"),
    ("Error: copying system image from manifest list: Unexpectedly received a manifest list instead "
     "of a manifest for a single image", "image.unsupported"),
    ('Error: reading manifest 1 in r.example/a: Unimplemented manifest MIME type "application/x-foo"',
     "image.unsupported"),
    ("Error response from daemon: invalid sign content", "image.unsupported"),
    # platform wording (docker CLI/daemon, apple/containerization)
    ("WARNING: The requested image's platform (linux/386) does not match the detected host platform "
     "(linux/arm64/v8) and no specific platform was requested", "image.platform_mismatch"),
    ('Error: unsupported: "platform linux/s390x"', "image.platform_mismatch"),
    # the warning explains the exec format error after it (not an unrelated failure)
    ("WARNING: The requested image's platform (linux/arm/v7) does not match the detected host "
     "platform (linux/amd64) and no specific platform was requested\nexec /bin/sh: exec format error",
     "image.platform_mismatch"),
    # a Windows base image on a daemon in Linux mode
    ("docker pull mcr.microsoft.com/windows/nanoserver:ltsc2022\nltsc2022: Pulling from "
     "windows/nanoserver\n9a8b: Retrying in 3 seconds\nunknown blob", "daemon.config"),
    # distribution's errcode rendering (lower case), the catalogue's tables
    ("Error: reading manifest 2 in r.example/a: manifest invalid: manifest invalid", "image.unsupported"),
    ("Error response from daemon: digest invalid: provided digest did not match uploaded content",
     "image.corrupt"),
    # "Status: NNN" and apple's "failed with response:" as status carriers
    ("auth attempt failed. Status: 401", "registry.unauthorized"),
    ("Error: HTTP request to https://r.example/v2/a/manifests/2 failed with response: 404 Not Found. "
     "Reason: Unknown", "registry.not_found"),
    # the Engine API's own status through a client library
    ("CannotPullContainerError: API error (404)", "registry.not_found"),
    # moby wordings for configs that are not images, too many layers, broken rootfs
    ('Error response from daemon: Encountered remote "application/vnd.cncf.helm.config.v1+json"(unknown) '
     "when fetching", "image.unsupported"),
    ("Error response from daemon: max depth exceeded", "image.unsupported"),
    # (before moby PR 44367 an OCI artifact pulled as an image said "invalid rootfs")
    ("Error response from daemon: invalid rootfs in image configuration", "image.unsupported"),
    # an unpack failure with no cause in it still names the unpack step's candidates
    ("failed to register layer: failed to start service utility VM (applydiff ab): container ab_svm "
     "encountered an error during CreateContainer: failure in a Windows system call", "daemon.config"),
    # containerd: size validation
    (f'failed commit on ref "layer-{D}": "layer-{D}" failed size validation: 7 != 9: failed precondition',
     "image.corrupt"),
    # moby's layer store left half-written
    ("failed to register layer: rename /var/lib/docker/image/overlay2/layerdb/tmp/write-set-9 "
     "/var/lib/docker/image/overlay2/layerdb/sha256/ab: file exists", "image.corrupt"),
    # hcsshim's layer operations
    ("re-exec error: exit status 1: output: hcsshim::ProcessBaseLayer \\\\?\\C:\\ProgramData\\docker\\x: "
     "The system cannot find the path specified.", "image.platform_mismatch"),
    # signature systems (containers/image, containerd's verifier)
    (f"Source image rejected: Signature for digest {D} does not match", "image.policy_rejected"),
    (f"image verifier bindir blocked pull of r.example/a:1 with digest {D} for reason: unsigned",
     "image.policy_rejected"),
    # credentials: containers/image's lookup, apple's keychain
    ("errors looking up credentials:\n\t* error getting helper: exit status 1",
     "registry.credential_helper"),
    ('Error: error querying keychain for r.example (cause: "queryError")', "registry.credential_helper"),
    # transport: an https socket that is not on 443 (a proxy in the path); TLS read as HTTP
    ("Get https://r.example/v2/: read tcp 10.1.1.1:5->10.2.2.2:8080: read: connection reset by peer",
     "proxy.error"),
    ('Get "https://r.example/v2/": net/http: HTTP/1.x transport connection broken: malformed HTTP '
     'response "\\x15\\x03\\x01\\x00\\x02\\x02"', "proxy.error"),
    ("read tcp 10.0.0.1:1->10.9.9.9:443: read: no route to host", "net.unreachable"),
    # apple/container: the service, names that do not resolve, headers a registry must send
    ('Error: interrupted: "XPC connection error: Connection interrupted"\nEnsure container system '
     "service has been started with `container system start`.", "daemon.config"),
    ('Error: internalError: "failed to resolve either repository hostname r.example"', "dns.nxdomain"),
    ("Error: missing required header Content-Length", "registry.server_error"),
    # Apptainer: a bare name goes to its library, not to Docker Hub; a missing host tool
    ("FATAL:   While pulling library image: error fetching image: request did not succeed: invalid "
     "container ref: team/tool (400 Bad Request)", "ref.invalid"),
    ('FATAL:   While making image from oci registry: error fetching image to cache: while building SIF '
     'from layers: while searching for mksquashfs: exec: "mksquashfs": executable file not found in '
     "$PATH", "daemon.config"),
    # podman remote: the machine's forwarded port refuses -- the service, not a registry
    ("Error: failed to connect: dial tcp 127.0.0.1:50123: connect: connection refused", "daemon.config"),
    # containerd's warning for a layer media type it does not know
    ('level=warning msg="reference for unknown type: application/vnd.example.layer.v1.tar+lz4"',
     "image.unsupported"),
    # x/net/http2 and net/http closures; plain HTTP read as a TLS record; any other x509 refusal
    ('Get "https://r.example/v2/": http: server closed idle connection', "net.reset"),
    ('Get "https://r.example/v2/": tls: oversized record received with length 20527',
     "tls.http_response_to_https"),
    ('Get "https://r.example/v2/": tls: failed to verify certificate: x509: certificate specifies an '
     "incompatible key usage", "tls.unknown_authority"),
    # minikube's kic base image: its own triage says firewall or proxy
    ("E0101 10:00:00.000000    4242 cache.go:175] Error downloading kic artifacts:  failed to download "
     "kic base image or any fallback image", "proxy.error"),
    # round 3: containers/storage's untar child (its stderr in the parentheses)
    ('Error: writing blob: adding layer with blob "' + D + '": processing tar file(there might not be '
     "enough IDs available in the namespace (requested 0:42 for /etc/gshadow): lchown /etc/gshadow: "
     "invalid argument): exit status 1", "daemon.config"),
    # ENOSPC as C's strerror prints it, Windows' ERROR_DISK_FULL, devicemapper's free-space floor
    ("FATAL:   While performing build: packer failed to pack: while unpacking tmpfs: Write failed "
     "because No space left on device", "host.disk_full"),
    ("re-exec error: exit status 1: output: write C:\\ProgramData\\docker\\tmp\\x: There is not "
     "enough space on the disk.", "host.disk_full"),
    ("failed to register layer: devmapper: Thin Pool has 1502 free data blocks which is less than "
     "minimum required 1638 free data blocks. Create more free space in thin pool or use "
     "dm.min_free_space option to change behavior", "host.disk_full"),
    # containerd's schema 1 converter, refused by default (its own sentence, capitalised)
    ('Error response from daemon: failed to get converter for "r.example/old:0.1": Pulling Schema 1 '
     "images have been deprecated and disabled by default since containerd v2.0", "image.unsupported"),
    # credential helpers named beside their failure, and the stores behind them in their own words
    ("subprocess.CalledProcessError: Command '['docker-credential-secretservice', 'get']' returned "
     "non-zero exit status 3.", "registry.credential_helper"),
    ("Error: the credentials returned for 'r.example' by the credential helper executable "
     "'docker-credential-acr-env' are invalid: there is no 'Username' field.",
     "registry.credential_helper"),
    ("error getting credentials - err: exit status 1, out: `User interaction is not allowed. (-25308)`",
     "registry.credential_helper"),
    ("err: exit status 2, out: `gpg: decryption failed: No secret key`", "registry.credential_helper"),
    # a registry's web page pasted as the image name; Hub's official images are all public
    ("Error: initializing source docker://quay.io/repository/team/app:2: reading manifest 2 in "
     "quay.io/repository/team/app: unauthorized: access to the requested resource is not authorized",
     "registry.not_found"),
    ("error building image: GET https://index.docker.io/v2/library/stage-two/manifests/latest: "
     "UNAUTHORIZED: authentication required; [map[Action:pull Class: Name:library/stage-two "
     "Type:repository]]", "registry.not_found"),
    # a proxy refusing CONNECT: Go reports its reason phrase alone, whatever its words
    ('Error response from daemon: Get "https://r.example/v2/": Access Denied By Policy',
     "proxy.error"),
    ("Error while pulling image: Get https://index.docker.io/v1/repositories/a/b/images: "
     "SiteBlocked", "proxy.error"),
    # a tool's own "not found" (a local check before it pulls) yields to the failure after it
    ("Image alpine:3 not found.\nDo you want to pull the image now? [Y/n]: y\nError: open "
     "/etc/containers/policy.json: no such file or directory", "daemon.config"),
    # producers' format strings not seen in any thread yet (containerd, moby, containers/image)
    ('failed to pull and unpack image "r.example/a:1": failed to extract layer ' + D + ": failed to "
     'get stream processor: media type "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip" '
     "is no longer supported since containerd v2.0", "image.unsupported"),
    ('Error response from daemon: no images providing the requested platform(s) found: '
     "[linux/ppc64le]", "image.platform_mismatch"),
    ('failed to resolve reference "r.example/a:1": no manifest found for platform: not found',
     "image.platform_mismatch"),
    ('Error response from daemon: cannot download image with operating system "windows" when '
     'requesting "linux"', "image.platform_mismatch"),
    ('failed to pull and unpack image "r.example/a:1": number of layers and diffIDs don\'t match: 2 != 3',
     "image.corrupt"),
    ("Error: copying system image: writing blob: layer 2 (blob " + D + ") does not match config's "
     'DiffID "' + D + '"', "image.corrupt"),
    ('failed to resolve reference "r.example/a:1": failed to authorize: no realm specified for token '
     "auth challenge", "registry.server_error"),
    ('failed to resolve reference "r.example/a:1": failed to authorize: failed to handle basic auth '
     "because missing username or secret", "registry.unauthorized"),
    ("failed to load X509 key pair: open /etc/containerd/certs.d/r.example/client.cert: no such file "
     "or directory", "daemon.config"),
    ('Failed to pull image "r.example/a:1": rpc error: code = Unavailable desc = error reading from '
     "server: EOF", "daemon.config"),
    ("Error response from daemon: failed to register layer: ApplyLayer exit status 1 stdout:  stderr: "
     "mkdir /usr/share/x: read-only file system", "daemon.config"),
    ("Error response from daemon: could not get decompression stream: unexpected EOF", "image.corrupt"),
    ("Error response from daemon: linux containers are not supported on this platform",
     "daemon.config"),
    # a registry's own policy refusing to serve the image (Harbor: PROJECTPOLICYVIOLATION, 412)
    ('Error response from daemon: unknown: current image with "Pending" status of vulnerability '
     "scanning cannot be pulled due to configured policy", "image.policy_rejected"),
    ('failed to resolve reference "h.example/p/a:1": unexpected status from HEAD request to '
     "https://h.example/v2/p/a/manifests/1: 412 Precondition Failed", "image.policy_rejected"),
    # tools: a configuration the tool refuses (Concourse registry-image)
    ("resource script '/opt/resource/in [/tmp/build/get]' failed: exit status 1\n\nstderr:\nERRO[0000] "
     'invalid payload: json: unknown field "aws_region_x"', "daemon.config"),
]


@pytest.mark.parametrize(("text", "code"), CLASS_CASES, ids=[c for _, c in CLASS_CASES])
def test_class_reading(text: str, code: str) -> None:
    causes = explain(text).causes
    assert causes, text
    assert causes[0].code == code, [c.code for c in causes]


AMBIGUOUS = [
    # the cause is not in the text: every plausible cause is listed, with a check, none alone
    # (threads established: a slow resolver, a proxy the runtime did not use; tcp_timeout is 4th)
    ('Get "https://r.example/v2/": net/http: request canceled while waiting for connection '
     "(Client.Timeout exceeded while awaiting headers)",
     {"net.request_timeout", "dns.udp_timeout", "proxy.error"}),
    # old buildah dropped every pull error for "image not known"
    ('image "r.example/a" not found in /etc/containers/registries.conf registries: image not known',
     {"registry.not_found", "image.policy_rejected", "daemon.config"}),
    # moby 1.6-1.9: the v1 fallback's 404 hides the v2 error (a private repository, typically)
    ("Error: image team/app:2 not found", {"registry.not_found", "registry.unauthorized"}),
    # containers/image: the v2 ping failed (error dropped), /v1/_ping answered
    ("Error: initializing source docker://r.example/a:1: can't talk to a V1 container registry",
     {"net.request_timeout", "net.tls_handshake_timeout", "registry.server_error"}),
    # a wrapper that kept only the cancellation (Nomad's "Failed to pull `%s`: %v")
    ("failed to initialize task \"t\" for alloc \"a\": Failed to pull `r.example/a:1`: context canceled",
     {"net.request_timeout", "net.tcp_timeout", "dns.udp_timeout"}),
    # an ECR token that expired: a stale login, or the helper's cache
    ("Error response from daemon: Get https://1.dkr.ecr.eu-west-3.amazonaws.com/v2/a/manifests/1: "
     "denied: Your authorization token has expired. Reauthenticate and try again.",
     {"registry.unauthorized", "registry.credential_helper"}),
    ("Failed to pull image \"a:1\": rpc error: code = Unknown desc = context canceled",
     {"net.request_timeout", "net.tcp_timeout", "dns.udp_timeout"}),
    ("failed to register layer: Error processing tar file(exit status 1): unexpected EOF",
     {"image.corrupt", "host.disk_full"}),
    ("failed to register layer: Error processing tar file(exit status 1): archive/tar: invalid tar "
     "header", {"image.unsupported", "image.corrupt"}),
    ('image operating system "linux" cannot be used on this platform',
     {"image.platform_mismatch", "daemon.config"}),
    # containers/storage: the untar child's input ended (its blob was verified: not the network)
    ('Error: writing blob: adding layer with blob "' + D + '": processing tar file(unexpected EOF): '
     "exit status 1", {"image.corrupt", "host.disk_full", "image.unsupported"}),
    # containers/image: the source body ended before its declared length (a short cached blob, or
    # a connection closed early)
    ('Error: copying system image: writing blob: storing blob to file "/var/tmp/s-1/4": happened '
     "during read: unexpected EOF", {"image.corrupt", "net.reset"}),
    # quay's 401 for a repository the caller cannot see, private or missing
    ("Error: reading manifest 3 in quay.io/team/tool: unauthorized: access to the requested resource "
     "is not authorized", {"registry.unauthorized", "registry.not_found"}),
]


@pytest.mark.parametrize(("text", "expected"), AMBIGUOUS, ids=[t[:40] for t, _ in AMBIGUOUS])
def test_hidden_causes_are_listed_with_the_check_that_tells_them_apart(
        text: str, expected: set[str]) -> None:
    report = explain(text)
    top3 = {c.code for c in report.causes[:3]}
    assert expected <= top3, [c.code for c in report.causes]
    assert all(c.distinguish for c in report.causes[:len(expected)]), report.causes
    assert any(n.startswith("ambiguous") or "'distinguish'" in n for n in report.notes), report.notes


def test_waiting_for_connection_never_says_the_connection_works() -> None:
    report = explain('Get "https://r.example/v2/": net/http: request canceled while waiting for '
                     "connection")
    text = " ".join(report.notes + [c.info.meaning for c in report.causes])
    assert "connection works" not in text
    assert any("no connection was made" in n for n in report.notes)


STEP_ONLY = [
    # clearly failed pulls whose wording names no cause: the failing step's candidates, low
    ('Failed to pull image "a:1": image pull failed for unknown error', None),
    ("Error response from daemon: target is unknown\n$ docker pull r.example/a:1", None),
    ('failed to pull and unpack image "r.example/a:1": failed to extract layer ' + D + ": frobnicated",
     "unpack"),
    ("failed to fetch oauth token: weird answer", "token"),
    # the updaters', app platforms', local clusters' and CI runners' wrappers (rules_apps.py), their
    # inner error gone or unrecognisable
    ('level=info msg="Unable to update container \\"/app\\": something odd. Proceeding to next."', None),
    ("Failed to download image 'registry2.example.io/v2/4f1c@sha256:9a8b' due to 'something odd'", None),
    ('TaskRunImagePullFailed: the step "build" in TaskRun "r" failed to pull the image "r.example/a:1".'
     ' The pod errored with the message: "something odd."', None),
    ("failed to deploy a stack: failed to pull images of the stack: exit status 1", None),
]


@pytest.mark.parametrize(("text", "step"), STEP_ONLY, ids=[t[:40] for t, _ in STEP_ONLY])
def test_a_pull_failure_with_no_named_cause_gets_its_steps_candidates(text: str,
                                                                      step: str | None) -> None:
    report = explain(text)
    assert len(report.causes) >= 3, text
    assert all(c.confidence <= 0.3 for c in report.causes)
    assert all(c.distinguish for c in report.causes)
    note = next(n for n in report.notes if "no wording in this text names why" in n)
    if step:
        assert f"at the {step} step" in note


NOT_PULLS = [
    'ERROR: failed to solve: failed to compute cache key: failed to calculate checksum of ref x: '
    '"/app": not found',
    'MountVolume.SetUp failed for volume "cfg" : configmap "app" not found',
    'Liveness probe failed: Get "http://10.0.0.5:8080/healthz": context deadline exceeded',
    "Back-off restarting failed container web in pod web-0",
    "Error response from daemon: No such container: web",
    'OCI runtime create failed: runc create failed: exec: "bash": executable file not found in $PATH',
    # successful pulls: pull wording, no failure
    "Using default tag: latest\nlatest: Pulling from library/nginx\na2abf6c4d29d: Pull complete\n"
    "Digest: sha256:0d17b565\nStatus: Downloaded newer image for nginx:latest",
    'Normal  Pulling  2m  kubelet  Pulling image "nginx:1.25"\nNormal  Pulled  1m  kubelet  '
    'Successfully pulled image "nginx:1.25" in 2.1s',
    "Trying to pull docker.io/library/alpine:latest...\nGetting image source signatures\n"
    "Copying blob 4abcf2066143 done\nWriting manifest to image destination\nStoring signatures",
]


@pytest.mark.parametrize("text", NOT_PULLS, ids=[t[:30] for t in NOT_PULLS])
def test_other_failures_are_not_pull_failures(text: str) -> None:
    report = explain(text)
    assert report.causes == [], [c.code for c in report.causes]
    assert NOTHING_RECOGNISED in report.notes
