"""explain on single texts: the expert readings the brief and pull-internals.md spell out.

Each case is one runtime's real wording (or a real pasted text) and the cause an expert names for
it; together they pin every rule family so a rule that stops matching, or starts shadowing a more
specific one, fails here before it shows in the corpus accuracy.
"""

from __future__ import annotations

import pytest

from pulldoctor.causes import CODES
from pulldoctor.explain import NOTHING_RECOGNISED, explain

DNS_TIMEOUT = (
    "error pulling image configuration: download failed after attempts=6: dial tcp: lookup "
    "production.cloudflare.docker.com on 127.0.0.53:53: read udp 127.0.0.1:40215->127.0.0.53:53: "
    "i/o timeout"
)

CASES = [
    (DNS_TIMEOUT, "dns.udp_timeout"),
    ('Get "https://registry-1.docker.io/v2/": dial tcp: i/o timeout', "dns.udp_timeout"),
    ('Get "https://registry-1.docker.io/v2/": dial tcp 1.2.3.4:443: i/o timeout', "net.tcp_timeout"),
    ("dial tcp: lookup registry-1.docker.io on 127.0.0.1:53: read udp 127.0.0.1:51234->127.0.0.1:53: "
     "read: connection refused", "dns.resolver_unreachable"),
    ("dial tcp: lookup quay.io on 10.0.0.2:53: server misbehaving", "dns.servfail"),
    ("dial tcp: lookup regsitry.example.com on 10.0.0.2:53: no such host", "dns.nxdomain"),
    ('Get "https://10.0.0.9:5000/v2/": http: server gave HTTP response to HTTPS client',
     "tls.http_response_to_https"),
    ('Get "https://r.corp/v2/": x509: certificate signed by unknown authority', "tls.unknown_authority"),
    ('Get "https://r.corp/v2/": x509: certificate has expired or is not yet valid', "tls.expired"),
    ("x509: certificate is valid for *.example.com, not registry-1.docker.io", "tls.hostname_mismatch"),
    ('Get "https://registry-1.docker.io/v2/": proxyconnect tcp: dial tcp 10.0.0.3:3128: connect: '
     "connection refused", "proxy.error"),
    ("no matching manifest for linux/arm64/v8 in the manifest list entries", "image.platform_mismatch"),
    ("toomanyrequests: You have reached your pull rate limit.", "registry.rate_limited"),
    ("Error response from daemon: pull access denied for acme/x, repository does not exist or may "
     "require 'docker login': denied: requested access to the resource is denied", "registry.denied"),
    ("Error response from daemon: manifest for nginx:nope not found: manifest unknown: manifest unknown",
     "registry.not_found"),
    ("failed to register layer: Error processing tar file(exit status 1): write /usr/lib/x: no space "
     "left on device", "host.disk_full"),
    ("docker: invalid reference format: repository name must be lowercase.", "ref.invalid"),
    ("filesystem layer verification failed for digest sha256:" + "8" * 64, "image.corrupt"),
    ("Docker Image manifest version 2, schema 1 support is disabled by default", "image.unsupported"),
    ('Head "https://registry-1.docker.io/v2/library/postgres/manifests/10": net/http: TLS handshake '
     "timeout", "net.tls_handshake_timeout"),
    ("read tcp 10.0.0.5:38070->52.38.1.1:443: read: connection reset by peer", "net.reset"),
    ("unexpected EOF", "net.reset"),
    ('Get "https://registry-1.docker.io/v2/": context deadline exceeded (Client.Timeout exceeded while '
     "awaiting headers)", "net.request_timeout"),
    ("dial tcp 192.168.2.110:80: connect: no route to host", "net.unreachable"),
    ("dial tcp 127.0.0.1:4001: connect: connection refused", "net.refused"),
    ("Error response from daemon: Get https://r.io/v2/x/manifests/1: unauthorized: authentication "
     "required", "registry.unauthorized"),
    ("error pulling image configuration: download failed after attempts=6: received unexpected HTTP "
     "status: 500 Internal Server Error", "registry.server_error"),
    ('short-name "busybox:latest" did not resolve to an alias and no unqualified-search registries are '
     'defined in "/etc/containers/registries.conf"', "daemon.config"),
    ("failed to register layer: write /app/x: cannot allocate memory", "host.memory"),
    # a configuration file that does not parse outranks the symptom it causes (no CA loaded)
    ('level=error msg="failed to decode hosts.toml" error="failed to parse TOML: (1, 11)"\nctr: failed '
     'to do request: Head "https://r.test/v2/x/manifests/1": x509: certificate signed by unknown '
     "authority", "daemon.config"),
    ('Error response from daemon: Head "https://ghcr.io/v2/acme/app/manifests/1": denied: denied',
     "registry.unauthorized"),
    ('Head "https://10.0.0.5:30003/v2/x/manifests/v1": x509: cannot validate certificate for '
     "10.0.0.5 because it doesn't contain any IP SANs", "tls.hostname_mismatch"),
    ('pinging container registry r.io: Get "https://r.io/v2/": dial tcp: lookup r.io on '
     "192.168.178.1:53: dial udp 192.168.178.1:53: socket: permission denied",
     "dns.resolver_unreachable"),
    # the Engine API's own 500 only wraps the daemon's error: the inner cause wins
    ('500 Server Error: Internal Server Error ("{"message":"Get https://r.io/v2/: net/http: TLS '
     'handshake timeout"}")', "net.tls_handshake_timeout"),
    ("docker pull acme/x Error occurred : 500 Server Error: Internal Server Error",
     "registry.server_error"),
    ('level=fatal msg="initializing source docker://r.test/x:1: reading manifest 1 in r.test/x: denied"',
     "registry.denied"),
]


