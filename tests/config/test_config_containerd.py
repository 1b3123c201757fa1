"""discover() for containerd's CRI: config.toml sections per version, hosts.toml precedence."""

from __future__ import annotations

from pathlib import Path

from pulldoctor.config.effective import discover

V2_CFG = 'version = 2\n[plugins."io.containerd.grpc.v1.cri".registry]\n  config_path = "/etc/containerd/certs.d"\n'
HUB_HOSTS = '''
server = "https://registry-1.docker.io"

[host."https://mirror-a.corp:5000"]
  capabilities = ["pull", "resolve"]
  ca = "mirror-a.pem"

[host."http://mirror-b.corp/v2/cache"]
  capabilities = ["pull"]
  override_path = true
'''


def write(root: Path, path: str, text: str) -> None:
    p = root / path.lstrip("/")
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_text(text)


def test_hosts_toml_order_then_server(tmp_path: Path) -> None:
    write(tmp_path, "/etc/containerd/config.toml", V2_CFG)
    write(tmp_path, "/etc/containerd/certs.d/docker.io/hosts.toml", HUB_HOSTS)
    cfg = discover("nginx", "containerd", tmp_path, {})
    assert [e.url for e in cfg.endpoints] == ["https://mirror-a.corp:5000", "http://mirror-b.corp/v2/cache",
                                               "https://registry-1.docker.io"]
    a, b, server = cfg.endpoints
    assert a.ca_files == ["/etc/containerd/certs.d/docker.io/mirror-a.pem"]
    assert b.capabilities == ["pull"] and b.path_prefix == "/v2/cache" and b.insecure
    assert not server.is_mirror and server.path_prefix == "/v2"
    assert "/etc/containerd/certs.d/docker.io/hosts.toml" in cfg.sources


def test_host_port_underscore_dir_wins(tmp_path: Path) -> None:
    write(tmp_path, "/etc/containerd/config.toml", V2_CFG)
    write(tmp_path, "/etc/containerd/certs.d/reg.corp:5000/hosts.toml", 'server = "https://colon.corp"\n')
    write(tmp_path, "/etc/containerd/certs.d/reg.corp_5000_/hosts.toml", 'server = "https://under.corp"\n')
    assert discover("reg.corp:5000/a", "containerd", tmp_path, {}).endpoints[0].url == "https://under.corp"


def test_default_dir_in_first_root_hides_host_dir_in_second(tmp_path: Path) -> None:
    write(tmp_path, "/etc/containerd/config.toml", "version = 2\n")  # config_path unset: the default
    write(tmp_path, "/etc/containerd/certs.d/_default/hosts.toml", 'server = "https://catchall.corp"\n')
    write(tmp_path, "/etc/docker/certs.d/quay.io/hosts.toml", 'server = "https://specific.corp"\n')
    cfg = discover("quay.io/a/b", "containerd", tmp_path, {})
    assert cfg.endpoints[0].url == "https://catchall.corp"
    assert cfg.settings["host_dir"] == "/etc/containerd/certs.d/_default"


def test_no_hosts_dir_defaults_and_localhost_http(tmp_path: Path) -> None:
    cfg = discover("localhost:5000/a", "containerd", tmp_path, {})
    assert cfg.endpoints[0].url == "http://localhost:5000"
    assert discover("quay.io/a", "containerd", tmp_path, {}).endpoints[0].url == "https://quay.io"


def test_legacy_mirrors_then_upstream(tmp_path: Path) -> None:
    write(tmp_path, "/etc/containerd/config.toml", '''version = 2
[plugins."io.containerd.grpc.v1.cri".registry.mirrors."docker.io"]
  endpoint = ["https://mirror.corp"]
[plugins."io.containerd.grpc.v1.cri".registry.configs."mirror.corp".tls]
  insecure_skip_verify = true
[plugins."io.containerd.grpc.v1.cri".registry.configs."mirror.corp".auth]
  username = "u"
  password = "p-secret-value"
''')
    cfg = discover("nginx", "containerd", tmp_path, {})
    assert [e.url for e in cfg.endpoints] == ["https://mirror.corp", "https://registry-1.docker.io"]
    assert cfg.endpoints[0].skip_verify
    assert cfg.credentials[0].registry == "mirror.corp"
    assert "p-secret-value" not in str(cfg.to_dict())


