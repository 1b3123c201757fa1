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
]


@pytest.mark.parametrize(("text", "code"), CLASS_CASES, ids=[c for _, c in CLASS_CASES])
def test_class_reading(text: str, code: str) -> None:
    causes = explain(text).causes
    assert causes, text
    assert causes[0].code == code, [c.code for c in causes]


AMBIGUOUS = [
    # the cause is not in the text: every plausible cause is listed, with a check, none alone
    ('Get "https://r.example/v2/": net/http: request canceled while waiting for connection '
     "(Client.Timeout exceeded while awaiting headers)",
     {"net.request_timeout", "dns.udp_timeout", "net.tcp_timeout"}),
    ("Failed to pull image \"a:1\": rpc error: code = Unknown desc = context canceled",
     {"net.request_timeout", "net.tcp_timeout", "dns.udp_timeout"}),
    ("failed to register layer: Error processing tar file(exit status 1): unexpected EOF",
     {"image.corrupt", "host.disk_full"}),
    ("failed to register layer: Error processing tar file(exit status 1): archive/tar: invalid tar "
     "header", {"image.unsupported", "image.corrupt"}),
    ('image operating system "linux" cannot be used on this platform',
     {"image.platform_mismatch", "daemon.config"}),
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