@pytest.mark.parametrize(("text", "code"), CASES, ids=[c for _, c in CASES])
def test_expert_reading(text: str, code: str) -> None:
    report = explain(text)
    assert report.command == "explain"
    assert report.causes, f"nothing recognised in {text!r}"
    assert report.causes[0].code == code, [c.code for c in report.causes]


def test_every_cause_is_a_catalogue_code_and_evidence_is_a_substring() -> None:
    for text, _ in CASES:
        for cause in explain(text).causes:
            assert cause.code in CODES
            assert cause.evidence
            assert all(e in text for e in cause.evidence), (cause.code, cause.evidence)


def test_confidence_is_ranked() -> None:
    for text, _ in CASES:
        conf = [c.confidence for c in explain(text).causes]
        assert conf == sorted(conf, reverse=True)


@pytest.mark.parametrize("text", ["", "   \n", "hello world", "Successfully pulled image nginx:1.25",
                                  "\x00\x01\xff binary"])
def test_unrecognised_text_gets_no_cause_and_a_note(text: str) -> None:
    report = explain(text)
    assert report.causes == []
    assert NOTHING_RECOGNISED in report.notes


def test_facts_of_the_moby_config_blob_dns_timeout() -> None:
    f = explain(DNS_TIMEOUT).facts
    assert f["runtime"] == "docker"
    assert f["docker_store"] == "graphdriver"
    assert f["step"] == "config"
    assert f["host"] == "production.cloudflare.docker.com"
    assert f["resolver"] == "127.0.0.53"
    assert f["resolver_kind"] == "systemd-resolved stub"
    assert f["transport"] == "udp"  # the lookup's transport, not the image transfer's
    assert f["local_addr"] == "127.0.0.1:40215"
    assert f["remote_addr"] == "127.0.0.53:53"
    assert f["attempts"] == 6
    assert f["real_attempts"] == 5  # moby prints the counter + 1 when all attempts were retryable
    assert f["cdn_host"] is True


def test_attempts_below_the_limit_are_counted_as_printed() -> None:
    f = explain("error pulling image configuration: download failed after attempts=1: "
                "unauthorized: authentication required").facts
    assert (f["attempts"], f["real_attempts"]) == (1, 1)


def test_docker_embedded_dns_means_the_daemon_runs_in_a_container() -> None:
    f = explain("dial tcp: lookup registry-1.docker.io on 127.0.0.11:53: read udp "
                "127.0.0.1:35000->127.0.0.11:53: i/o timeout").facts
    assert f["resolver"] == "127.0.0.11"
    assert "DinD" in f["resolver_kind"]


def test_registry_host_is_not_a_cdn() -> None:
    f = explain('failed to copy: httpReadSeeker: failed open: failed to do request: Get '
                '"https://r.example.com/v2/a/blobs/sha256:' + "a" * 64 + '": dial tcp: lookup '
                "r.example.com on 10.0.0.2:53: no such host").facts
    assert f["step"] == "layer"
    assert f["host"] == "r.example.com"
    assert f["cdn_host"] is False


