"""discover() for podman/skopeo/CRI-O: registries.conf + .d merge, prefixes, mirrors, auth.json."""

from __future__ import annotations

import base64
import json
from pathlib import Path

from pulldoctor.config.effective import discover

DIGEST = "sha256:" + "a" * 64


def write(root: Path, path: str, text: str) -> None:
    p = root / path.lstrip("/")
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_text(text)


CONF = '''
unqualified-search-registries = ["docker.io"]

[[registry]]
prefix = "docker.io"
location = "docker.io"
[[registry.mirror]]
location = "mirror.corp:5000"
insecure = true
[[registry.mirror]]
location = "digest-only.corp"
pull-from-mirror = "digest-only"

[[registry]]
prefix = "quay.io/blocked"
location = "quay.io/blocked"
blocked = true
'''


def test_mirrors_in_order_digest_only_skipped_for_tags(tmp_path: Path) -> None:
    write(tmp_path, "/etc/containers/registries.conf", CONF)
    tag = discover("docker.io/library/nginx:1", "podman", tmp_path, {"HOME": "/home/u"})
    assert [e.url for e in tag.endpoints] == ["https://mirror.corp:5000", "http://mirror.corp:5000",
                                               "https://registry-1.docker.io"]
    by_digest = discover(f"docker.io/library/nginx@{DIGEST}", "podman", tmp_path, {"HOME": "/home/u"})
    assert "https://digest-only.corp" in [e.url for e in by_digest.endpoints]


def test_longest_prefix_and_blocked(tmp_path: Path) -> None:
    write(tmp_path, "/etc/containers/registries.conf", CONF)
    blocked = discover("quay.io/blocked/app", "podman", tmp_path, {})
    assert blocked.endpoints == [] and blocked.settings["blocked"]
    free = discover("quay.io/other/app", "podman", tmp_path, {})
    assert [e.url for e in free.endpoints] == ["https://quay.io"]


def test_conf_d_overrides_same_prefix(tmp_path: Path) -> None:
    write(tmp_path, "/etc/containers/registries.conf", CONF)
    write(tmp_path, "/etc/containers/registries.conf.d/50-override.conf",
          '[[registry]]\nprefix = "docker.io"\nlocation = "hub-proxy.corp"\n')
    cfg = discover("nginx", "podman", tmp_path, {})
    assert [e.url for e in cfg.endpoints] == ["https://hub-proxy.corp"]
    assert "/etc/containers/registries.conf.d/50-override.conf" in cfg.sources


def test_auth_json_most_specific_key_and_certs(tmp_path: Path) -> None:
    env = {"HOME": "/home/u", "XDG_RUNTIME_DIR": "/run/user/1000"}
    auth = base64.b64encode(b"dave:tok-abcdef").decode()
    write(tmp_path, "/run/user/1000/containers/auth.json", json.dumps({"auths": {
        "reg.corp": {"auth": base64.b64encode(b"generic:x1234").decode()},
        "reg.corp/team": {"auth": auth}}}))
    write(tmp_path, "/etc/containers/certs.d/reg.corp/ca.crt", "x")
    cfg = discover("reg.corp/team/app", "podman", tmp_path, env)
    assert cfg.credentials[0].username == "dave"
    assert "auths[reg.corp/team]" in cfg.credentials[0].source
    assert cfg.endpoints[0].ca_files == ["/etc/containers/certs.d/reg.corp/ca.crt"]
    assert "tok-abcdef" not in json.dumps(cfg.to_dict())


def test_falls_back_to_docker_config(tmp_path: Path) -> None:
    write(tmp_path, "/home/u/.docker/config.json", json.dumps(
        {"auths": {"reg.corp": {"auth": base64.b64encode(b"erin:pw12345").decode()}}}))
    cfg = discover("reg.corp/app", "podman", tmp_path, {"HOME": "/home/u"})
    assert cfg.credentials[0].username == "erin"
    assert "config.json" in cfg.credentials[0].source


def test_client_environment_proxy(tmp_path: Path) -> None:
    cfg = discover("reg.corp/app", "skopeo", tmp_path, {"https_proxy": "http://p:1"})
    assert cfg.runtime == "podman" and cfg.endpoints[0].proxy == "http://p:1"


def test_hub_login_under_registry_1_is_read_by_podman_not_docker(tmp_path: Path) -> None:
    # what 'docker login registry-1.docker.io' writes: containers/image normalises the key to
    # Docker Hub, the docker CLI looks only under https://index.docker.io/v1/
    write(tmp_path, "/home/u/.docker/config.json", json.dumps(
        {"auths": {"registry-1.docker.io": {"auth": base64.b64encode(b"hub:pw98765").decode()}}}))
    env = {"HOME": "/home/u", "XDG_RUNTIME_DIR": "/run/user/1000"}
    podman = discover("docker.io/labuser/private", "podman", tmp_path, env)
    assert [c.username for c in podman.credentials] == ["hub"]
    assert podman.credentials[0].source.endswith("config.json auths[registry-1.docker.io]")
    docker = discover("docker.io/labuser/private", "docker", tmp_path, env, live=False)
    assert docker.credentials == []
