"""The faster paths of the probes: cached TLS contexts, raced TCP connects, the UDP cutoff after a
TCP answer, and the TCP wait the walk derives from DNS (real servers in a namespace pair)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import trustme
from pdt_netns import SERVER_ADDR, NetPair

from pulldoctor.diagnose.infer import classify_dns, classify_tcp
from pulldoctor.diagnose.observe import DnsObservation, TcpObservation
from pulldoctor.diagnose.stages.tcp import TCP_DECIDE_S, decide_after
from pulldoctor.probes import dns, tcp, tls


def _pem(tmp_path: Path, name: str) -> str:
    path = tmp_path / name
    trustme.CA().cert_pem.write_to_path(str(path))
    return str(path)


def test_tls_context_is_reused_only_for_the_same_ca_files(tmp_path: Path) -> None:
    ca = _pem(tmp_path, "a.pem")
    first = tls.client_context([ca])
    assert tls.client_context([ca]) is first
    assert tls.client_context([ca], purpose="probe") is not first  # httpcore sets ALPN on its own
    assert tls.client_context([ca], verify=False) is not first
    assert tls.client_context([]) is not first
    trustme.CA().cert_pem.write_to_path(ca)  # the file changes: a fresh context is loaded
    assert tls.client_context([ca]) is not first
    unverified = tls.client_context([], verify=False, purpose="probe")
    assert unverified.verify_mode.name == "CERT_NONE" and not unverified.check_hostname


def test_tls_context_errors_are_never_cached(tmp_path: Path) -> None:
    bad = tmp_path / "bad.pem"
    bad.write_text("not a certificate\n")
    for _ in range(2):
        with pytest.raises(Exception):  # noqa: B017 - ssl.SSLError or OSError, as before
            tls.client_context([str(bad)])
    with pytest.raises(OSError):
        tls.client_context([str(tmp_path / "missing.pem")])
    tls.prewarm_contexts([str(tmp_path / "missing.pem")])  # never raises: the step reports it


def _dns_data(*latencies_ms: float | None, status: str = dns.ANSWER) -> DnsObservation:
    queries = [dns.DnsQuery("h.", "198.18.4.2", "udp", "A", status,
                            latency_s=None if ms is None else ms / 1000) for ms in latencies_ms]
    return DnsObservation("h", "registry", [], dns.DnsResult("h", queries=queries))


def test_tcp_wait_follows_the_dns_round_trip() -> None:
    assert decide_after(None, 10.0) == TCP_DECIDE_S
    literal = DnsObservation("1.2.3.4", "registry", [],
                             dns.DnsResult("1.2.3.4", addresses=["1.2.3.4"], literal=True))
    assert decide_after(literal, 10.0) == TCP_DECIDE_S
    assert decide_after(_dns_data(3.0, 40.0), 10.0) == TCP_DECIDE_S  # a fast path
    assert decide_after(_dns_data(600.0, 900.0), 10.0) == pytest.approx(2.4)  # a slow link waits
    assert decide_after(_dns_data(2000.0), 10.0) == 3.0  # never past the old ceiling
    assert decide_after(_dns_data(600.0), 0.8) == 0.8  # nor past the step's budget
    assert decide_after(_dns_data(900.0, status=dns.TIMEOUT), 10.0) == TCP_DECIDE_S


@pytest.mark.lab
def test_raced_connect_outcomes(netpair: NetPair, registry: Any) -> None:
    port = registry(5000)
    res = netpair.in_client(lambda: tcp.probe_raced(SERVER_ADDR, port, 2.0))
    assert res.status == tcp.OK
    res = netpair.in_client(lambda: tcp.probe_raced(SERVER_ADDR, 5999, 2.0))
    assert res.status == tcp.REFUSED and res.errno_name == "ECONNREFUSED"
    netpair.nft(netpair.server, "input", f"tcp dport {port} drop")
    res = netpair.in_client(lambda: tcp.probe_raced(SERVER_ADDR, port, 0.7))
    assert res.status == tcp.TIMEOUT and f"{len(tcp._RACE_STAGGER_S)} connects raced" in res.detail
    got = netpair.in_client(lambda: tcp.probe_all([SERVER_ADDR], port, 0.7))
    assert classify_tcp(TcpObservation("h", port, got)).code == "net.tcp_timeout"


@pytest.mark.lab
def test_udp_cut_short_once_tcp_answered(netpair: NetPair, dns_server: object) -> None:
    dns_server({"cdn.pdt.test": {"mode": "drop_udp"}})  # type: ignore[operator]
    res = netpair.in_client(lambda: dns.probe_dns("cdn.pdt.test", [SERVER_ADDR], timeout=5.0,
                                                  tries=3))
    udp = [q for q in res.queries if q.transport == "udp"]
    assert {q.status for q in udp} == {dns.TIMEOUT}
    assert all("had answered over TCP" in q.detail for q in udp)
    assert {q.status for q in res.queries if q.transport == "tcp"} == {dns.ANSWER, dns.NODATA}
    obs = DnsObservation(res.host, "blob redirect", [SERVER_ADDR], res)
    assert classify_dns(obs).code == "dns.udp_timeout"
    assert obs.runtime_addresses == []  # only the probe's own TCP query got one


@pytest.mark.lab
def test_udp_not_cut_when_tcp_is_silent_too(netpair: NetPair, dns_server: object) -> None:
    dns_server({"*": {"mode": "answer"}})  # type: ignore[operator]
    netpair.nft(netpair.server, "input", "meta l4proto { tcp, udp } th dport 53 drop")
    res = netpair.in_client(lambda: dns.probe_dns("registry.pdt.test", [SERVER_ADDR],
                                                  timeout=0.8, tries=1))
    assert {q.status for q in res.queries} == {dns.TIMEOUT}
    assert all(q.detail == "no reply within 0.8s" for q in res.queries)
