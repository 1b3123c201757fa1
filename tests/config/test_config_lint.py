"""The configuration lints: what makes a runtime refuse its config, and settings that do nothing."""

from __future__ import annotations

from pulldoctor.config.lint_containerd import (
    lint_config_toml,
    lint_hosts_dir_names,
    lint_hosts_toml,
)
from pulldoctor.config.lint_containers import lint_registries
from pulldoctor.config.lint_docker import lint_daemon
from pulldoctor.reference import parse_reference


def msgs(issues: list) -> list[str]:  # type: ignore[type-arg]
    return [f"{i.severity}: {i.message}" for i in issues]


def test_unknown_key_did_you_mean() -> None:
    out = msgs(lint_daemon({"registry-mirrorz": ["https://m"], "log-level": "info"}))
    assert out == ["error: daemon.json: unknown key 'registry-mirrorz' (did you mean 'registry-mirrors'?)"]


def test_flag_name_is_silently_ignored() -> None:
    out = msgs(lint_daemon({"registry-mirror": ["https://m"]}))
    assert len(out) == 1 and out[0].startswith("warning") and "silently ignores" in out[0]


def test_mirror_rules() -> None:
    out = msgs(lint_daemon({"registry-mirrors": ["mirror.corp:5000", "ftp://m", "https://u:p@m",
                                                 "https://ok.corp/", "https://m/path"]}))
    assert any("has no scheme" in m and m.startswith("error") for m in out)
    assert any("unsupported scheme 'ftp'" in m for m in out)
    assert any("username/password" in m for m in out)
    assert any(m.startswith("warning") and "has a path" in m for m in out)
    assert not any("ok.corp" in m for m in out)


def test_insecure_entries() -> None:
    ref = parse_reference("reg.corp:5000/app")
    out = msgs(lint_daemon({"insecure-registries": ["https://reg.corp:5000", "reg.corp", "10.0.0.0/8",
                                                    "bad/cidr"]}, ref))
    assert any(m.startswith("warning") and "strips the scheme" in m for m in out)
    assert any("should not contain" in m for m in msgs(lint_daemon({"insecure-registries": ["tcp://x"]})))
    assert any(m.startswith("warning") and "'reg.corp' does not match 'reg.corp:5000'" in m for m in out)
    assert any("'bad/cidr' is neither" in m for m in out)
    assert not any("10.0.0.0/8" in m for m in out)


def test_settings_that_do_nothing() -> None:
    out = msgs(lint_daemon({"dns": ["8.8.8.8"], "registry-mirrors": ["https://m.corp"]},
                           parse_reference("quay.io/a/b")))
    assert any("only set containers' DNS" in m for m in out)
    assert any("apply to Docker Hub only" in m for m in out)


def test_types() -> None:
    out = msgs(lint_daemon({"mtu": "1400", "dns": "8.8.8.8", "proxies": {"https_proxy": "x"}}))
    assert any("'mtu' must be a non-negative integer" in m for m in out)
    assert any("'dns' must be a list" in m for m in out)
    assert any("unknown key 'https_proxy' (did you mean 'https-proxy'?)" in m for m in out)


def test_containerd_section_for_the_wrong_version() -> None:
    v3 = {"version": 3, "plugins": {"io.containerd.grpc.v1.cri": {"registry": {"config_path": "/x"}}}}
    assert any("are ignored by a version = 3 config" in m for m in msgs(lint_config_toml(v3)))
    v2 = {"version": 2, "plugins": {"io.containerd.cri.v1.images": {"registry": {"config_path": "/x"}}}}
    assert any("only read with version = 3" in m for m in msgs(lint_config_toml(v2)))


