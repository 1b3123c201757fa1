"""Rules for the image itself: platform and OS, manifest and layer media types, content that does
not decode or verify, and the signature policy that refuses it.

Where each wording is made (search the repositories for the quoted format string):

* moby ``daemon/internal/distribution/config.go``: ``image operating system %q cannot be used on
  this platform``; ``pull_v2_windows.go``: ``a Windows version %s-based image is incompatible with
  a %s host``; ``pull_v2.go``: ``no matching manifest for %s in the manifest list entries`` (older
  engines on Windows print the OS as ``unknown``); ``errors.go``: ``unsupported media type %s``.
* moby's layer store: ``failed to register layer: %v`` around the extractor's error, which older
  engines wrap as ``ApplyLayer %s stdout: %s stderr: %s``, ``Error processing tar file(%v): %s`` or
  ``re-exec error: %v: output: %s`` (``pkg/chrootarchive``).
* containerd: ``failed to extract layer %s: %w`` (``pkg/rootfs``), ``failed to extract layer (%s
  %s) to %s as %q: %w`` (``core/unpack``), ``mount callback failed on %s: %w``, ``failed to get
  stream processor for %s: %w`` + ``no processor for media-type``, ``mismatched image rootfs and
  manifest layers`` (``client/image.go``), ``failed to read expected number of bytes: %w``
  (``core/content/helpers.go``), ``no signatures`` (the schema1 converter), ``failed to get
  converter for %q`` (the schema 1 converter refused: ``Pulling Schema 1 images have been
  deprecated``).
* containers/image: ``unsupported docker v2s2 media type: %q`` (``manifest/manifest.go``),
  ``Download config.json digest %s does not match expected %s``, ``Digest did not match``,
  ``Source image rejected: %w`` (``copy/single.go``) around the policy's own texts (``signature/
  policy_eval_*.go``): ``Running image %s is rejected by policy.``, ``A signature was required,
  but no signature exists``, ``None of the signatures were accepted, reasons: ...``.
* Windows' HCS (passed through by hcsshim): ``The container operating system does not match the
  host operating system`` and ``hcsshim::ImportLayer failed in Win32``.
"""

from __future__ import annotations

from pulldoctor.causes import Code
from pulldoctor.explain.rulebase import EXTRACTING, Rule, rule

_OS_MODE = ("docker version --format '{{{{.Server.Os}}}}'   # the daemon's OS: Docker Desktop switches "
            "between Linux and Windows containers; a Windows Server host or a Windows node cannot")
_MEDIA_TYPES = ("skopeo inspect --raw docker://{image} | grep -o '\"mediaType\": *\"[^\"]*\"'   "
                "# the media types this runtime refused (zstd layers need Docker >= 23 / "
                "containerd >= 1.5; schema1 is gone from current runtimes)")
_PULL_AGAIN = ("docker pull {image} (again, after removing the partial content)   # fails the same "
               "way every time: the stored layer is bad; works now: it was the transfer")
_WINDOWS_BUILD = ("cmd /c ver   # the host's Windows build; Windows images run only on a host of "
                  "the same (or, with Hyper-V isolation, a newer) build")
_DESKTOP = (r"Docker Desktop|Docker\\{1,2}Docker\\{1,2}|Docker for (?:Windows|Mac)|docker-compose|"
            r"docker compose|ERROR: Service '[^'\n]{1,100}' failed to build|"
            r"Status: [^\n]{0,300}, Code: \d")
"""A developer desktop, where the daemon's OS mode is a switch (compose and Docker Desktop)."""

