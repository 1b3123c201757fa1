"""The core runtimes' own error returns (explain/rules_cri.py), one text per format string.

Each text is instantiated from the format string named beside it; the test holds the cause the
wording decides at top-1 and that ``scan`` finds it (a trigger word is in it).
"""

from __future__ import annotations

import pytest

from pulldoctor.explain import fallback
from pulldoctor.explain.rules import rank
from pulldoctor.explain.rules_cri import RULES
from pulldoctor.explain.triggers import TRIGGERS

_P = 'failed to pull and unpack image "r.example.com/x/y:1": '
_R = 'failed to resolve reference "r.example.com/x/y:1": '
CASES = [
    # containerd core/unpack/unpacker.go
    (_P + 'wrong diff id "sha256:cc" calculated on extraction "sha256:dd", desc "sha256:aa"',
     "image.corrupt"),
    (_P + "number of layers and diffIDs don't match: 3 != 4", "image.corrupt"),
    # core/remotes/handlers.go
    (_P + "application/vnd.unknown.layer.v1+tar not supported", "image.unsupported"),
    # core/remotes/docker/resolver.go, fetcher.go
    (_P + _R + "rejecting 5242880 byte manifest for r.example.com/x/y:1: not found", "image.unsupported"),
    (_P + _R + "no resolve hosts: not found", "daemon.config"),
    (_P + "no pull hosts: not found", "daemon.config"),
    (_P + 'failed to copy: httpReadSeeker: failed open: failed to do request: Get "https://r.example.com/'
     'v2/x/y/blobs/sha256:aa": stopped after 10 redirects', "registry.server_error"),
    (_P + "failed to copy: httpReadSeeker: failed open: unhandled content range in response: bytes 0-1/2",
     "registry.server_error"),
    (_P + _R + '"abc" in header not a valid digest: invalid checksum digest format', "registry.server_error"),
    # core/remotes/docker/auth/fetch.go, authorizer.go
    (_P + _R + "failed to authorize: failed to fetch anonymous token: unable to decode token response: "
     "invalid character '<' looking for beginning of value", "registry.server_error"),
    (_P + _R + "server message: invalid_token: authorization failed", "registry.unauthorized"),
    # internal/cri/server/images/image_pull.go, core/remotes/docker/config/hosts.go
    (_P + _R + 'invalid decoded auth: "user"', "registry.unauthorized"),
    (_P + _R + 'get registry endpoints: unable to load CA cert "/etc/containerd/certs.d/r/ca.crt"',
     "daemon.config"),
    ('failed to parse image_pull_progress_timeout "5": time: missing unit in duration "5"', "daemon.config"),
    ('level=error msg="cancelled pulling image r.example.com/x/y:1 because of no progress in 1m0s"',
     "net.request_timeout"),
    # CRI-O server/image_pull.go
    ('Failed to pull image "r.example.com/x/y:1": RegistryUnavailable: pinging container registry '
     'r.example.com: Get "https://r.example.com/v2/": dial tcp 10.0.0.1:443: connect: connection '
     'refused', "net.refused"),
    ("Warning  Failed  kubelet  Error: RegistryUnavailable", "net.refused"),
    ('level=warning msg="Timed out on waiting up to 1m0s for image pull progress updates"',
     "net.request_timeout"),
    # containers/image docker/errors.go, storage/storage_dest.go, docker_image_src.go, copy/copy.go
    ("Error: initializing source docker://x/y:1: reading manifest 1 in docker.io/x/y: too many "
     "requests to registry", "registry.rate_limited"),
    ('Error: writing blob: uncompressed digest of layer "sha256:aa" is "sha256:bb", config claims '
     '"sha256:cc"', "image.corrupt"),
    ('Error: reading images from docker: reference "docker://r.example.com/x/y" without a tag or '
     "digest is not supported", "ref.invalid"),
    ("Error: copying system image from manifest list: Necessary DecryptParameters not present",
     "image.unsupported"),
    ('Error: writing blob: storing blob to file "/var/tmp/s/1": happened during read: Missing '
     '"Content-Length" header in response', "registry.server_error"),
    # kubelet pkg/kubelet/images/image_manager.go
    ('Failed to inspect image "r.example.com/x/y:1": rpc error: code = Unknown desc = image not known',
     "image.corrupt"),
    # BuildKit source/containerimage/pull.go, util/imageutil/config.go, util/resolver/resolver.go
    ("ERROR: failed to solve: image digest sha256:aa for docker.io/x/y:1 does not match expected "
     "checksum sha256:bb", "image.corrupt"),
    ("ERROR: failed to solve: r/x:1: failed to resolve source metadata for r/x:1: mediaType in "
     "manifest does not match manifest contents", "image.corrupt"),
    ("ERROR: failed to solve: r/x:1: failed to resolve source metadata for r/x:1: failed to load "
     "keypair for /etc/buildkit/certs/client.pem: open /etc/buildkit/certs/client.pem: no such file "
     "or directory", "daemon.config"),
]


@pytest.mark.parametrize(("text", "code"), CASES)
def test_runtime_return_names_its_cause(text: str, code: str) -> None:
    candidates = rank(text)
    assert candidates and candidates[0].code.value == code, [c.code.value for c in candidates[:3]]


@pytest.mark.parametrize(("text", "code"), CASES)
def test_scan_finds_runtime_return(text: str, code: str) -> None:
    assert any(word.decode() in text for word in TRIGGERS)


def test_every_rule_says_how_to_tell() -> None:
    assert all(r.distinguish for r in RULES)


@pytest.mark.parametrize("text", [
    "Error: RegistryUnavailable", "Error: SignatureValidationFailed", "Error: ImageInspectError",
    'rpc error: code = Unknown desc = pull image: some new child error',
])
def test_cri_wrappers_are_pull_failures(text: str) -> None:
    """Even an unknown inner error gets the step-implied candidates behind these wrappers."""
    assert fallback._is_pull_failure(text)


def test_not_a_pull_text_is_left_alone() -> None:
    assert rank("Failed to read configuration file /etc/app.conf: permission denied") == []
