"""DNS probe against the lab's real dnslib server in a namespace pair (and pure name-list rules)."""

from __future__ import annotations

from pathlib import Path

import pytest
from pdt_netns import SERVER_ADDR, NetPair

from pulldoctor.diagnose.infer import classify_dns
from pulldoctor.diagnose.observe import DnsObservation
from pulldoctor.probes import dns


def test_name_list_follows_go_ndots_rules() -> None:
    assert dns.name_list("registry", ["corp.example"], 1) == ["registry.corp.example.", "registry."]
    assert dns.name_list("a.b", ["corp.example"], 1) == ["a.b.", "a.b.corp.example."]
    assert dns.name_list("a.b", ["corp.example"], 5) == ["a.b.corp.example.", "a.b."]
    assert dns.name_list("a.b.", ["x"], 1) == ["a.b."]


def test_hosts_file_wins(tmp_path: Path) -> None:
    hosts = tmp_path / "hosts"
    hosts.write_text("# c\n198.18.9.9  reg.example  reg # alias\n")
    assert dns.hosts_file_lookup("REG.example", hosts) == ["198.18.9.9"]
    assert dns.hosts_file_lookup("nope", hosts) == []


def _probe(pair: NetPair, host: str, servers: list[str] | None = None,
           timeout: float = 1.0) -> dns.DnsResult:
    return pair.in_client(lambda: dns.probe_dns(host, servers or [SERVER_ADDR], timeout=timeout,
                                                tries=3))


def _data(res: dns.DnsResult) -> DnsObservation:
    return DnsObservation(res.host, "registry", [], res)


@pytest.mark.lab
def test_answer(netpair: NetPair, dns_server: object) -> None:
    dns_server({"*": {"mode": "answer"}})  # type: ignore[operator]
    res = _probe(netpair, "registry.pdt.test")
    assert res.addresses == [SERVER_ADDR]
    udp = [q for q in res.queries if q.transport == "udp" and q.qtype == "A"]
    assert len(udp) == 3 and all(q.status == dns.ANSWER for q in udp)
    aaaa = [q for q in res.queries if q.qtype == "AAAA" and q.transport == "udp"]
    assert all(q.status == dns.NODATA for q in aaaa)
    assert classify_dns(_data(res)).outcome == "ok"


@pytest.mark.lab
def test_nxdomain(netpair: NetPair, dns_server: object) -> None:
    dns_server({"*": {"mode": "answer"}})  # type: ignore[operator]
    res = _probe(netpair, "missing.pdt.test")
    assert not res.addresses
    assert {q.status for q in res.queries} == {dns.NXDOMAIN}
    assert classify_dns(_data(res)).code == "dns.nxdomain"


@pytest.mark.lab
def test_servfail(netpair: NetPair, dns_server: object) -> None:
    dns_server({"registry.pdt.test": {"mode": "servfail"}})  # type: ignore[operator]
    res = _probe(netpair, "registry.pdt.test")
    assert {q.status for q in res.queries} == {dns.SERVFAIL}
    assert classify_dns(_data(res)).code == "dns.servfail"


@pytest.mark.lab
def test_drop_udp_tcp_answers_is_firewall_signature(netpair: NetPair, dns_server: object) -> None:
    dns_server({"cdn.pdt.test": {"mode": "drop_udp"}})  # type: ignore[operator]
    res = _probe(netpair, "cdn.pdt.test", timeout=0.8)
    udp = {q.status for q in res.queries if q.transport == "udp"}
    tcp = {q.status for q in res.queries if q.transport == "tcp" and q.qtype == "A"}
    assert udp == {dns.TIMEOUT} and tcp == {dns.ANSWER}
    v = classify_dns(_data(res))
    assert v.code == "dns.udp_timeout" and v.confidence > 0.9
    assert "TCP" in v.evidence[0] and "path" in v.evidence[0]


@pytest.mark.lab
def test_nft_drop_of_udp53(netpair: NetPair, dns_server: object) -> None:
    """The same signature made by a real firewall rule instead of the server's mode."""
    dns_server({"*": {"mode": "answer"}})  # type: ignore[operator]
    netpair.nft(netpair.client, "output", "udp dport 53 drop")
    res = _probe(netpair, "registry.pdt.test", timeout=0.8)
    assert classify_dns(_data(res)).code == "dns.udp_timeout"
    assert any(q.status == dns.ANSWER for q in res.queries if q.transport == "tcp")


@pytest.mark.lab
def test_nothing_listening_is_resolver_unreachable(netpair: NetPair) -> None:
    res = _probe(netpair, "registry.pdt.test")  # no server started: ICMP port unreachable
    statuses = [q.status for q in res.queries]
    # the kernel rate-limits ICMP errors per peer, so an odd UDP query may see no reply at all
    assert statuses.count(dns.CONN_REFUSED) >= len(statuses) - 2
    assert set(statuses) <= {dns.CONN_REFUSED, dns.TIMEOUT}
    assert classify_dns(_data(res)).code == "dns.resolver_unreachable"


@pytest.mark.lab
def test_no_route_to_resolver(netpair: NetPair) -> None:
    res = _probe(netpair, "registry.pdt.test", servers=["198.18.250.1"])
    assert {q.status for q in res.queries} == {dns.UNREACHABLE}
    assert classify_dns(_data(res)).code == "dns.resolver_unreachable"


@pytest.mark.lab
def test_search_list_walk_stops_at_first_answer(netpair: NetPair, dns_server: object) -> None:
    dns_server({"*": {"mode": "answer"}})  # type: ignore[operator]
    res = netpair.in_client(lambda: dns.probe_dns("registry", [SERVER_ADDR], search=["pdt.test"],
                                                  ndots=1, timeout=1.0, tries=1))
    assert res.names_tried == ["registry.pdt.test."]
    assert res.addresses == [SERVER_ADDR]