PLATFORM: tuple[Rule, ...] = (
    # docker CLI/daemon: "The requested image's platform (%s) does not match the detected host
    # platform (%s) and no specific platform was requested"; podman: "image platform (%s) does not
    # match the expected platform (%s)"; apple/containerization: 'unsupported: "platform %s"' and
    # "image %s does not support required platforms"
    rule("platform_mismatch", Code.IMAGE_PLATFORM_MISMATCH,
         r"(?i:no matching manifest for) [^\n]{0,80}|no match for platform in manifest|"
         r"for [\w/.-]{1,40} in the manifest list entries|"
         r"does not match the specified platform|image(?:'s)? platform[^\n]{0,80}?does not match|"
         r"platform \(?[\w/.-]{1,40}\)? does not match the (?:detected host|expected|specified)|"
         r"no image found in (?:image index|manifest list) for architecture|"
         r"does not support required platforms|unsupported: \\?\"platform [\w/.-]{1,40}|"
         # containerd "no manifest found for platform: %w"; moby's containerd image store "no images
         # providing the requested platform(s) found: %v", "requested platform(s) (%v) not found",
         # "doesn't provide the requested platform (%s)", "cannot download image with operating
         # system %q when requesting %q"
         r"no manifest found for (?:the requested )?platform|requested platform\(s\)|"
         r"provide the requested platform|cannot download image with operating system", 0.95,
         needles=("atching manifest", "ATCHING MANIFEST", "no match for platform",
                  "does not match the specified platform", "does not match", "no image found in ",
                  "required platforms", "unsupported: ", "no manifest found for", "requested platform",
                  "cannot download image with operating system", "in the manifest list entries"),
         unless=r"no matching manifest for unknown"),
    # the daemon's own OS is not the image's: a host that cannot run it (Windows Server, a
    # Windows node), or a desktop daemon in the other mode -- the wording is the same
    rule("image_os_not_this_platform", Code.IMAGE_PLATFORM_MISMATCH,
         r"image operating system \S{1,20} cannot be used on this platform", 0.8,
         also=((Code.DAEMON_CONFIG, 0.62),), distinguish=(_OS_MODE,)),
    rule("image_os_desktop_mode", Code.DAEMON_CONFIG,
         r"image operating system \S{1,20} cannot be used on this platform", 0.85,
         requires=_DESKTOP, also=((Code.IMAGE_PLATFORM_MISMATCH, 0.6),), distinguish=(_OS_MODE,),
         note="on Docker Desktop the daemon runs Linux or Windows containers, one at a time: "
              "switch the mode to the image's OS"),
    # engines before 20.10 on Windows asked the index for OS "unknown": the daemon's OS mode, not
    # the image, is what is missing
    rule("platform_os_unknown", Code.IMAGE_PLATFORM_MISMATCH, r"no matching manifest for unknown", 0.72,
         also=((Code.DAEMON_CONFIG, 0.7),), distinguish=(_OS_MODE, _WINDOWS_BUILD)),
    # a Windows daemon asked the index for a Windows entry of an image that has none: a Linux
    # image on a Windows host, or Docker Desktop left in Windows-containers mode
    rule("windows_daemon_linux_image", Code.DAEMON_CONFIG,
         r"no matching manifest for windows/[^\n]{0,80}", 0.55, distinguish=(_OS_MODE,),
         unless=r"(?i:servercore|nanoserver|mcr\.microsoft\.com/windows|windows/server|ltsc20)"),
    # a Windows daemon in Windows-containers mode asked for a Linux container (moby's
    # "linux containers are not supported on this platform")
    rule("linux_on_windows_daemon", Code.DAEMON_CONFIG,
         r"linux containers are not supported on this platform", 0.85, distinguish=(_OS_MODE,)),
    rule("windows_build_mismatch", Code.IMAGE_PLATFORM_MISMATCH,
         r"a Windows version [\d.\u2026]{1,24}-based image is incompatible with a [\d.\u2026]{1,24} host|"
         r"container operating system does not match the host operating system", 0.9,
         distinguish=(_WINDOWS_BUILD,)),
    # Windows base images (nanoserver, servercore, mcr.microsoft.com/windows) keep their base layers
    # as foreign layers a Linux-mode daemon does not fetch the way Windows does: their blobs fail
    # ("unknown blob", a layer that does not verify) when Docker Desktop is in Linux-containers mode
    rule("windows_image_linux_daemon", Code.DAEMON_CONFIG,
         r"unknown blob|blob unknown|BLOB_UNKNOWN|filesystem layer verification failed|"
         r"foreign layer|image operating system \S{1,20} cannot be used",
         0.88, requires=r"(?i:microsoft/(?:nanoserver|windowsservercore|windows)|servercore:|"
                        r"nanoserver:|mcr\.microsoft\.com/windows)",
         also=((Code.IMAGE_PLATFORM_MISMATCH, 0.6),), distinguish=(_OS_MODE,),
         note="a Windows base image: its layers are only fetched and run by a daemon in Windows-"
              "containers mode (Docker Desktop: Switch to Windows containers)"),
    # a Windows image's layers carry the Windows layer layout (top-level Files/ and Hives/, a
    # UtilityVM/Files/ for Hyper-V isolation); a Linux daemon or snapshotter unpacks them as plain
    # tars and fails on the first hard link or path it cannot make (Docker Desktop in Linux-
    # containers mode pulling a Windows image)
    rule("windows_layer_on_linux", Code.DAEMON_CONFIG,
         EXTRACTING + r"[^\n]{0,400}?/(?:fs/)?(?:Files/(?:Windows|Program Files|Users)/|Hives/|"
         r"UtilityVM/Files/)", 0.8,
         also=((Code.IMAGE_PLATFORM_MISMATCH, 0.6),), distinguish=(_OS_MODE,),
         note="the layer holds Windows files (Files/, Hives/): a Windows image, unpacked by a "
              "daemon in Linux-containers mode"),
    rule("windows_layer_elsewhere", Code.IMAGE_PLATFORM_MISMATCH,
         r"(?:hard links?|link|mkdir|lchown|open|symlink)[^\n]{0,200}?(?:^|[\s:/])Files/(?:Windows|"
         r"Program Files)/", 0.75,
         also=((Code.DAEMON_CONFIG, 0.5),), distinguish=(_OS_MODE,),
         unless=EXTRACTING,
         note="the path is a Windows layer's (Files/Windows/...): a Windows variant of the image "
              "was chosen on a host that runs Linux containers"),
    # hcsshim's layer operations (internal/hcserror: "<title> failed in Win32: %s (0x%x)";
    # wclayer ProcessBaseLayer as an os.PathError "hcsshim::ProcessBaseLayer <path>: <err>")
    # Linux containers on Windows (LCOW, Docker for Windows 17.x experimental): layers are applied
    # inside a "service utility VM" that Hyper-V could not start -- the host's container setup
    rule("lcow_utility_vm", Code.DAEMON_CONFIG,
         r"failed to start service utility VM|encountered an error during CreateContainer: failure in "
         r"a Windows system call", 0.65,
         distinguish=("Get-WindowsOptionalFeature -Online -FeatureName Microsoft-Hyper-V,Containers   "
                      "# Hyper-V and Containers enabled; LCOW is experimental: switch Docker Desktop "
                      "to Linux containers instead",)),
    rule("windows_import_layer", Code.IMAGE_PLATFORM_MISMATCH,
         r"hcsshim::(?:ImportLayer|ProcessBaseLayer|ProcessUtilityVMImage|ExpandScratchSize)"
         r"[^\n]{0,200}|(?:ProcessBaseLayer|ProcessUtilityVMImage) \S{1,300}: [^\n]{0,120}", 0.55,
         also=((Code.IMAGE_CORRUPT, 0.4), (Code.HOST_DISK_FULL, 0.3)),
         distinguish=("cmd /c ver; docker manifest inspect {image}   # a base image for a newer "
                      "Windows build than this host fails while importing its layers",)),
)

