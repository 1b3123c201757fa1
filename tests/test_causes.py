"""The cause catalogue is the JSON contract: exact codes, complete entries."""

from __future__ import annotations

from pulldoctor.causes import CATALOGUE, Code, cause_for_registry_error, render_commands
from pulldoctor.model import Cause

# The codes that shipped in schema 1.0: they may gain siblings, never be renamed or removed.
CONTRACT_1_0 = ["dns.udp_timeout", "dns.resolver_unreachable", "dns.nxdomain", "dns.servfail", "net.unreachable", "net.tcp_timeout", "net.refused", "net.reset", "net.tls_handshake_timeout", "net.request_timeout", "net.mtu", "proxy.error", "tls.unknown_authority", "tls.hostname_mismatch", "tls.expired", "tls.http_response_to_https", "registry.unauthorized", "registry.denied", "registry.not_found", "registry.rate_limited", "registry.server_error", "image.platform_mismatch", "image.corrupt", "image.unsupported", "host.disk_full", "host.memory", "host.kernel_udp", "daemon.config", "ref.invalid"]


def test_no_released_code_is_ever_removed() -> None:
    """The 1.0 codes are a frozen record of a release (not a copy of the catalogue to keep in
    sync): new codes may be added, these must stay."""
    assert set(CATALOGUE) >= set(CONTRACT_1_0)


def test_every_code_has_one_entry_and_member_names_follow_the_code() -> None:
    assert list(CATALOGUE) == list(Code)
    for code in Code:
        assert code.name == code.value.upper().replace(".", "_")
        assert CATALOGUE[code].code is code


def test_registry_errors_are_classified_by_table() -> None:
    assert cause_for_registry_error(404, ["MANIFEST_UNKNOWN"]) is Code.REGISTRY_NOT_FOUND
    assert cause_for_registry_error(404, ["BLOB_UNKNOWN"]) is Code.IMAGE_CORRUPT
    assert cause_for_registry_error(401, ["DENIED"]) is Code.REGISTRY_DENIED  # the code wins
    assert cause_for_registry_error(503) is Code.REGISTRY_SERVER_ERROR
    assert cause_for_registry_error(429) is Code.REGISTRY_RATE_LIMITED
    assert cause_for_registry_error(418) is None


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
