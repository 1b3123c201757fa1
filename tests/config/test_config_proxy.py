"""proxy_for against the cases of Go's httpproxy (golang.org/x/net/http/httpproxy/proxy_test.go)."""

from __future__ import annotations

import pytest

from pulldoctor.config.model import ProxyConfig
from pulldoctor.config.proxy import from_environment, parse_proxy, proxy_for

P = "http://proxy.internal:3128"


@pytest.mark.parametrize(("no_proxy", "url", "proxied"), [
    ("", "https://registry-1.docker.io/v2/", True),
    ("foo.com", "https://foo.com/", False),
    ("foo.com", "https://bar.foo.com/", False),  # Go: foo.com also covers subdomains
    ("foo.com", "https://barfoo.com/", True),
    (".foo.com", "https://foo.com/", True),  # a leading dot: subdomains only
    (".foo.com", "https://bar.foo.com/", False),
    ("*.foo.com", "https://bar.foo.com/", False),
    ("*.foo.com", "https://foo.com/", True),
    ("foo.com:5000", "https://foo.com:5000/", False),
    ("foo.com:5000", "https://foo.com/", True),  # port given: only that port
    ("10.0.0.0/8", "https://10.1.2.3:5000/", False),
    ("10.0.0.0/8", "https://11.1.2.3/", True),
    ("1.2.3.4", "https://1.2.3.4/", False),
    ("1.2.3.4:80", "http://1.2.3.4/", False),
    ("1.2.3.4:80", "https://1.2.3.4/", True),
    ("[::1]:443,fd00::/8", "https://[fd00::5]/", False),
    ("*", "https://anything.example/", False),
    (" FOO.com , bar.org", "https://x.foo.COM/", False),  # trimmed and lower-cased
    ("", "https://localhost:5000/", False),  # loopback is never proxied
    ("", "https://127.0.0.1:5000/", False),
    ("", "https://[::1]:5000/", False),
])
def test_no_proxy_matching(no_proxy: str, url: str, proxied: bool) -> None:
    cfg = ProxyConfig(http_proxy=P, https_proxy=P, no_proxy=no_proxy)
    assert (proxy_for(url, cfg) == P) is proxied


def test_scheme_selects_variable() -> None:
    cfg = ProxyConfig(http_proxy="http://h:1", https_proxy=None)
    assert proxy_for("http://reg.example/v2/", cfg) == "http://h:1"
    assert proxy_for("https://reg.example/v2/", cfg) is None  # HTTPS_PROXY unset: direct


def test_upper_case_wins_and_schemeless_proxy_gets_http() -> None:
    cfg = from_environment({"HTTPS_PROXY": "proxy:3128", "https_proxy": "http://other:1",
                            "no_proxy": "internal"})
    assert cfg.https_proxy == "proxy:3128"
    assert proxy_for("https://reg.example/", cfg) == "http://proxy:3128"
    assert proxy_for("https://a.internal/", cfg) is None


def test_parse_proxy() -> None:
    assert parse_proxy("socks5://s:1080") == "socks5://s:1080"
    assert parse_proxy("https://p") == "https://p"
    assert parse_proxy("") is None
    assert parse_proxy("p.example:8080") == "http://p.example:8080"