MEDIA_TYPES: tuple[Rule, ...] = (
    # containers/image: "Unimplemented manifest (list) MIME type %q", "Unexpectedly received a
    # manifest list instead of a manifest for a single image" (an index nested in an index),
    # "zstd compression is not supported for docker images", "%s compression is not supported for
    # type %q"; apple/containerization: "media type %s not supported."
    rule("unsupported_manifest", Code.IMAGE_UNSUPPORTED,
         r"[Mm]edia ?[Tt]ype:? \\?\"?[\w./+-]{1,200}\\?\"? (?:is )?not supported|"
         r"Unimplemented manifest(?: list)? MIME type|instead of a manifest for a single image|"
         r"compression is not supported|(?:layers|layer) \(?[^\n]{0,120}? are not supported in|"
         r"[Ss]chema ?1\b|unsupported (?:[\w ]{1,30} )?media ?type|failed to get converter for|unknown media ?type|"
         r"[Uu]nrecognized media ?[Tt]ype|manifest\.v1\+(?:prettyjws|json)|"
         r"Image Format v1|mediaType in manifest should be|unsupported manifest|unsupported schema version|"
         r"encountered unknown type|Unexpected media type|unsupported image-specific operation on artifact|"
         r"Encountered remote \S{1,200} when fetching|AI models are not (?:yet )?supported|"
         r"Running AI models directly by the Engine is not supported|"
         # containerd: a media type dropped in 2.0 ("%w: media type %q is no longer supported since
         # containerd v2.0"); moby's containerd image store for an artifact: "descriptor is neither
         # a manifest or index", "media-type: cannot determine"; containers/image: "Invalid image
         # config (rootFS is not set)", "image has no layers"
         r"is no longer supported since containerd|descriptor is neither a manifest or index|"
         r"descriptor isn't a manifest|media-type: cannot determine|rootFS is not set|"
         r"\bimage has no layers|"
         r"reference for unknown type: \S{1,200}|"
         r"unexpected media type \S{1,200} for \S{1,100}|max depth exceeded|"
         r"no processor for media-type|failed to get stream processor for \S{1,200}",
         0.86, distinguish=(_MEDIA_TYPES,)),
    # Docker Hub's answer to a client whose Accept list lacks the OCI index type: the client is
    # too old for the image, the tag exists
    rule("oci_index_not_accepted", Code.IMAGE_UNSUPPORTED,
         r"OCI index found, but accept header does not support OCI indexes", 0.93,
         distinguish=(_MEDIA_TYPES,)),
    # engines before moby PR 44367 (2022) said "invalid rootfs in image configuration" for an OCI
    # artifact (a Helm chart, a WASM module) pulled as an image: its config has no rootfs
    rule("artifact_without_rootfs", Code.IMAGE_UNSUPPORTED, r"invalid rootfs in image configuration",
         0.75, also=((Code.IMAGE_CORRUPT, 0.5),), distinguish=(_MEDIA_TYPES,)),
    rule("schema1_no_signatures", Code.IMAGE_UNSUPPORTED, r"(?:ctr|error|Error): no signatures\b", 0.7,
         distinguish=(_MEDIA_TYPES,)),
    # docker/libtrust (schema 1 signed manifests, verified by engines before 28): jsonsign.go's
    # ErrMissingSignatureKey "missing signature key", "invalid sign content", "invalid json
    # content", "missing formatted length" -- a schema 1 manifest that does not verify
    rule("schema1_libtrust", Code.IMAGE_UNSUPPORTED,
         r"(?:^|: |daemon: )(?:missing signature key|invalid sign content|invalid json content|"
         r"missing formatted length|missing public key)\b", 0.72,
         needles=("missing signature key", "invalid sign content", "invalid json content",
                  "missing formatted length", "missing public key"),
         also=((Code.IMAGE_CORRUPT, 0.5),), distinguish=(_MEDIA_TYPES,)),
    # the unpacker skipped layers whose media type it does not know (docker zstd): fewer diffs
    # than the config's rootfs
    rule("rootfs_layer_mismatch", Code.IMAGE_UNSUPPORTED, r"mismatched image rootfs and manifest layers",
         0.62, also=((Code.IMAGE_CORRUPT, 0.5),), distinguish=(_MEDIA_TYPES, _PULL_AGAIN)),
)

