"""containers/image's trust policy read from real files in a temp root: the strict parser, the
scope order, the user's file first, registries.d signature locations."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pulldoctor.config.policy import (
    PolicyError,
    attachment_tag,
    missing_key_files,
    parse_policy,
    read_policy,
    scopes,
    signature_url,
    stored_signatures,
)
from pulldoctor.reference import parse_reference

ACCEPT = [{"type": "insecureAcceptAnything"}]
REJECT = [{"type": "reject"}]
ENV = {"HOME": "/home/u"}


def write(root: Path, path: str, text: str) -> Path:
    p = root / path.lstrip("/")
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_text(text)
    return p


def policy(root: Path, doc: object, path: str = "/etc/containers/policy.json") -> None:
    write(root, path, json.dumps(doc) if not isinstance(doc, str) else doc)


@pytest.mark.parametrize("text,error", [
    ('{"default": [{"type": "insecureAcceptAnything"}], "default": []}', 'Duplicate key "default"'),
    ('{"transports": {}}', "Default policy is missing"),
    ('{"default": []}', "must not be empty"),
    ('{"default": [{"type": "accept"}]}', 'Unknown policy requirement type "accept"'),
    ('{"default": [{"type": "reject", "why": "x"}]}', 'Unknown key "why"'),
    ('{"default": [{"type": "signedBy", "keyPath": "/k"}]}', 'invalid keyType ""'),
    ('{"default": [{"type": "signedBy", "keyType": "GPGKeys", "keyPath": "/k", "keyData": "x"}]}',
     "Exactly one of keyPath, keyPaths and keyData"),
    ('{"default": [{"type": "signedBaseLayer"}]}', 'Key "baseLayerIdentity" missing'),
    ('{"default": ' + json.dumps(ACCEPT) + ', "transport": {}}', 'Unknown key "transport"'),
    ('{"default": ' + json.dumps(ACCEPT) + ', "transports": {"docker": {"x": []}}}',
     "must not be empty"),
    ("{not json", "line 1"),
])
def test_the_parser_is_as_strict_as_containers_image(text: str, error: str) -> None:
    with pytest.raises(PolicyError, match=error):
        parse_policy(text)


def test_scopes_from_most_specific() -> None:
    assert scopes(parse_reference("registry.lab.test:5000/team/app/web:1.2")) == [
        "registry.lab.test:5000/team/app/web:1.2", "registry.lab.test:5000/team/app/web",
        "registry.lab.test:5000/team/app", "registry.lab.test:5000/team", "registry.lab.test:5000",
        "*.lab.test", "*.test"]
    d = "sha256:" + "a" * 64
    assert scopes(parse_reference(f"busybox@{d}"))[:4] == [
        f"docker.io/library/busybox@{d}", "docker.io/library/busybox", "docker.io/library",
        "docker.io"]


@pytest.mark.parametrize("scope,expected", [
    ("registry.lab.test/lab/hello:latest", 'docker "registry.lab.test/lab/hello:latest"'),
    ("registry.lab.test/lab", 'docker "registry.lab.test/lab"'),
    ("registry.lab.test", 'docker "registry.lab.test"'),
    ("*.lab.test", 'docker "*.lab.test"'),
    ("", 'docker ""'),
    ("other.example", "default"),
])
def test_the_most_specific_scope_decides(tmp_path: Path, scope: str, expected: str) -> None:
    policy(tmp_path, {"default": REJECT, "transports": {
        "docker": {scope: ACCEPT, "quay.io": REJECT}, "docker-daemon": {"": ACCEPT}}})
    v = read_policy(tmp_path, ENV, parse_reference("registry.lab.test/lab/hello"))
    assert v.error is None and v.scope == expected
    assert v.rejects == (expected == "default")
    assert v.scopes_tried[0] == 'docker "registry.lab.test/lab/hello:latest"'


def test_the_user_policy_wins_and_a_missing_one_is_an_error(tmp_path: Path) -> None:
    ref = parse_reference("registry.lab.test/lab/hello")
    assert read_policy(tmp_path, ENV, ref).error == \
        "open /etc/containers/policy.json: no such file or directory"
    policy(tmp_path, {"default": ACCEPT})
    policy(tmp_path, {"default": REJECT}, "/home/u/.config/containers/policy.json")
    v = read_policy(tmp_path, ENV, ref)
    assert v.path == "/home/u/.config/containers/policy.json" and v.rejects
    policy(tmp_path, '{"default": [{"type": "reject"}],}', "/home/u/.config/containers/policy.json")
    err = read_policy(tmp_path, ENV, ref).error
    assert err and err.startswith('invalid policy in "/home/u/.config/containers/policy.json"')


def test_registries_d_lookaside_and_attachments_by_scope(tmp_path: Path) -> None:
    policy(tmp_path, {"default": [{"type": "signedBy", "keyType": "GPGKeys",
                                   "keyPaths": ["/etc/pki/a.gpg", "/etc/pki/b.gpg"]}]})
    write(tmp_path, "/etc/pki/a.gpg", "key")
    write(tmp_path, "/etc/containers/registries.d/default.yaml",
          "default-docker:\n  lookaside: file:///var/lib/containers/sigstore\n")
    write(tmp_path, "/etc/containers/registries.d/lab.yaml",
          "docker:\n  registry.lab.test/lab:\n    lookaside: https://sigs.lab.test/sigs/\n"
          "  registry.lab.test:\n    use-sigstore-attachments: true\n")
    ref = parse_reference("registry.lab.test/lab/hello")
    v = read_policy(tmp_path, ENV, ref)
    assert v.lookaside == "https://sigs.lab.test/sigs/lab/hello"
    assert v.lookaside_source.endswith('lab.yaml docker "registry.lab.test/lab"')
    assert v.sigstore_attachments and v.needs_signature
    assert missing_key_files(v, tmp_path) == ["/etc/pki/b.gpg"]
    d = "sha256:" + "b" * 64
    assert signature_url(v.lookaside, d) == \
        f"https://sigs.lab.test/sigs/lab/hello@sha256={'b' * 64}/signature-1"
    assert attachment_tag(d) == f"sha256-{'b' * 64}.sig"
    other = read_policy(tmp_path, ENV, parse_reference("quay.io/x/y"))
    assert other.lookaside == "file:///var/lib/containers/sigstore/x/y"
    assert not other.sigstore_attachments


def test_a_local_lookaside_is_listed_by_digest(tmp_path: Path) -> None:
    policy(tmp_path, {"default": [{"type": "signedBy", "keyType": "GPGKeys", "keyData": "x"}]})
    write(tmp_path, "/etc/containers/registries.d/a.yaml",
          "default-docker:\n  lookaside: file:///srv/sigs\n")
    ref = parse_reference("registry.lab.test/lab/hello")
    v = read_policy(tmp_path, ENV, ref)
    assert stored_signatures(v, tmp_path) == []
    write(tmp_path, f"/srv/sigs/lab/hello@sha256={'c' * 64}/signature-1", "sig")
    write(tmp_path, f"/srv/sigs/lab/hello2@sha256={'d' * 64}/signature-1", "sig")
    assert stored_signatures(v, tmp_path) == ["sha256:" + "c" * 64]


def test_registries_d_conflicts_are_their_own_finding(tmp_path: Path) -> None:
    policy(tmp_path, {"default": ACCEPT})
    for name in ("a.yaml", "b.yaml"):
        write(tmp_path, f"/etc/containers/registries.d/{name}",
              "default-docker:\n  lookaside: file:///x\n")
    v = read_policy(tmp_path, ENV, parse_reference("busybox"))
    assert v.error is None and v.registries_d_error and "default-docker" in v.registries_d_error
