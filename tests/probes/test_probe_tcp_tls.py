"""TCP and TLS probes against real listeners (docker-registry, trustme certs) in namespaces."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from pdt_netns import SERVER_ADDR, NetPair

from pulldoctor.diagnose.infer import classify_tcp, classify_tls
from pulldoctor.diagnose.observe import MtuRetry, TcpObservation, TlsObservation
from pulldoctor.probes import tcp, tls


@pytest.mark.lab
def test_tcp_ok_refused_timeout_unreachable(netpair: NetPair, registry: Any) -> None:
    port = registry(5000)
    res = netpair.in_client(lambda: tcp.probe_all([SERVER_ADDR], port, 2.0))
    assert res[0].status == tcp.OK
    res = netpair.in_client(lambda: tcp.probe_all([SERVER_ADDR], 5999, 2.0))
    assert res[0].status == tcp.REFUSED and res[0].errno_name == "ECONNREFUSED"
    assert classify_tcp(TcpObservation("h", 5999, res)).code == "net.refused"
    res = netpair.in_client(lambda: tcp.probe_all(["198.18.250.1"], 443, 2.0))
    assert res[0].status == tcp.UNREACHABLE and res[0].errno_name == "ENETUNREACH"
    assert classify_tcp(TcpObservation("h", 443, res)).code == "net.unreachable"
    netpair.nft(netpair.server, "input", f"tcp dport {port} drop")
    res = netpair.in_client(lambda: tcp.probe_all([SERVER_ADDR], port, 0.8))
    assert res[0].status == tcp.TIMEOUT
    assert classify_tcp(TcpObservation("h", 443, res)).code == "net.tcp_timeout"


def _tls(pair: NetPair, port: int, ca: list[str], host: str = "registry.pdt.test",
         timeout: float = 3.0) -> tls.TlsResult:
    return pair.in_client(lambda: tls.probe_tls(lambda: tcp.connect(SERVER_ADDR, port, 2.0), host,
                                                ca, timeout))


@pytest.mark.lab
def test_tls_outcomes(netpair: NetPair, registry: Any, tls_material: dict[str, Path]) -> None:
    ca = [str(tls_material["ca"])]
    good = registry(5443, tls_material["good_cert"], tls_material["good_key"])
    wrong = registry(5444, tls_material["wrong_cert"], tls_material["wrong_key"])
    expired = registry(5445, tls_material["expired_cert"], tls_material["expired_key"])
    plain = registry(5000)

    ok = _tls(netpair, good, ca)
    assert ok.status == tls.OK and "registry.pdt.test" in ok.cert["san"]
    assert classify_tls(TlsObservation(good, ok)).outcome == "ok"

    unknown = _tls(netpair, good, [])
    assert unknown.status == tls.UNKNOWN_AUTHORITY and unknown.cert["subject"]
    assert classify_tls(TlsObservation(good, unknown)).code == "tls.unknown_authority"
    assert classify_tls(TlsObservation(good, unknown, insecure=True)).outcome == "warning"

    mism = _tls(netpair, wrong, ca)
    assert mism.status == tls.HOSTNAME_MISMATCH and mism.cert["san"] == ["other.pdt.test"]
    assert classify_tls(TlsObservation(wrong, mism)).code == "tls.hostname_mismatch"

    exp = _tls(netpair, expired, ca)
    assert exp.status == tls.EXPIRED and exp.cert["valid_now"] is False
    assert classify_tls(TlsObservation(expired, exp)).code == "tls.expired"

    http = _tls(netpair, plain, ca)
    assert http.status == tls.HTTP_RESPONSE
    assert classify_tls(TlsObservation(plain, http)).code == "tls.http_response_to_https"


@pytest.mark.lab
def test_tls_handshake_stall_and_mss_clamp(netpair: NetPair, registry: Any,
                                           tls_material: dict[str, Path]) -> None:
    """Big packets from the server dropped (no ICMP): the handshake stalls, small MSS completes."""
    ca = [str(tls_material["ca"])]
    port = registry(5443, tls_material["good_cert"], tls_material["good_key"])
    netpair.nft(netpair.client, "input", "ip length > 700 drop")
    stalled = _tls(netpair, port, ca, timeout=1.5)
    assert stalled.status == tls.HANDSHAKE_TIMEOUT
    clamped = netpair.in_client(lambda: tls.probe_tls(
        lambda: tcp.connect(SERVER_ADDR, port, 2.0, mss=536), "registry.pdt.test", ca, 3.0))
    assert clamped.status == tls.OK
    obs = TlsObservation(port, stalled, retry=MtuRetry(536, clamped.status == tls.OK))
    assert classify_tls(obs).code == "net.mtu"
    obs.retry = MtuRetry(536, False)
    assert classify_tls(obs).code == "net.tls_handshake_timeout"
