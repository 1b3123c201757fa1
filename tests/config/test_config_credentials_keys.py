"""Which auths key each runtime reads: containers/image's normalisation vs docker's own rules.

containers/image (pkg/docker/config ``findCredentialsInFile``) tries exact keys, most specific
first (``host/ns/repo``, ``host/ns``, ``host``), then any key that normalises to the registry, where
``docker.io``, ``registry-1.docker.io``, ``index.docker.io`` and ``https://index.docker.io/v1/``
are one registry. The docker CLI looks Hub up only under ``https://index.docker.io/v1/`` (or a key
whose host is ``index.docker.io``/``docker.io``): those rules must not change.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest

from pulldoctor.config.credentials import (
    AuthFile,
    containers_auth_files,
    containers_auth_keys,
    containers_credential,
    docker_credential,
    normalize_auth_file_key,
)

ENV = {"HOME": "/home/u", "XDG_RUNTIME_DIR": "/run/user/1000", "UID": "1000"}
AUTH_JSON = "/run/user/1000/containers/auth.json"
CONFIG_JSON = "/home/u/.docker/config.json"


def entry(user: str) -> dict[str, str]:
    return {"auth": base64.b64encode(f"{user}:pw-{user}-123".encode()).decode()}


def write(root: Path, path: str, data: object) -> None:
    p = root / path.lstrip("/")
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_text(json.dumps(data))


def user_for(root: Path, registry: str, repository: str, env: dict[str, str] = ENV) -> str | None:
    cred, _, _, _ = containers_credential(root, registry, repository, env)
    return cred.username if cred else None


@pytest.mark.parametrize("key", ["docker.io", "index.docker.io", "registry-1.docker.io",
                                 "https://index.docker.io/v1/", "http://index.docker.io/v1/",
                                 "https://registry-1.docker.io/v2/", "https://docker.io"])
def test_every_spelling_of_hub_is_hub_for_containers_image(tmp_path: Path, key: str) -> None:
    write(tmp_path, AUTH_JSON, {"auths": {key: entry("hubuser")}})
    assert user_for(tmp_path, "docker.io", "labuser/private") == "hubuser"


@pytest.mark.parametrize("key", ["index.docker.io/labuser", "registry-1.docker.io/labuser/private",
                                 "quay.io", "docker.io/other"])
def test_keys_that_are_not_this_repository(tmp_path: Path, key: str) -> None:
    # a namespaced key without a scheme is only ever an exact match
    write(tmp_path, AUTH_JSON, {"auths": {key: entry("x")}})
    assert user_for(tmp_path, "docker.io", "labuser/private") is None


def test_most_specific_namespaced_key_first(tmp_path: Path) -> None:
    write(tmp_path, AUTH_JSON, {"auths": {
        "https://index.docker.io/v1/": entry("legacy"), "docker.io": entry("host"),
        "docker.io/labuser": entry("ns"), "docker.io/labuser/private": entry("repo")}})
    assert user_for(tmp_path, "docker.io", "labuser/private") == "repo"
    assert user_for(tmp_path, "docker.io", "labuser/other") == "ns"
    assert user_for(tmp_path, "docker.io", "library/nginx") == "host"  # exact before normalised


def test_lookup_order_is_pure_and_exact_keys_come_first() -> None:
    auths = {"https://index.docker.io/v1/": {}, "docker.io/a": {}, "docker.io": {},
             "docker.io/a/b/c": {}}
    assert containers_auth_keys(auths, "docker.io", "a/b/c") == [
        "docker.io/a/b/c", "docker.io/a", "docker.io", "https://index.docker.io/v1/"]
    # ~/.dockercfg (legacy): the host exactly, then every key cut to its host
    assert containers_auth_keys(auths, "docker.io", "a/b/c", legacy=True) == [
        "docker.io", "https://index.docker.io/v1/", "docker.io/a", "docker.io/a/b/c"]


def test_normalize_auth_file_key() -> None:
    assert normalize_auth_file_key("https://index.docker.io/v1/") == "index.docker.io"
    assert normalize_auth_file_key("registry-1.docker.io") == "index.docker.io"
    assert normalize_auth_file_key("docker.io") == "index.docker.io"
    assert normalize_auth_file_key("docker.io/team") == "docker.io/team"
    assert normalize_auth_file_key("docker.io/team", legacy=True) == "index.docker.io"
    assert normalize_auth_file_key("https://reg.corp:5000/v2/") == "reg.corp:5000"


def test_other_registries_with_a_port_and_a_scheme(tmp_path: Path) -> None:
    write(tmp_path, AUTH_JSON, {"auths": {"https://reg.corp:5000/v2/": entry("corp")}})
    assert user_for(tmp_path, "reg.corp:5000", "team/app") == "corp"
    assert user_for(tmp_path, "reg.corp", "team/app") is None


def test_an_empty_best_entry_moves_on_to_the_next_file(tmp_path: Path) -> None:
    # docker writes "auths": {"host": {}} when a credsStore holds the secret
    write(tmp_path, AUTH_JSON, {"auths": {"docker.io": {}, "registry-1.docker.io": entry("no")}})
    write(tmp_path, CONFIG_JSON, {"auths": {"registry-1.docker.io": entry("cfg")}})
    cred, files, _, _ = containers_credential(tmp_path, "docker.io", "labuser/private", ENV)
    assert cred is not None and cred.username == "cfg"
    assert cred.source == f"{CONFIG_JSON} auths[registry-1.docker.io]"
    assert files == [AUTH_JSON, CONFIG_JSON]


def test_docker_config_is_read_with_containers_rules_and_credsstore_ignored(tmp_path: Path) -> None:
    write(tmp_path, CONFIG_JSON, {"credsStore": "nonexistent-helper",
                                  "auths": {"registry-1.docker.io": entry("cfg")}})
    assert user_for(tmp_path, "docker.io", "labuser/private") == "cfg"


def test_legacy_dockercfg(tmp_path: Path) -> None:
    write(tmp_path, "/home/u/.dockercfg", {"https://index.docker.io/v1/": entry("old")})
    assert user_for(tmp_path, "docker.io", "library/nginx") == "old"


def test_auth_file_order() -> None:
    assert containers_auth_files(ENV) == [
        AuthFile(AUTH_JSON), AuthFile("/home/u/.config/containers/auth.json"),
        AuthFile(CONFIG_JSON), AuthFile("/home/u/.dockercfg", legacy=True)]
    assert containers_auth_files({"HOME": "/home/u", "UID": "1000"})[0] == AuthFile(
        "/run/containers/1000/auth.json")  # no XDG_RUNTIME_DIR: per-UID path, root or not
    assert containers_auth_files({**ENV, "REGISTRY_AUTH_FILE": "/a.json"}) == [AuthFile("/a.json")]


def test_docker_keeps_its_own_hub_key(tmp_path: Path) -> None:
    # the hub-login-wrong-key scenario: what 'docker login registry-1.docker.io' writes
    write(tmp_path, CONFIG_JSON, {"auths": {"registry-1.docker.io": entry("wrong")}})
    cred, _, _, _ = docker_credential(tmp_path, "docker.io", ENV)
    assert cred is None
    write(tmp_path, CONFIG_JSON, {"auths": {"https://index.docker.io/v1/": entry("right")}})
    cred, _, _, _ = docker_credential(tmp_path, "docker.io", ENV)
    assert cred is not None and cred.username == "right"