def test_containerd_kubelet_facts_and_url_redaction() -> None:
    text = ('Failed to pull image "quay.io/jetstack/cert-manager-controller:v1.10.1": rpc error: code = '
            'Unknown desc = failed to pull and unpack image "quay.io/jetstack/cert-manager-controller:'
            'v1.10.1": failed to resolve reference "quay.io/jetstack/cert-manager-controller:v1.10.1": '
            'failed to do request: Head "https://user:hunter2@quay.io/v2/jetstack/cert-manager-controller/'
            'manifests/v1.10.1?token=abc": dial tcp 44.206.77.171:443: i/o timeout')
    report = explain(text)
    f = report.facts
    assert f["runtime"] == "kubelet" and f["backend"] == "containerd"
    assert f["image"] == "quay.io/jetstack/cert-manager-controller:v1.10.1"
    assert f["step"] == "manifest"
    assert f["host"] == "quay.io"
    assert f["remote_addr"] == "44.206.77.171:443"
    assert "hunter2" not in f["url"] and "abc" not in f["url"]
    assert report.causes[0].code == "net.tcp_timeout"


@pytest.mark.parametrize(("text", "runtime"), [
    ("Error response from daemon: manifest unknown", "docker"),
    ('ctr: failed to resolve image: failed to do request: Head "https://r/v2/": EOF', "containerd"),
    ('Warning  Failed  3m  kubelet  Failed to pull image "nginx:x": rpc error: code = NotFound desc = '
     'failed to pull and unpack image "docker.io/library/nginx:x": not found', "kubelet"),
    ('Failed to pull image "nginx:x": failed to pull and unpack image "docker.io/library/nginx:x": '
     "not found", "kubelet"),
    ("Error: initializing source docker://quay.io/x:latest: reading manifest latest in quay.io/x: "
     "manifest unknown", "podman"),
    ("FATA[0000] Error copying docker://quay.io/x:1 to dir:/tmp: reading blob sha256:" + "1" * 64 +
     ": Error fetching blob: invalid status code from registry 500 (Internal Server Error)", "skopeo"),
    ("ERROR: failed to solve: failed to resolve source metadata for docker.io/library/x:1: not found",
     "buildkit"),
])
def test_runtime_detection(text: str, runtime: str) -> None:
    assert explain(text).facts["runtime"] == runtime


def test_json_escaped_and_journal_prefixed_text() -> None:
    raw = ('Nov 29 09:00:02 node1 containerd[700]: time="2026-11-29T09:00:02Z" level=error '
           'msg="PullImage \\"nginx:1.25\\" failed" error="failed to pull and unpack image '
           '\\"docker.io/library/nginx:1.25\\": failed to resolve reference \\"docker.io/library/'
           'nginx:1.25\\": failed to do request: Head \\"https://registry-1.docker.io/v2/library/nginx/'
           'manifests/1.25\\": dial tcp: lookup registry-1.docker.io: Temporary failure in name '
           'resolution"')
    report = explain(raw)
    assert report.causes[0].code == "dns.resolver_unreachable"
    assert report.facts["image"] == "nginx:1.25"
    assert "libc" in report.facts["resolver_kind"]  # no "on <server>": the cgo resolver


def test_kubectl_describe_multiline() -> None:
    text = """Events:
  Type     Reason     Age                From               Message
  ----     ------     ----               ----               -------
  Normal   Scheduled  2m                 default-scheduler  Successfully assigned default/web to n1
  Normal   Pulling    1m (x4 over 2m)    kubelet            Pulling image "ghcr.io/acme/api:2.3.1"
  Warning  Failed     1m (x4 over 2m)    kubelet            Failed to pull image "ghcr.io/acme/api:2.3.1": failed to pull and unpack image "ghcr.io/acme/api:2.3.1": failed to resolve reference "ghcr.io/acme/api:2.3.1": failed to authorize: failed to fetch anonymous token: unexpected status from GET request to https://ghcr.io/token?scope=repository%3Aacme%2Fapi%3Apull&service=ghcr.io: 401 Unauthorized
  Warning  Failed     1m (x4 over 2m)    kubelet            Error: ErrImagePull
  Normal   BackOff    30s (x6 over 2m)   kubelet            Back-off pulling image "ghcr.io/acme/api:2.3.1"
"""
    report = explain(text)
    assert report.causes[0].code == "registry.unauthorized"
    f = report.facts
    assert f["runtime"] == "kubelet"
    assert f["step"] == "token"
    assert f["http_status"] == 401
    assert f["image"] == "ghcr.io/acme/api:2.3.1"


