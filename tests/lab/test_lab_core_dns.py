"""The lab DNS server: every DNS fault's reply (pure) and its symptom on the wire (lab)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from dnslib import RCODE, DNSRecord

from pulldoctor.errors import LabError
from pulldoctor.lab.dnsserver import ZoneConfig, reply_for
from pulldoctor.lab.faults.dns import DnsFault
from pulldoctor.lab.faults.dns.drop import Drop
from pulldoctor.lab.faults.dns.drop_udp import DropUdp
from pulldoctor.lab.faults.dns.nxdomain import NxDomain
from pulldoctor.lab.faults.dns.refused import Refused
from pulldoctor.lab.faults.dns.servfail import ServFail
from pulldoctor.lab.faults.dns.slow import Slow
from pulldoctor.lab.faults.dns.truncate_udp import TruncateUdp
from pulldoctor.lab.topology import ADDRESSES, Lab, dns_records

CONF = ZoneConfig.from_dict({
    "zone": "lab.test", "records": dns_records(),
    "faults": [f.to_dict() for f in (ServFail(host="bad.lab.test"), DropUdp(host="cdn.lab.test"),
                                     TruncateUdp(host="big.lab.test"),
                                     Drop(host="gone.lab.test"))],
})


def q(name: str, qtype: str = "A") -> DNSRecord:
    return DNSRecord.question(name, qtype)


def test_answer_nodata_nxdomain_and_out_of_zone() -> None:
    r = reply_for(CONF, q("registry.lab.test"), "udp")
    assert r is not None and str(r.rr[0].rdata) == ADDRESSES["registry"] and r.header.aa == 1
    r = reply_for(CONF, q("registry.lab.test", "AAAA"), "udp")
    assert r is not None and r.header.rcode == RCODE.NOERROR and not r.rr
    r = reply_for(CONF, q("nothere.lab.test"), "udp")
    assert r is not None and r.header.rcode == RCODE.NXDOMAIN
    r = reply_for(CONF, q("example.com"), "udp")
    assert r is not None and r.header.rcode == RCODE.REFUSED


def test_transport_dependent_faults() -> None:
    assert reply_for(CONF, q("cdn.lab.test"), "udp") is None
    tcp = reply_for(CONF, q("cdn.lab.test"), "tcp")
    assert tcp is not None and str(tcp.rr[0].rdata) == ADDRESSES["cdn"]
    # dns_truncate_udp: a name without a record still gets TC on UDP (the client retries on TCP)
    udp = reply_for(CONF, q("big.lab.test"), "udp")
    assert udp is not None and udp.header.tc == 1 and not udp.rr
    tcp = reply_for(CONF, q("big.lab.test"), "tcp")
    assert tcp is not None and tcp.header.tc == 0
    assert reply_for(CONF, q("gone.lab.test"), "udp") is None
    assert reply_for(CONF, q("gone.lab.test"), "tcp") is None
    r = reply_for(CONF, q("bad.lab.test", "A"), "tcp")
    assert r is not None and r.header.rcode == RCODE.SERVFAIL


def test_bad_config_is_refused() -> None:
    with pytest.raises(LabError, match="unknown fault"):
        ZoneConfig.from_dict({"faults": [{"name": "dns_sometimes", "host": "x.lab.test"}]})
    with pytest.raises(LabError, match="not a dns fault"):
        ZoneConfig.from_dict({"faults": [{"name": "drop", "to": "dns"}]})
    with pytest.raises(LabError, match="delay_ms"):
        Slow(host="x.lab.test", delay_ms=-1)
    with pytest.raises(OSError):
        ZoneConfig.from_dict({"records": {"x.lab.test": "not-an-address"}})


def test_names_outside_the_zone_are_answered_only_when_listed() -> None:
    conf = ZoneConfig.from_dict({"zone": "lab.test",
                                 "records": {"registry-1.docker.io": "198.18.2.2"}})
    r = reply_for(conf, q("registry-1.docker.io"), "udp")
    assert r is not None and str(r.rr[0].rdata) == "198.18.2.2"
    r = reply_for(conf, q("auth.docker.io"), "udp")
    assert r is not None and r.header.rcode == RCODE.REFUSED


def test_cli_bad_config_is_one_line_exit_2(tmp_path: Path) -> None:
    bad = tmp_path / "dns.json"
    bad.write_text(json.dumps({"faults": [{"name": "dns_nope", "host": "x.lab.test"}]}))
    r = subprocess.run([sys.executable, "-m", "pulldoctor.lab.dnsserver", "--config", str(bad),
                        "--addr", "127.0.0.1", "--port", "0"], capture_output=True, text=True,
                       timeout=30)
    assert r.returncode == 2
    assert r.stderr.count("\n") == 1 and "unknown fault 'dns_nope'" in r.stderr


# ---------------------------------------------------------------- on the wire, in a lab

FAULTS: tuple[DnsFault, ...] = (
    NxDomain(host="nx.lab.test"), ServFail(host="fail.lab.test"), Refused(host="ref.lab.test"),
    DropUdp(host="cdn.lab.test"), TruncateUdp(host="auth.lab.test"),
    Slow(host="proxy.lab.test", delay_ms=2500), Drop(host="dns.lab.test"),
)


def dig(lab: Lab, name: str, *opts: str) -> subprocess.CompletedProcess[str]:
    """dig from the client, one try, against the nameserver in the client's resolv.conf."""
    return lab.client_exec(["dig", "+tries=1", "+time=1", *opts, name], timeout=30)


