"""Rules for the pulling host and the runtime's own configuration: disk, memory, the image
reference, configuration files that do not load, settings that do not apply.

Sources of the wordings: containerd ``cmd/containerd/server/server.go`` logs ``failed to load
plugin`` with the plugin's error (``internal/cri/config/config.go``: ```mirrors` cannot be set
when `config_path` is provided``, ``invalid plugin config``); containers/image ``transports/
alltransports``: ``Invalid image name %q, unknown transport %q``; Apptainer ``internal/pkg/build/
oci``: ``unable to parse image name %v``; bash's job report ``<pid> Killed  <command>``.
"""

from __future__ import annotations

from pulldoctor.causes import Code
from pulldoctor.explain.rulebase import Rule, rule

RULES: tuple[Rule, ...] = (
    # ENOSPC/EDQUOT as Go prints them (and C's strerror, capitalised: mksquashfs, Python's
    # "[Errno 28]"); Windows' ERROR_DISK_FULL (112) and ERROR_HANDLE_DISK_FULL (39); moby's
    # devicemapper driver refusing to write below its free-space floor
    rule("disk_full", Code.HOST_DISK_FULL,
         r"[Nn]o space left on device|NO SPACE LEFT ON DEVICE|[Dd]isk quota exceeded|\bENOSPC\b|"
         r"There is not enough space on the disk|The disk is full|"
         r"free data blocks which is less than minimum required", 0.95,
         needles=("o space left on device", "O SPACE LEFT", "isk quota exceeded", "ENOSPC",
                  "not enough space on the disk", "The disk is full", "free data blocks")),
    # EIO on a write into the runtime's storage: a full thin pool, LV or Desktop VM disk answers
    # writes with EIO rather than ENOSPC
    rule("unpack_io_error", Code.HOST_DISK_FULL,
         r"(?:failed to (?:extract|register|mount|apply)|ApplyLayer|error creating temporary lease)"
         r"[^\n]{0,400}?input/output error|write /var/lib/[^\n]{0,300}?: input/output error", 0.55,
         distinguish=("df -h /var/lib/docker /var/lib/containerd; lvs   # a full thin pool or LV "
                      "answers writes with EIO, not ENOSPC",)),
    rule("out_of_memory", Code.HOST_MEMORY, r"cannot allocate memory|out of memory|OOMKilled", 0.85),
    rule("killed_helper", Code.HOST_MEMORY,
         r"signal: (?:9 \()?[Kk]illed|\b\d{1,7} Killed {1,40}\S", 0.6,
         distinguish=("dmesg | grep -i -e oom -e killed   # the OOM killer names the process",)),
    rule("invalid_reference", Code.REF_INVALID,
         r"invalid reference format[^\n]{0,60}|repository name must be lowercase|"
         r"couldn't parse image reference|InvalidImageName|invalid repository name|"
         r"Invalid image name \S{1,300}, (?:unknown transport|expected colon-separated)|"
         r"unable to parse image name", 0.95),
    # a manifest request whose reference is empty (".../manifests/" then the error, or "name@"
    # with no digest): the caller built the reference from an empty tag or digest variable; the
    # registry's 404 is about that URL, not a missing image
    rule("empty_manifest_reference", Code.REF_INVALID,
         r"/v2/\S{1,300}/manifests/\\?\"?: |(?m:fetching \S{1,300}@[ \t]*$)", 0.88,
         also=((Code.REGISTRY_NOT_FOUND, 0.45),),
         distinguish=("echo \"{image}\"   # the reference as the tool built it: a tag or digest is "
                      "missing (an empty variable in the CI step or resource)",)),
    # Apptainer pulls a bare name from its default library (library://), whose server answers "invalid
    # container ref" (400) for a Docker Hub name: the reference lacks its docker:// transport
    rule("apptainer_library_ref", Code.REF_INVALID, r"invalid container ref", 0.75,
         distinguish=("apptainer pull docker://IMAGE   # a Docker/OCI image needs the docker:// "
                      "prefix",)),
    # a file owner the user namespace cannot map (EINVAL from lchown): moby's layer store, and
    # containers/storage's untar child ("there might not be enough IDs available in the namespace
    # (requested %d:%d for %s)")
    rule("userns_lchown", Code.DAEMON_CONFIG,
         r"(?:failed to register layer|ApplyLayer|[Pp]rocessing tar file)[^\n]{0,400}?[Ll]chown"
         r"[^\n]{0,400}?invalid argument|"
         r"subordinate IDs|insufficient UIDs or GIDs|cannot be mapped to a host ID|"
         r"not be enough IDs available in the namespace", 0.8,
         distinguish=("cat /etc/subuid /etc/subgid   # userns-remap / rootless needs 65536 IDs",)),
    rule("config_file_unreadable", Code.DAEMON_CONFIG,
         r"failed to decode hosts\.toml|failed to parse TOML|loading registries configuration|"
         r"unable to configure the Docker daemon with file[^\n]{0,200}|failed to load (?:TOML|plugin config)|"
         r"failed to load plugin[^\n]{0,300}?(?:config|toml|cannot be set)|invalid plugin config|"
         r"invalid cri (?:image |runtime )?config|cannot be set when .?config_path.? is provided|"
         # containers/image sysregistriesv2 ("error getting default registries to try: %w",
         # "loading registries configuration %q: %w") around BurntSushi/toml's parse errors
         # ("Near line %d (last key parsed '%s'): %s", "toml: line %d")
         r"unable to parse the registries\.conf file|error getting default registries to try|"
         r"Near line \d{1,6} \(last key parsed|toml: line \d{1,6}",
         0.95, distinguish=("the configuration file named here does not parse, so its settings "
                            "(CAs, mirrors, proxies) were never applied: fix it first",)),
    # a tool around the runtime refuses its own configuration before pulling: Concourse's
    # registry-image resource ("invalid payload: %s" around encoding/json's 'json: unknown field
    # "x"' -- a source field this resource version does not know)
    rule("tool_config_rejected", Code.DAEMON_CONFIG,
         r"invalid payload: [^\n]{0,200}|json: unknown field \\?\"[\w.-]{1,60}", 0.8,
         distinguish=("the field named is not known to this version of the tool: check its "
                      "documentation for the version in use (or upgrade it)",)),
    # podman remote (pkg/bindings: "unable to connect to Podman socket: %v"; common/pkg/ssh:
    # "failed to connect: %w" to the machine's forwarded SSH port on loopback): the podman machine
    # or service is down -- nothing reached a registry, whatever the refused dial says
    rule("podman_service_unreachable", Code.DAEMON_CONFIG,
         r"unable to connect to Podman socket|Cannot connect to Podman|"
         r"failed to connect: dial tcp (?:127\.\d{1,3}\.\d{1,3}\.\d{1,3}|\[::1\]|localhost):\d{1,5}", 0.9,
         distinguish=("podman machine list; podman system connection list   # the machine must be "
                      "running and the default connection point at it",)),
    # a host tool the pull or unpack needs is missing (Apptainer's mksquashfs, rootless podman's
    # newuidmap/fuse-overlayfs, an external decompressor)
    rule("host_tool_missing", Code.DAEMON_CONFIG,
         r"exec: \\?\"(?:mksquashfs|unsquashfs|newuidmap|newgidmap|fuse-overlayfs|slirp4netns|pigz|"
         r"unpigz|zstd|xz|squashfuse)\\?\": executable file not found|while searching for "
         r"(?:mksquashfs|unsquashfs)", 0.8,
         distinguish=("command -v mksquashfs newuidmap fuse-overlayfs   # install the tool the error "
                      "names (squashfs-tools, uidmap, fuse-overlayfs)",)),
    rule("short_name", Code.DAEMON_CONFIG,
         r"short-name \S{1,300} did not resolve to an alias|no unqualified-search registries|"
         r"short-name resolution enforced but cannot prompt|no registries configured while trying to pull|"
         # CRI-O's short_name_mode = "enforcing" with several unqualified-search registries
         r"short name mode is enforcing, but image name \S{1,300} returns ambiguous list|"
         r"is blocked in /etc/containers/registries\.conf", 0.9),
    rule("invalid_mirror", Code.DAEMON_CONFIG,
         r"invalid mirror[^\n]{0,160}|invalid registry endpoint|invalid (?:insecure-)?registr[^\n]{0,80}", 0.85),
    rule("never_pull", Code.DAEMON_CONFIG,
         r"ErrImageNeverPull|is not present with pull policy of Never", 0.8),
    # kubelet's own pull rate limit (--registry-qps / registryPullQPS), not the registry's
    rule("kubelet_pull_qps", Code.DAEMON_CONFIG, r"pull QPS exceeded", 0.8,
         also=((Code.REGISTRY_RATE_LIMITED, 0.45),),
         distinguish=("grep -i -e registryPullQPS -e registryBurst /var/lib/kubelet/config.yaml   "
                      "# kubelet limits its own pulls; 0 disables the limit",)),
    # the CRI's own connection to the runtime broke mid-pull (grpc: "code = Unavailable desc =
    # error reading from server: EOF", "transport is closing"): the runtime restarted or was
    # killed (an OOM kill, a crash) -- the registry is not what failed
    rule("cri_runtime_went_away", Code.DAEMON_CONFIG,
         r"code = Unavailable desc = (?:error reading from server|transport is closing|"
         r"connection error)", 0.6, also=((Code.HOST_MEMORY, 0.4),),
         distinguish=("journalctl -u containerd -u crio --since -1h | grep -i -e 'start' -e panic -e "
                      "killed; dmesg | grep -i oom   # the runtime restarted or was killed "
                      "mid-pull",)),
    # moby's classic image store holds one platform per image
    rule("single_platform_store", Code.DAEMON_CONFIG,
         r"multiple platforms (?:are )?not supported for this image store", 0.8,
         distinguish=("docker info -f '{{{{.DriverStatus}}}}'   # the containerd image store keeps "
                      "several platforms of one image",)),
    # the client never reached the daemon (moby client: "Cannot connect to the Docker daemon at
    # %s. Is the docker daemon running?"; Windows named pipe): nothing was pulled at all
    rule("daemon_unreachable", Code.DAEMON_CONFIG,
         r"Cannot connect to the Docker daemon|error during connect|"
         r"dial unix \S{1,200}(?:docker|containerd|crio|podman)\.sock: connect: (?:permission denied|"
         r"no such file|connection refused)|"
         r"docker daemon is not running|pipe[\\/]{1,2}docker_engine\w{0,20}: The system cannot find the "
         r"file specified|Ensure container system service has been started|XPC connection error|"

         r"[Ii]s the (?:docker|podman|containerd) (?:daemon|service|socket) running", 0.75,
         distinguish=("systemctl status docker; docker context ls   # the daemon is down, or the "
                      "client talks to another context/socket",)),
)