def test_containerd_config_path_with_mirrors() -> None:
    cfg = {"version": 2, "plugins": {"io.containerd.grpc.v1.cri": {"registry": {
        "config_path": "/etc/containerd/certs.d", "mirrors": {"docker.io": {"endpoint": ["https://m"]}},
        "config_pth": "x"}}}}
    out = msgs(lint_config_toml(cfg))
    assert any("`mirrors` cannot be set when `config_path` is provided" in m for m in out)
    assert any("deprecated" in m for m in out)
    assert any("'config_pth' (did you mean 'config_path'?)" in m for m in out)


def test_hosts_dirs_and_files() -> None:
    out = msgs(lint_hosts_dir_names(["registry-1.docker.io", "reg.corp_5000", "reg_5000_", "_default"],
                                    "/etc/containerd/certs.d"))
    assert len(out) == 2
    assert "docker.io" in out[0] and "trailing underscore" in out[1]
    h = msgs(lint_hosts_toml('server = "https://r"\nskip_verfy = true\n[host."https://m"]\n'
                             'capabilities = ["pull"]\n', "/x/hosts.toml"))
    assert any("'skip_verfy' (did you mean 'skip_verify'?)" in m for m in h)
    assert any('lacks the "resolve" capability' in m for m in h)
    assert msgs(lint_hosts_toml("server = [", "/x/hosts.toml"))[0].startswith("error: /x/hosts.toml: not valid TOML")


def test_registries_conf() -> None:
    regs = [{"prefix": "docker.io", "location": "https://mirror.corp", "_file": "f.conf",
             "mirror-by-digest-onyl": True}]
    out = msgs(lint_registries({"registries": {}}, regs, None))
    assert any("URI schemes" in m or "URI scheme" in m for m in out)
    assert any("mixes the v1" in m for m in out)
    assert any("did you mean 'mirror-by-digest-only'" in m for m in out)
    short = msgs(lint_registries({}, [], parse_reference("nginx")))
    assert any("short name" in m for m in short)
    aliased = msgs(lint_registries({"aliases": {"nginx": "docker.io/library/nginx"}}, [],
                                   parse_reference("nginx")))
    assert not any("short name" in m for m in aliased)


def _short_warnings(image: str, top: dict | None = None) -> list[str]:  # type: ignore[type-arg]
    return [m for m in msgs(lint_registries(top or {}, [], parse_reference(image)))
            if "short name" in m]


def test_a_registry_host_with_a_port_is_not_a_short_name() -> None:
    # the healthy-insecure-http x skopeo cell: the colon of the port made the name look short
    assert _short_warnings("registry.lab.test:5002/lab/hello") == []
    assert _short_warnings("registry.lab.test:5002/lab/hello:v1") == []
    assert _short_warnings("myhost:5000/app") == []  # a port alone makes a host (no dot needed)


def test_localhost_and_ipv6_literals_are_registry_hosts() -> None:
    assert _short_warnings("localhost/app:1") == []
    assert _short_warnings("localhost:5000/app") == []
    assert _short_warnings("[::1]:5000/lab/hello") == []
    assert _short_warnings("[fd00::2]/lab/hello") == []


def test_short_names_are_still_found() -> None:
    assert _short_warnings("nginx")  # one component
    assert _short_warnings("nginx:1.25")
    assert _short_warnings("library/nginx")  # two components, no host: short in containers/image
    assert _short_warnings("localhost:5000")  # the name "localhost", tag 5000


def test_a_short_name_alias_is_keyed_without_its_tag() -> None:
    top = {"aliases": {"library/nginx": "docker.io/library/nginx"}}
    assert _short_warnings("library/nginx:1.25", top) == []
    assert _short_warnings("nginx:1.25", {"aliases": {"nginx": "docker.io/library/nginx"}}) == []


def test_short_name_mode_does_not_replace_search_registries() -> None:
    # pkg/shortnames Resolve fails without an alias or search registry in every mode
    assert _short_warnings("nginx", {"short-name-mode": "disabled"})
    assert _short_warnings("nginx", {"unqualified-search-registries": ["docker.io"]}) == []
