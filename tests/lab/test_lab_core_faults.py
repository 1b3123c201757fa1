"""Each path and host fault's exact symptom on the wire, from the client, with real nftables."""

from __future__ import annotations

import errno
import sys
import textwrap
from pathlib import Path
from subprocess import CompletedProcess

import pytest

from pulldoctor.errors import LabError
from pulldoctor.lab.faults import apply_faults, fault_classes, fault_from_dict, render_ruleset
from pulldoctor.lab.faults.datadrop import DataDrop
from pulldoctor.lab.faults.disk import TinyDisk
from pulldoctor.lab.faults.drop import Drop
from pulldoctor.lab.faults.loss import Loss
from pulldoctor.lab.faults.mtu import MtuBlackhole
from pulldoctor.lab.faults.ports import PortRange
from pulldoctor.lab.faults.reject import Reject
from pulldoctor.lab.faults.reset import ResetAfter
from pulldoctor.lab.faults.route import NoRoute
from pulldoctor.lab.faults.stall import StallAfter
from pulldoctor.lab.topology import ADDRESSES, Lab

REG = ADDRESSES["registry"]
PORT = 8080
SMALL, LARGE = 200, 400_000

# Connect from the client and report what happened as one word (errno name / "ok" / "timeout").
CONNECT = textwrap.dedent("""
    import errno, socket, sys
    s = socket.socket(); s.settimeout(float(sys.argv[3]))
    try:
        s.connect((sys.argv[1], int(sys.argv[2]))); print("ok")
    except socket.timeout: print("timeout")
    except OSError as e: print(errno.errorcode[e.errno])
""")


def connect(lab: Lab, addr: str, port: int, timeout: float = 2.0) -> str:
    r = lab.client_exec([sys.executable, "-c", CONNECT, addr, str(port), str(timeout)], timeout=30)
    assert r.returncode == 0, r.stderr
    return r.stdout.strip()


def curl(lab: Lab, path: str, max_time: float = 3) -> CompletedProcess[str]:
    return lab.client_exec(["curl", "-sS", "-o", "/dev/null", "-w", "%{size_download}",
                            "--max-time", str(max_time), f"http://{REG}:{PORT}/{path}"], timeout=30)


