"""The cause catalogue is the JSON contract: exact codes, complete entries."""

from __future__ import annotations

from pulldoctor.causes import CATALOGUE, render_commands
from pulldoctor.report.model import Cause

CONTRACT = ["dns.udp_timeout", "dns.resolver_unreachable", "dns.nxdomain", "dns.servfail", "net.unreachable", "net.tcp_timeout", "net.refused", "net.reset", "net.tls_handshake_timeout", "net.request_timeout", "net.mtu", "proxy.error", "tls.unknown_authority", "tls.hostname_mismatch", "tls.expired", "tls.http_response_to_https", "registry.unauthorized", "registry.denied", "registry.not_found", "registry.rate_limited", "registry.server_error", "image.platform_mismatch", "image.corrupt", "image.unsupported", "host.disk_full", "host.memory", "host.kernel_udp", "daemon.config", "ref.invalid"]


def test_catalogue_holds_exactly_the_contract_codes() -> None:
    assert set(CATALOGUE) >= set(CONTRACT)


def test_every_entry_is_complete() -> None:
    for c in CATALOGUE.values():
        assert c.title and c.meaning and c.confirm and c.fix, c.code


def test_commands_fill_known_placeholders_only() -> None:
    out = render_commands(("dig @{resolver} {host}",), {"host": "r.example", "resolver": None})
    assert out == ["dig @RESOLVER r.example"]


def test_cause_dict_carries_catalogue_text() -> None:
    d = Cause.from_catalogue("dns.nxdomain", 1.7, ["lookup x: no such host"], {"host": "x"}).to_dict()
    assert d["confidence"] == 1.0 and d["title"] and d["area"] == "dns"
    assert any("x" in f for f in d["confirm"])