def test_ambiguous_text_says_how_to_tell_candidates_apart() -> None:
    report = explain("Error response from daemon: pull access denied for acme/x, repository does not "
                     "exist or may require 'docker login': denied: requested access to the resource "
                     "is denied")
    codes = [c.code for c in report.causes]
    assert codes[:2] == ["registry.denied", "registry.not_found"]
    assert report.causes[0].distinguish
    assert any("docker login" in d for d in report.causes[0].distinguish)


def test_udp_timeout_distinguish_names_the_resolver_and_host() -> None:
    cause = explain(DNS_TIMEOUT).causes[0]
    assert any("dig +notcp" in d and "@127.0.0.53 production.cloudflare.docker.com" in d
               for d in cause.distinguish)


def test_platform_fact() -> None:
    f = explain("no matching manifest for linux/arm64/v8 in the manifest list entries").facts
    assert f["platform"] == "linux/arm64/v8"


def test_registry_code_and_digest_facts() -> None:
    f = explain('failed commit on ref "layer-sha256:' + "5" * 64 + '": unexpected commit digest '
                "sha256:" + "a" * 64 + ", expected sha256:" + "5" * 64 + ": failed precondition").facts
    assert f["digest"] == "sha256:" + "5" * 64
    f2 = explain("reading manifest latest in quay.io/x: manifest unknown: manifest unknown").facts
    assert f2["registry_code"] == "MANIFEST_UNKNOWN"


def test_public_api_reexport() -> None:
    import pulldoctor

    assert pulldoctor.explain("no space left on device").causes[0].code == "host.disk_full"


def test_mirrors_that_failed_first_are_named() -> None:
    text = ('Error: initializing source docker://quay.io/x/y:latest: (Mirrors also failed: '
            '[mirror.corp:5000/x/y:latest: pinging container registry mirror.corp:5000: Get '
            '"https://mirror.corp:5000/v2/": dial tcp 10.1.1.1:5000: connect: connection refused]): '
            'quay.io/x/y:latest: pinging container registry quay.io: Get "https://quay.io/v2/": dial '
            "tcp: lookup quay.io on 10.0.0.2:53: server misbehaving")
    report = explain(text)
    assert report.facts["mirrors_failed"] == ["mirror.corp:5000"]
    assert report.facts["host"] == "quay.io"  # the error shown last is the primary's
    assert report.facts["runtime"] == "podman" and "backend" not in report.facts
    assert [c.code for c in report.causes][:2] == ["dns.servfail", "net.refused"]


# Round 2 (generalisation): readings taken from the runtimes' format strings, written here as
# instances of the format rather than copies of the holdout texts they were found through.
FORMAT_CASES = [
    # containers/image httpResponseToError: "<ctx>: invalid status code from registry %d (%s)"
    ("Error: initializing source docker://r.example/a/b:1: Requesting bearer token: invalid status "
     "code from registry 403 (Forbidden)", "registry.denied"),
    ("Requesting bearer token: invalid status code from registry 404 (Not Found)", "registry.not_found"),
    ("FATA[0000] Error initializing image from source docker://r.example/x:1: unable to retrieve auth "
     "token: 401 unauthorized", "registry.unauthorized"),
    # Go net.OpError on the resolver socket, with no "lookup" prefix in front of it
    ("read udp 10.0.0.5:41234->10.0.0.2:53: i/o timeout", "dns.udp_timeout"),
    ("read udp 127.0.0.1:51234->127.0.0.1:53: read: connection refused", "dns.resolver_unreachable"),
    # no IPv6 source address: EADDRNOTAVAIL on an IPv6 dial
    ('Get "https://registry-1.docker.io/v2/": dial tcp [2600:1f18:2148::1]:443: connect: cannot '
     "assign requested address", "net.unreachable"),
    ("error parsing HTTP 408 response body: invalid character '<' looking for beginning of value: "
     '"<html><body><h1>408 Request Time-out</h1>\\nYour browser didn\'t send a complete request in '
     'time.\\n</body></html>"', "net.mtu"),
    ("parsing image configuration: unsupported image-specific operation on artifact with type "
     '"application/vnd.example.config.v1+json"', "image.unsupported"),
    ("Error response from daemon: repository acme/app not found: does not exist or no pull access",
     "registry.denied"),
    ("failed to extract layer sha256:" + "1" * 64 + ": failed to mount /var/lib/containerd/tmpmounts/"
     "containerd-mount1: input/output error: unknown", "host.disk_full"),
    # TLS alert 116 from a registry that wants a client certificate
    ('failed to do request: Head "https://r.example:5443/v2/a/manifests/1": remote error: tls: '
     "certificate required", "daemon.config"),
    # containers/storage: a rootless user namespace too small for the image's owners
    ("writing blob: adding layer with blob \"sha256:" + "2" * 64 + "\": processing tar file(container "
     "ID 1000 cannot be mapped to a host ID): exit status 1", "daemon.config"),
]