@pytest.fixture
def dns_lab(lab: Lab) -> Lab:
    lab.start_dns(FAULTS)
    return lab


@pytest.mark.lab
def test_answer_and_rcodes_on_the_wire(dns_lab: Lab) -> None:
    r = dig(dns_lab, "registry.lab.test", "+short")
    assert r.stdout.strip() == ADDRESSES["registry"]
    assert "status: NXDOMAIN" in dig(dns_lab, "nx.lab.test").stdout
    assert "status: SERVFAIL" in dig(dns_lab, "fail.lab.test").stdout
    assert "status: REFUSED" in dig(dns_lab, "ref.lab.test").stdout
    assert "status: REFUSED" in dig(dns_lab, "example.com").stdout


@pytest.mark.lab
def test_drop_udp_times_out_over_udp_but_tcp_answers(dns_lab: Lab) -> None:
    udp = dig(dns_lab, "cdn.lab.test", "+notcp")
    assert udp.returncode == 9 and "timed out" in udp.stdout
    tcp = dig(dns_lab, "cdn.lab.test", "+tcp", "+short")
    assert tcp.returncode == 0 and tcp.stdout.strip() == ADDRESSES["cdn"]


@pytest.mark.lab
def test_truncate_udp_sets_tc_and_forces_tcp(dns_lab: Lab) -> None:
    raw = dig(dns_lab, "auth.lab.test", "+ignore", "+notcp")
    assert " tc" in raw.stdout.split("flags:")[1].split(";")[0]
    assert "ANSWER: 0" in raw.stdout
    followed = dig(dns_lab, "auth.lab.test")  # dig retries over TCP on TC, like Go and glibc
    assert "Truncated, retrying in TCP mode" in followed.stdout
    assert ADDRESSES["auth"] in followed.stdout


@pytest.mark.lab
def test_slow_answers_after_the_delay_only(dns_lab: Lab) -> None:
    short = dig(dns_lab, "proxy.lab.test", "+short")  # 1 s budget < 2.5 s delay
    assert short.returncode == 9
    long = dig(dns_lab, "proxy.lab.test", "+short", "+time=6")
    assert long.returncode == 0 and long.stdout.strip() == ADDRESSES["proxy"]


@pytest.mark.lab
def test_drop_gets_no_answer_on_either_transport(dns_lab: Lab) -> None:
    assert dig(dns_lab, "dns.lab.test", "+notcp").returncode == 9
    assert dig(dns_lab, "dns.lab.test", "+tcp").returncode == 9


@pytest.mark.lab
def test_glibc_resolver_in_the_client_uses_the_lab_server(dns_lab: Lab) -> None:
    r = dns_lab.client_exec(["getent", "hosts", "registry.lab.test"])
    assert r.returncode == 0 and r.stdout.split()[0] == ADDRESSES["registry"]
    assert dns_lab.client_exec(["getent", "hosts", "nx.lab.test"]).returncode == 2
