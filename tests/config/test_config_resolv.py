"""resolv.conf parsed the way Go's dnsconfig.go parses it, plus stub, hosts and nsswitch."""

from __future__ import annotations

from pathlib import Path

from pulldoctor.config.resolv import (
    nsswitch_hosts_line,
    parse_hosts,
    parse_resolv_conf,
    read_resolver,
)


def test_defaults_and_clamping() -> None:
    c = parse_resolv_conf("nameserver 10.0.0.2\noptions ndots:20 timeout:0 attempts:0\n")
    assert (c.ndots, c.timeout_s, c.attempts) == (15, 1.0, 1)
    d = parse_resolv_conf("nameserver 10.0.0.2\n")
    assert (d.ndots, d.timeout_s, d.attempts, d.rotate) == (1, 5.0, 2, False)


def test_at_most_three_ip_nameservers() -> None:
    c = parse_resolv_conf("nameserver dns.corp\nnameserver 1.1.1.1\nnameserver fd00::1\n"
                          "nameserver 8.8.8.8\nnameserver 9.9.9.9\n")
    assert c.nameservers == ["1.1.1.1", "fd00::1", "8.8.8.8"]
    assert not c.default_nameservers


def test_no_nameserver_means_localhost() -> None:
    c = parse_resolv_conf("# empty\nsearch corp\n")
    assert c.nameservers == ["127.0.0.1", "::1"] and c.default_nameservers
    assert c.search == ["corp."]


def test_options_go_knows_and_unknown_ones() -> None:
    c = parse_resolv_conf("nameserver 1.1.1.1\noptions rotate use-vc single-request-reopen edns0 "
                          "trust-ad inet6\nsortlist 10.0.0.0/8\n")
    assert c.rotate and c.use_vc and c.single_request
    assert c.unknown_options == ["inet6", "sortlist"]


def test_last_search_or_domain_wins_and_comments() -> None:
    c = parse_resolv_conf("; comment\n#x\ndomain a.example\nsearch b.example c.example.\n")
    assert c.search == ["b.example.", "c.example."]


def test_read_resolver_stub_hosts_nsswitch_env(tmp_path: Path) -> None:
    (tmp_path / "etc").mkdir()
    (tmp_path / "run/systemd/resolve").mkdir(parents=True)
    (tmp_path / "etc/resolv.conf").write_text("nameserver 127.0.0.53\noptions edns0\n")
    (tmp_path / "run/systemd/resolve/resolv.conf").write_text("nameserver 198.18.0.53\n")
    (tmp_path / "etc/hosts").write_text("127.0.0.1 localhost\n198.18.0.9 Registry.Corp # pinned\n")
    (tmp_path / "etc/nsswitch.conf").write_text("hosts: files resolve [!UNAVAIL=return] dns\n")
    c = read_resolver(tmp_path, {"RES_OPTIONS": "ndots:2"}, "registry.corp")
    assert c.stub_upstreams == ["198.18.0.53"]
    assert c.hosts_overrides == {"registry.corp": ["198.18.0.9"]}
    assert c.nsswitch_hosts == "files resolve [!UNAVAIL=return] dns"
    assert any("RES_OPTIONS" in r for r in c.cgo_reasons)
    assert any("'resolve'" in r for r in c.cgo_reasons)


def test_missing_resolv_conf(tmp_path: Path) -> None:
    c = read_resolver(tmp_path, {})
    assert c.default_nameservers and c.read_error and "missing" in c.read_error


def test_pure_helpers() -> None:
    assert parse_hosts("::1 localhost ip6-localhost\nbad line\n")["ip6-localhost"] == ["::1"]
    assert nsswitch_hosts_line("passwd: files\nhosts:  files dns # c\n") == "files dns"
    assert nsswitch_hosts_line("passwd: files\n") is None