@pytest.fixture
def web(lab: Lab, tmp_path: Path) -> Lab:
    """The lab with a plain HTTP server on the registry host serving a small and a large file."""
    root = lab.workdir / "www"
    root.mkdir()
    (root / "small").write_bytes(b"s" * SMALL)
    (root / "large").write_bytes(bytes(range(256)) * (LARGE // 256))
    proc = lab.spawn("registry", [sys.executable, "-m", "http.server", "--bind", REG,
                                  "--directory", str(root), str(PORT)], log_name="web")
    lab.wait_tcp("registry", PORT, proc=proc)
    return lab


def test_every_fault_is_named_and_round_trips_as_data() -> None:
    for name, cls in fault_classes().items():
        f = cls()
        assert f.name == name
        assert fault_from_dict(f.to_dict()) == f
    with pytest.raises(LabError, match="unknown fault"):
        fault_from_dict({"name": "gremlins"})
    with pytest.raises(LabError, match="fault 'drop'"):
        fault_from_dict({"name": "drop", "colour": "red"})


def test_rules_of_several_faults_compose_into_one_table_per_host() -> None:
    from pulldoctor.lab.faults import NftRule as Rule

    text = render_ruleset([Rule("router", "forward", "ip daddr 198.18.2.2 drop"),
                           Rule("router", "output", "icmp type echo-reply drop"),
                           Rule("router", "forward", "numgen random mod 100 < 5 drop")])
    assert list(text) == ["router"]
    body = text["router"]
    assert body.count("table inet pulldoctor {") == 1
    assert body.index("198.18.2.2 drop") < body.index("numgen random") < body.index("chain output")


@pytest.mark.lab
def test_baseline_without_faults(web: Lab) -> None:
    assert curl(web, "large").stdout == str(LARGE - LARGE % 256)
    assert connect(web, REG, PORT) == "ok"


@pytest.mark.lab
def test_tcp_drop_makes_connect_time_out(web: Lab) -> None:
    apply_faults(web, [Drop(to="registry", proto="tcp", port=PORT)])
    assert connect(web, REG, PORT, timeout=1.5) == "timeout"


@pytest.mark.lab
def test_reject_with_tcp_reset_is_connection_refused(web: Lab) -> None:
    apply_faults(web, [Reject(to="registry", proto="tcp", port=PORT, with_="tcp-reset")])
    assert connect(web, REG, PORT) == "ECONNREFUSED"


@pytest.mark.lab
def test_reject_with_net_unreachable_icmp(web: Lab) -> None:
    apply_faults(web, [Reject(to="registry", proto="tcp", with_="net-unreachable")])
    assert connect(web, REG, PORT) == "ENETUNREACH"


@pytest.mark.lab
def test_udp_53_drop_times_out_udp_while_tcp_answers(lab: Lab) -> None:
    lab.start_dns()
    apply_faults(lab, [Drop(to="dns", proto="udp", port=53)])
    udp = lab.client_exec(["dig", "+notcp", "+tries=1", "+time=1", "registry.lab.test"])
    assert udp.returncode == 9 and "timed out" in udp.stdout
    tcp = lab.client_exec(["dig", "+tcp", "+short", "+tries=1", "+time=1", "registry.lab.test"])
    assert tcp.stdout.strip() == REG


@pytest.mark.lab
def test_random_loss_drops_some_but_not_all_packets(lab: Lab) -> None:
    lab.start_dns()
    apply_faults(lab, [Loss(percent=50, to="dns")])
    # 200 queries at once; each needs its query and its answer to survive: P(reply)=1/4.
    code = textwrap.dedent("""
        import socket, sys, time
        from dnslib import DNSRecord
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.connect((sys.argv[1], 53))
        for i in range(200):
            q = DNSRecord.question("registry.lab.test"); q.header.id = i; s.send(q.pack())
        got, end = set(), time.monotonic() + 1.5
        s.settimeout(0.1)
        while time.monotonic() < end:
            try: got.add(DNSRecord.parse(s.recv(512)).header.id)
            except socket.timeout: pass
        print(len(got))
    """)
    r = lab.client_exec([sys.executable, "-c", code, ADDRESSES["dns"]], timeout=30)
    assert r.returncode == 0, r.stderr
    assert 10 < int(r.stdout) < 120


@pytest.mark.lab
def test_mtu_blackhole_small_response_arrives_large_one_stalls(web: Lab) -> None:
    apply_faults(web, [MtuBlackhole(mtu=1200, link="client")])
    assert connect(web, REG, PORT) == "ok"
    small = curl(web, "small")
    assert small.returncode == 0 and small.stdout == str(SMALL)
    large = curl(web, "large", max_time=3)
    assert large.returncode == 28  # curl: operation timed out
    assert int(large.stdout or 0) < LARGE // 2


@pytest.mark.lab
def test_data_drop_connects_but_the_server_never_speaks(web: Lab) -> None:
    apply_faults(web, [DataDrop(to="registry", port=PORT)])
    assert connect(web, REG, PORT) == "ok"
    r = curl(web, "small", max_time=2)
    assert r.returncode == 28 and r.stdout == "0"


@pytest.mark.lab
def test_stall_after_bytes_starts_then_goes_silent(web: Lab) -> None:
    apply_faults(web, [StallAfter(to="registry", port=PORT, after_bytes=50_000)])
    assert curl(web, "small").stdout == str(SMALL)
    r = curl(web, "large", max_time=3)
    assert r.returncode == 28
    assert 10_000 < int(r.stdout) < LARGE // 2


@pytest.mark.lab
def test_reset_after_bytes_is_connection_reset_mid_body(web: Lab) -> None:
    apply_faults(web, [ResetAfter(to="registry", port=PORT, after_bytes=50_000)])
    r = curl(web, "large", max_time=5)
    assert r.returncode == 56, r.stderr  # curl: failure receiving network data
    assert "Connection reset by peer" in r.stderr
    assert 10_000 < int(r.stdout) < LARGE


@pytest.mark.lab
def test_no_route_is_network_unreachable_for_that_server_only(web: Lab) -> None:
    apply_faults(web, [NoRoute(to="registry")])
    assert connect(web, REG, PORT) == "ENETUNREACH"
    web.start_dns()
    assert web.client_exec(["dig", "+short", "+tries=1", "+time=1", "cdn.lab.test"]).stdout.strip() \
        == ADDRESSES["cdn"]


@pytest.mark.lab
def test_port_range_hog_makes_udp_sockets_fail_with_eagain(lab: Lab) -> None:
    lab.start_dns()
    apply_faults(lab, [PortRange(low=40000, high=40003, hog=True)])
    code = textwrap.dedent("""
        import errno, socket, sys
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try: s.connect((sys.argv[1], 53)); print("ok")
        except OSError as e: print(errno.errorcode[e.errno])
    """)
    r = lab.client_exec([sys.executable, "-c", code, ADDRESSES["dns"]])
    assert r.stdout.strip() == errno.errorcode[errno.EAGAIN], r.stderr
    assert lab.exec("client", ["cat", "/proc/sys/net/ipv4/ip_local_port_range"]).stdout.split() \
        == ["40000", "40003"]
    # the machine's own range is untouched
    assert Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split() != ["40000", "40003"]


@pytest.mark.lab
def test_tiny_disk_fills_up_and_is_unmounted_at_teardown(lab_ok: None) -> None:
    with Lab(prefix="t") as lab:
        apply_faults(lab, [TinyDisk(size_kb=64)])
        target = lab.data_dir
        r = lab.client_exec(["dd", "if=/dev/zero", f"of={target}/blob", "bs=4k", "count=64"])
        assert r.returncode != 0 and "No space left on device" in r.stderr
    assert str(target) not in Path("/proc/mounts").read_text()


@pytest.mark.lab
def test_bad_fault_attributes_are_clear_errors_when_written() -> None:
    # Ranges fail when the fault is written (no lab needed); choices are Literal types, checked
    # by mypy in code and by fault_from_dict at the JSON edge.
    for make, msg in ((lambda: Loss(percent=0), "between 1 and 100"),
                      (lambda: Reject(proto="udp", with_="tcp-reset"), "needs proto=tcp"),
                      (lambda: PortRange(low=1000, high=5000), "port_range needs"),
                      (lambda: Drop(proto=None, port=53), "a port needs a protocol"),
                      (lambda: fault_from_dict({"name": "drop", "to": "nowhere"}),
                       "to must be one of 'registry'")):
        with pytest.raises(LabError, match=msg):
            make()
