"""Reference normalisation, checked against distribution/reference's documented behaviour."""

from __future__ import annotations

import pytest

from pulldoctor.errors import ReferenceError_
from pulldoctor.reference import containers_short_name, parse_reference


@pytest.mark.parametrize(
    ("text", "registry", "repo", "tag", "api_host"),
    [
        ("nginx", "docker.io", "library/nginx", "latest", "registry-1.docker.io"),
        ("nginx:1.25", "docker.io", "library/nginx", "1.25", "registry-1.docker.io"),
        ("bitnami/redis", "docker.io", "bitnami/redis", "latest", "registry-1.docker.io"),
        ("index.docker.io/library/nginx", "docker.io", "library/nginx", "latest",
         "registry-1.docker.io"),
        ("localhost/foo", "localhost", "foo", "latest", "localhost"),
        ("localhost:5000/a/b:v1", "localhost:5000", "a/b", "v1", "localhost:5000"),
        ("quay.io/coreos/etcd:v3.5", "quay.io", "coreos/etcd", "v3.5", "quay.io"),
        ("198.18.0.10:5000/x", "198.18.0.10:5000", "x", "latest", "198.18.0.10:5000"),
        ("[fd00::1]:5000/x", "[fd00::1]:5000", "x", "latest", "[fd00::1]:5000"),
        ("Registry/x", "Registry", "x", "latest", "Registry"),
    ],
)
def test_normalises_like_the_runtimes(
    text: str, registry: str, repo: str, tag: str, api_host: str
) -> None:
    ref = parse_reference(text)
    assert (ref.registry, ref.repository, ref.tag, ref.api_host) == (registry, repo, tag, api_host)


def test_digest_reference_has_no_default_tag() -> None:
    d = "sha256:" + "a" * 64
    ref = parse_reference(f"alpine@{d}")
    assert ref.tag is None and ref.digest == d and ref.reference == d
    assert str(ref) == f"docker.io/library/alpine@{d}"


def test_host_and_port_split() -> None:
    ref = parse_reference("[fd00::1]:5000/x")
    assert ref.host == "fd00::1" and ref.port == 5000
    assert parse_reference("nginx").port is None


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("", "empty"),
        ("Nginx", "lowercase"),
        ("https://quay.io/x", "scheme"),
        ("nginx:bad tag", "tag"),
        ("alpine@sha256:abc", "digest"),
        ("a//b", "component"),
        ("localhost:99999/x", "port 99999"),
        ("localhost:0/x", "port 0"),
        ("[fd00::1]:70000/x", "port 70000"),
    ],
)
def test_malformed_references_say_why(text: str, needle: str) -> None:
    with pytest.raises(ReferenceError_, match=needle):
        parse_reference(text)


@pytest.mark.parametrize(("text", "short"), [
    ("nginx", "nginx"),
    ("nginx:1.25", "nginx"),
    ("library/nginx:1.25", "library/nginx"),
    ("user/app", "user/app"),
    ("localhost", "localhost"),
    ("localhost:5000", "localhost"),  # the name "localhost" with tag 5000
    ("nginx@sha256:" + "a" * 64, "nginx"),  # pkg/shortnames' code (its doc comment says otherwise)
    ("localhost/app", None),
    ("localhost:5000/app:1", None),
    ("registry.lab.test:5002/lab/hello", None),
    ("registry.lab.test:5002/lab/hello:latest", None),
    ("myhost:5000/app", None),
    ("quay.io/app", None),
    ("docker.io/library/nginx", None),
    ("[::1]:5000/lab/hello", None),
    ("[fd00::2]/lab/hello", None),
])
def test_containers_short_name(text: str, short: str | None) -> None:
    assert containers_short_name(text) == short