_CONTENT: tuple[Rule, ...] = (
    rule("empty_content", Code.IMAGE_CORRUPT,
         r"unexpected commit digest sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
         0.6, also=((Code.IMAGE_UNSUPPORTED, 0.45), (Code.NET_RESET, 0.35)),
         distinguish=("the body received was empty (sha256 of zero bytes): skopeo inspect --raw "
                      "docker://{image}, then pull once more without a caching proxy",)),
    rule("digest_mismatch", Code.IMAGE_CORRUPT,
         r"unexpected commit (?:digest|size)[^\n]{0,200}|verification failed for digest \S{1,80}|"
         r"Digest did not match[^\n]{0,160}|does not match provided manifest digest|"
         r"layers from manifest don't match image configuration|digest mismatch|"
         r"config\.json digest \S{1,80} does not match expected|blob size mismatch|"
         r"failed size validation",
         # the bytes that arrived are not the ones the manifest names: a broken push, or bytes
         # changed after the registry -- a caching/intercepting proxy or mirror serving another
         # copy, a resumed download (Range) the server answered from the start
         0.85, also=((Code.PROXY_ERROR, 0.4), (Code.REGISTRY_SERVER_ERROR, 0.35), (Code.NET_RESET, 0.3)),
         distinguish=(_PULL_AGAIN, "skopeo copy docker://{image} dir:/tmp/x   # verifies every digest "
                      "from another client, without the runtime's proxy: fails too: the registry "
                      "stores it broken"),
         unless=r"unexpected commit digest sha256:e3b0c442"),
    # the manifest, the config and the layers disagree (counts, diff IDs, a digest or size that is
    # not what was asked for): containerd "got digest %s, expected %s", "number of layers and
    # diffIDs don't match"; containers/image "layer %d (blob %s) does not match config's DiffID
    # %q", "Inconsistent layer count", "length of history not equal to number of layers", "Size
    # mismatch when copying %s"; moby "layer %v was not found (corruption?)"
    rule("content_disagrees", Code.IMAGE_CORRUPT,
         r"got digest sha256:\w{1,64}, expected|number of layers and diffIDs don't match|"
         r"does not match config's DiffID|Inconsistent layer count|history not equal to number of "
         r"layers|DiffID values, but a layer with index|Size mismatch when copying|"
         r"\(corruption\?\)", 0.8,
         distinguish=("skopeo inspect --raw docker://{image}; skopeo inspect --config docker://{image}"
                      "   # layer count and diff IDs must agree: a broken push, or a cache serving "
                      "another copy", _PULL_AGAIN)),
    # the layer stream does not decode: tar, gzip/deflate or zstd framing is broken. A zstd layer
    # read by a runtime that only knows gzip fails the same way (Docker < 23 sees a bad tar header)
    rule("layer_does_not_decode", Code.IMAGE_CORRUPT,
         r"(?:ctr|failed to extract layer)[^\n]{0,300}?invalid tar header|"
         r"gzip: invalid (?:checksum|header)|flate: corrupt input|"
         r"unpigz: [^\n]{0,80}corrupted|crc32 mismatch|invalid deflate data|zstd: [^\n]{0,60}"
         r"(?:corrupt|invalid|checksum)", 0.8,
         also=((Code.IMAGE_UNSUPPORTED, 0.5),), distinguish=(_MEDIA_TYPES, _PULL_AGAIN)),
    # moby's chrootarchive untars what its compression sniffing did not recognise as-is: a zstd
    # layer on an engine before 23.0 reaches tar raw and fails on the first header (a corrupt gzip
    # layer fails in gzip first). "Error processing tar file" is the Linux untar re-exec's wrapper;
    # "ApplyLayer exit status 1 stdout: stderr:" and "Untar re-exec error" are the same re-exec in
    # older engines (the Synology and Windows packages of Docker 17-20 among them)
    rule("tar_header_after_undetected_compression", Code.IMAGE_UNSUPPORTED,
         r"(?:Error processing tar file\(exit status \d{1,3}\)|failed to register layer): "
         r"(?:archive/tar: )?invalid tar header|(?:ApplyLayer|re-exec error)[^\n]{0,300}?invalid tar "
         r"header", 0.8,
         also=((Code.IMAGE_CORRUPT, 0.72),), distinguish=(_MEDIA_TYPES, _PULL_AGAIN)),
    # the extractor's input ended early: a truncated layer, or the extractor (a re-exec'd child)
    # died -- disk full and OOM end it the same way -- or the "layer" is not a tar at all (a
    # signature or artifact blob pulled as an image, shorter than one tar header). Not the network:
    # every runtime stores and verifies the blob's digest before it extracts it (moby's download
    # to a temporary file, containerd's content store, containers/image's "storing blob to file")
    rule("extraction_cut_short", Code.IMAGE_CORRUPT, EXTRACTING + r"[^\n]{0,300}?unexpected EOF",
         0.55, also=((Code.HOST_DISK_FULL, 0.5), (Code.IMAGE_UNSUPPORTED, 0.45)),
         distinguish=("df -h /var/lib/docker /var/lib/containerd; dmesg | tail   # no space or an "
                      "OOM kill ended the extractor", _MEDIA_TYPES, _PULL_AGAIN)),
    # the body ended before the size it declared: a short blob (a caching proxy or mirror that
    # kept a partial copy and serves it again on every try) or a connection closed early.
    # containerd: "failed to read expected number of bytes: %w" (core/content/helpers.go);
    # containers/image: "happened during read: %w" (copy/blob.go, the source stream) around
    # io.ErrUnexpectedEOF, under "storing blob to file %q" (storage_dest.go); its body reader
    # (docker/body_reader.go) adds "(heuristic tuning data: last retry %d, current offset %d; ...)"
    # when it gives up reconnecting to a body that ended early
    rule("short_blob", Code.IMAGE_CORRUPT,
         r"failed to read expected number of bytes|happened during read: unexpected EOF|"
         r"heuristic tuning data:[^\n]{0,200}?unexpected EOF", 0.6,
         also=((Code.NET_RESET, 0.55), (Code.REGISTRY_SERVER_ERROR, 0.35)),
         distinguish=("curl -sIL https://{host}/v2/REPO/blobs/DIGEST | grep -i content-length   "
                      "# shorter than the manifest says: the registry/cache stores a truncated blob",
                      _PULL_AGAIN)),
    # the extractor was refused an operation the layer needs (mknod, xattrs, chown under a user
    # namespace or a sandboxed runtime) by the host: EPERM, EROFS (the store on a read-only file
    # system), EOPNOTSUPP (xattrs on a backing file system without them), EMFILE (the runtime's
    # open-files limit), EFBIG: the host/runtime setup, not the image
    rule("extraction_not_permitted", Code.DAEMON_CONFIG,
         EXTRACTING + r"[^\n]{0,400}?(?:operation not permitted|read-only file system|operation not "
         r"supported|too many open files|file too large)", 0.6,
         needles=("operation not permitted", "read-only file system", "operation not supported",
                  "too many open files", "file too large"),
         also=((Code.IMAGE_CORRUPT, 0.3),),
         distinguish=("cat /etc/subuid /etc/subgid; ps -o user= -C containerd,dockerd,podman   "
                      "# rootless or user-namespaced runtimes cannot create every file a layer holds",
                      "findmnt -T /var/lib/docker; findmnt -T /var/lib/containerd   # the store's "
                      "file system: read-only, or without xattrs (NFS, some FUSE)")),
    # the unpacker looked for content the pull should have stored and it is not in the local
    # content store: an interrupted earlier pull or a store cleaned under the runtime
    rule("local_content_missing", Code.IMAGE_CORRUPT,
         r"failed to unpack image[^\n]{0,200}?content digest \S{1,80}: not found", 0.6,
         also=((Code.IMAGE_UNSUPPORTED, 0.4),),
         distinguish=("ctr -n k8s.io content ls | grep DIGEST; ctr -n k8s.io images rm {image} and "
                      "pull again   # a local store missing what the manifest names",)),
    # the daemon's own layer store is inconsistent (a layer directory half-removed, a leftover
    # temporary set): moby's layer store renames and opens under /var/lib/docker
    rule("local_layer_store_inconsistent", Code.IMAGE_CORRUPT,
         r"failed to register layer: (?:rename|open|stat|lstat|mkdir) /var/lib/docker/[^\n]{1,400}?: "
         r"(?:file exists|no such file or directory|not a directory)", 0.55,
         also=((Code.DAEMON_CONFIG, 0.4),),
         distinguish=("docker image rm {image}; docker pull {image}   # works now: the local layer "
                      "store kept a half-written layer; fails again: check the storage driver "
                      "(docker info | grep -i storage)",)),
    # the snapshotter could not mount what it unpacked into (overlay on an unsupported backing
    # file system, too many layers): the host's storage configuration
    rule("unpack_mount_failed", Code.DAEMON_CONFIG,
         r"mount callback failed on \S{1,300}|failed to mount [^\n]{0,200}overlay|"
         r"error creating overlay mount", 0.5,
         # containers/storage's "error creating overlay mount to .../merged: no such file or
         # directory" also comes from a layer store whose lower layers went missing (CRI-O, podman)
         also=((Code.HOST_DISK_FULL, 0.35), (Code.IMAGE_CORRUPT, 0.33)),
         distinguish=("df -hT /var/lib/containerd /var/lib/docker   # overlay needs ext4/xfs "
                      "(d_type) with space left",)),
)