@pytest.mark.parametrize(("text", "code"), FORMAT_CASES, ids=[c for _, c in FORMAT_CASES])
def test_format_string_reading(text: str, code: str) -> None:
    causes = explain(text).causes
    assert causes, text
    assert causes[0].code == code, [c.code for c in causes]


RUNNER_UP_CASES = [
    # the text shows the symptom, the thread showed a cause the text cannot: rank it, lower
    ('Get "https://registry-1.docker.io/v2/": dial tcp 0.0.0.0:443: connect: connection refused',
     "net.refused", "daemon.config"),
    ("Get https://r.example/v1/repositories/library/fedora/images: dial tcp 162.242.195.84:443: "
     "connection refused", "net.refused", "proxy.error"),
    # a public registry's front refusing 443: the refusal is what the text shows; a network that
    # only lets its proxy out is the runner-up, with the check that tells them apart
    ("Get https://index.docker.io/v1/repositories/library/fedora/images: dial tcp 162.242.195.84:443: "
     "connection refused", "net.refused", "proxy.error"),
    ('Get "https://registry-1.docker.io/v2/": proxyconnect tcp: dial tcp 10.0.0.3:3128: connect: '
     "no route to host", "proxy.error", "daemon.config"),
    ("error pinging docker registry 10.1.2.3:5000: invalid status code from registry 502 (Bad Gateway)",
     "registry.server_error", "proxy.error"),
    ("Error response from daemon: repository acme/app not found: does not exist or no pull access",
     "registry.denied", "registry.not_found"),
    ('ctr: failed to resolve reference "r.example/a:1": failed to do request: Head '
     '"https://r.example/v2/a/manifests/1": x509: certificate signed by unknown authority',
     "tls.unknown_authority", "daemon.config"),
    # a 401 from the token endpoint: the credentials, or the token service failing (not the name:
    # token services issue tokens for repositories that do not exist)
    ('failed to authorize: failed to fetch oauth token: unexpected status from GET request to '
     "https://auth.r.example/token?scope=repository%3Aa%3Apull&service=r.example: 401 Unauthorized",
     "registry.unauthorized", "registry.server_error"),
    # docker's sentence names the missing login as the other reading
    ("Error response from daemon: pull access denied for team/tool, repository does not exist or may "
     "require 'docker login': denied: requested access to the resource is denied",
     "registry.denied", "registry.unauthorized"),
    # a tag that exists and 404s now: a registry incident is the runner-up of "not found"
    ("Error response from daemon: manifest for team/tool:7 not found: manifest unknown: manifest "
     "unknown", "registry.not_found", "registry.server_error"),
]


@pytest.mark.parametrize(("text", "first", "runner_up"), RUNNER_UP_CASES,
                         ids=[f"{a}+{b}" for _, a, b in RUNNER_UP_CASES])
def test_hidden_cause_is_a_ranked_alternative(text: str, first: str, runner_up: str) -> None:
    report = explain(text)
    codes = [c.code for c in report.causes]
    assert codes[0] == first, codes
    assert runner_up in codes[:3], codes
    alt = next(c for c in report.causes if c.code == runner_up)
    assert alt.confidence < report.causes[0].confidence
    assert report.causes[0].distinguish, "the reader must be told how to tell them apart"


def test_ipv4_eaddrnotavail_is_not_called_unreachable() -> None:
    """EADDRNOTAVAIL on an IPv4 dial is port exhaustion or a bad bind, not a missing route."""
    codes = [c.code for c in explain("dial tcp 10.0.0.9:443: connect: cannot assign requested "
                                     "address").causes]
    assert "net.unreachable" not in codes