def test_version3_reads_the_2x_section_only(tmp_path: Path) -> None:
    write(tmp_path, "/etc/containerd/config.toml", '''version = 3
[plugins."io.containerd.grpc.v1.cri".registry]
  config_path = "/ignored"
[plugins."io.containerd.cri.v1.images".registry]
  config_path = "/etc/containerd/certs.d"
''')
    write(tmp_path, "/etc/containerd/certs.d/docker.io/hosts.toml", 'server = "https://v3.corp"\n')
    cfg = discover("nginx", "containerd", tmp_path, {})
    assert cfg.endpoints[0].url == "https://v3.corp"
    assert cfg.settings["registry_section"] == 'plugins."io.containerd.cri.v1.images".registry'


def test_broken_files_are_problems(tmp_path: Path) -> None:
    write(tmp_path, "/etc/containerd/config.toml", "version = [\n")
    write(tmp_path, "/etc/containerd/certs.d/docker.io/hosts.toml", "server = \n")
    cfg = discover("nginx", "containerd", tmp_path, {})
    assert any("config.toml: not valid TOML" in p for p in cfg.problems)
    assert any("hosts.toml: not valid TOML" in p for p in cfg.problems)
    assert cfg.endpoints[0].url == "https://registry-1.docker.io"


def test_containerd_proxy_from_its_dropin(tmp_path: Path) -> None:
    write(tmp_path, "/etc/systemd/system/containerd.service.d/proxy.conf",
          "[Service]\nEnvironment=HTTPS_PROXY=http://p.corp:3128 NO_PROXY=quay.io\n")
    assert discover("nginx", "containerd", tmp_path, {}).endpoints[0].proxy == "http://p.corp:3128"
    assert discover("quay.io/a", "containerd", tmp_path, {}).endpoints[0].proxy is None


def test_ctr_and_the_cri_each_have_their_own_proxy(tmp_path: Path) -> None:
    # ctr/nerdctl fetch in their own process (the shell's environment); the CRI in containerd
    write(tmp_path, "/etc/systemd/system/containerd.service.d/proxy.conf",
          '[Service]\nEnvironment="HTTPS_PROXY=http://unit.corp:3128"\n')
    shell = {"HTTPS_PROXY": "http://shell.corp:8080", "NO_PROXY": "quay.io"}
    cfg = discover("nginx", "containerd", tmp_path, shell, client="cli")
    assert [(c.name, c.walked) for c in cfg.clients] == [("cli", True), ("cri", False)]
    assert cfg.endpoints[0].proxy == "http://shell.corp:8080"
    assert cfg.clients[1].proxy.https_proxy == "http://unit.corp:3128"
    cfg = discover("nginx", "containerd", tmp_path, shell, client="cri")
    assert cfg.endpoints[0].proxy == "http://unit.corp:3128"
    assert [c.name for c in cfg.clients if c.walked] == ["cri"]
    # auto under --root: this process's shell is not the node's, so only the CRI is walked
    cfg = discover("nginx", "containerd", tmp_path, shell)
    assert [c.name for c in cfg.clients if c.walked] == ["cri"]
    assert cfg.to_dict()["clients"][1]["proxy"]["https_proxy"] == "http://shell.corp:8080"


def test_auto_walks_every_distinct_proxy_on_this_host() -> None:
    from pulldoctor.config.effective import choose_clients, walk_paths
    from pulldoctor.config.model import ProxyConfig, PullClient, PullConfig

    def clients(cri: str | None, cli: str | None) -> list[PullClient]:
        return [PullClient("cri", "CRI", ProxyConfig(https_proxy=cri)),
                PullClient("cli", "ctr", ProxyConfig(https_proxy=cli))]

    cfg = PullConfig("containerd", "x", clients=choose_clients(clients(None, "http://p:1"),
                                                                "containerd", "auto", "/"))
    assert [[c.name for c in p] for p in walk_paths(cfg)] == [["cri"], ["cli"]]
    same = PullConfig("containerd", "x", clients=choose_clients(clients("http://p:1", "http://p:1"),
                                                                 "containerd", "auto", "/"))
    assert [[c.name for c in p] for p in walk_paths(same)] == [["cri", "cli"]]  # one walk
    node = PullConfig("containerd", "x", clients=choose_clients(clients(None, "http://p:1"),
                                                                 "containerd", "auto", "/host"))
    assert [[c.name for c in p] for p in walk_paths(node)] == [["cri"]]


def test_client_is_a_containerd_choice(tmp_path: Path) -> None:
    import pytest

    from pulldoctor.errors import UsageError

    with pytest.raises(UsageError, match="does not apply to docker"):
        discover("nginx", "docker", tmp_path, {}, live=False, client="cri")
    with pytest.raises(UsageError, match="does not apply to podman"):
        discover("nginx", "podman", tmp_path, {}, client="cri")
    assert discover("nginx", "podman", tmp_path, {}, client="cli").clients[0].name == "cli"