_POLICY: tuple[Rule, ...] = (
    # the policy file itself does not load (syntax, a missing "default"): every pull fails before
    # any image is judged -- the configuration, not a verdict on this image
    rule("policy_file_invalid", Code.DAEMON_CONFIG,
         r"invalid policy in \S{1,300}|error obtaining default signature policy|"
         r"Default policy is missing|policy\.json: no such file or directory", 0.85, also=((Code.IMAGE_POLICY_REJECTED, 0.55),),
         distinguish=("python3 -m json.tool /etc/containers/policy.json   # must parse and hold "
                      "a \"default\" entry",)),
    rule("signature_policy", Code.IMAGE_POLICY_REJECTED,
         r"is rejected by policy|Source image rejected|A signature was required, but no signature exists|"
         r"None of the signatures were accepted|Signature for identity [^\n]{0,200}? is not accepted|"
         r"unrecognized signature format|SignatureValidationFailed|signature verification failed|"
         r"[Ss]ignature [^\n]{0,300}? unexpected for a signature|Signature for digest \S{1,100} does "
         r"not match|No signature verification policy found|No public keys imported|"
         r"signedDocker(?:Reference|ManifestDigest) mismatch|are rejected by policy", 0.93,
         distinguish=("cat /etc/containers/policy.json; ls /etc/containers/registries.d/   # the "
                      "policy scope that applies to {registry}",)),
    # signature systems around the runtimes: containerd's transfer service ("image verifier %s
    # blocked pull of %v"), cosign/sigstore and Kyverno/policy-controller wording, containers/image
    # failing to read the lookaside signatures the policy needs ("reading signatures: %w")
    rule("signature_verifier", Code.IMAGE_POLICY_REJECTED,
         r"image verifier \S{1,100} (?:blocked pull|returned error)|no matching signatures|"
         r"failed to verify (?:image )?signatures?|signature key validation failed|"
         r"reading signatures: [^\n]{0,200}|"
         # golang.org/x/crypto/openpgp (rkt's and older tools' signature checks): "openpgp: invalid
         # signature: %s", "openpgp: signature made by unknown entity"
         r"openpgp: (?:invalid signature|signature made by unknown entity)[^\n]{0,120}", 0.82,
         distinguish=("cat /etc/containers/policy.json; ls /etc/containers/registries.d/   # the "
                      "policy scope and the signature store (lookaside) that apply to {registry}",)),
    # buildah before containers/buildah PR 881 dropped the PolicyRequirementError and printed the
    # registry search's "image not known" instead: a policy rejection looks like a missing image
    # (containers/buildah 03686e5, 2018: every pull error became 'image "%s" not found in
    # /etc/containers/registries.conf registries: image not known' -- a missing image, a registry
    # registries.conf does not list, or a refused signature policy all read the same)
    rule("policy_masked_as_not_known", Code.REGISTRY_NOT_FOUND,
         r"(?:no such image|not found in \S{1,120} registries)[^\n]{0,300}?image not known", 0.5,
         also=((Code.IMAGE_POLICY_REJECTED, 0.45), (Code.DAEMON_CONFIG, 0.4)),
         distinguish=("skopeo inspect docker://{image}   # found: the image exists, and older buildah "
                      "hid a policy rejection; cat /etc/containers/policy.json",
                      "grep -n registries /etc/containers/registries.conf   # the registry searched "
                      "for a short name")),
    # the registry's own policy refuses to serve the image (Harbor's project policies: unscanned or
    # vulnerable images, unsigned ones; errcode PROJECTPOLICYVIOLATION, HTTP 412)
    rule("registry_policy", Code.IMAGE_POLICY_REJECTED,
         r"cannot be pulled due to configured policy|is not signed in (?:Notary|Cosign)|"
         r"PROJECTPOLICYVIOLATION|\b412 Precondition Failed", 0.85,
         distinguish=("the registry's project settings (Harbor: Configuration > deployment security, "
                      "content trust) name the policy; scan or sign the image, or ask its "
                      "administrator",)),
    # Docker Content Trust (DOCKER_CONTENT_TRUST=1): docker asks a Notary server for signed trust
    # data before pulling; notary's client says "you are not authorized to perform this operation:
    # server returned 401." or that no trust data exists -- the client's signature policy refuses
    rule("content_trust", Code.IMAGE_POLICY_REJECTED,
         r"you are not authorized to perform this operation: server returned 401|"
         r"No valid trust data for|does not have trust data for|remote trust data does not exist|"
         r"trust data unavailable", 0.75, also=((Code.REGISTRY_UNAUTHORIZED, 0.45),),
         distinguish=("env | grep DOCKER_CONTENT_TRUST   # =1 makes every pull need Notary trust "
                      "data for the image",)),
)

RULES: tuple[Rule, ...] = PLATFORM + MEDIA_TYPES + _CONTENT + _POLICY
