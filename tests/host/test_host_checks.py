"""Host checks on real files in a temp root (no root needed), the registry, crash isolation, and the
pure parsers fed with verbatim copies of /proc files (only for conditions a test cannot create:
a machine-wide conntrack table and memory exhaustion)."""

from __future__ import annotations

import json
from email.utils import formatdate
from pathlib import Path

from pulldoctor.host import (
    causes_from_steps,
    checks_for_cause,
    clock,
    daemon_config,
    inspect_host,
    memory,
    relevant_checks,
    resolver,
    run_checks,
)
from pulldoctor.host.checks import CHECKS, Check
from pulldoctor.host.context import HostContext
from pulldoctor.host.kernel_udp import count_sockets, parse_conntrack_stat, parse_snmp, parse_snmp6
from pulldoctor.model import Outcome, Step
from pulldoctor.reference import parse_reference


def write(root: Path, path: str, text: str) -> None:
    p = root / path.lstrip("/")
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_text(text)


def ctx(root: Path, image: str = "nginx", runtime: str = "docker") -> HostContext:
    return HostContext(root=root, image=parse_reference(image), runtime=runtime, env={})


def test_daemon_config_invalid_mirror_is_daemon_config(tmp_path: Path) -> None:
    write(tmp_path, "/etc/docker/daemon.json", json.dumps({"registry-mirrors": ["mirror.corp:5000"],
                                                           "dns": ["8.8.8.8"], "registy-mirrors": []}))
    step = daemon_config.check(ctx(tmp_path))
    assert step.outcome == Outcome.PROBLEM
    errors = [f for f in step.findings if f.severity == "error"]
    assert {f.code for f in step.findings} == {"daemon.config"}
    assert any("did you mean 'registry-mirrors'" in f.title for f in errors)
    # what to change is a sentence (advice); only commands are fixes to run
    assert any("no scheme" in f.title and "https://mirror.corp:5000" in f.advice[0] for f in errors)
    assert any("only set containers' DNS" in f.title for f in step.findings)
    assert all("systemctl restart docker" in f.fix for f in errors)


def test_unparsable_daemon_json(tmp_path: Path) -> None:
    write(tmp_path, "/etc/docker/daemon.json", '{"mtu": 1400,}')
    step = daemon_config.check(ctx(tmp_path))
    assert step.outcome == Outcome.PROBLEM and "not valid JSON" in step.summary


def test_no_runtime_at_all_is_a_clean_report(tmp_path: Path) -> None:
    report = inspect_host("nginx", root=tmp_path, env={},
                          only=["daemon_config", "containerd_config", "containers_config", "resolver",
                                "disk", "clock"])
    assert not any(s.outcome == Outcome.CRASHED for s in report.steps)
    by = {s.name: s for s in report.steps}
    assert by["daemon_config"].outcome == Outcome.OK and by["daemon_config"].summary == "no daemon.json"
    assert by["clock"].outcome == Outcome.SKIPPED
    # no resolv.conf at all: Go falls back to localhost, which is worth saying
    assert by["resolver"].findings[0].code == "dns.resolver_unreachable"
    assert report.extra["answer_table"][0]["url"] == "https://registry-1.docker.io"
    json.dumps(report.to_dict())


def test_a_crashing_check_does_not_spoil_the_others(tmp_path: Path) -> None:
    def boom(_: HostContext) -> Step:
        raise RuntimeError("kaputt")

    steps = run_checks(ctx(tmp_path), [Check("boom", boom, (), ()), *[c for c in CHECKS if c.name == "clock"]])
    assert steps[0].outcome == Outcome.CRASHED and "kaputt" in steps[0].evidence[0]
    assert steps[1].outcome == Outcome.SKIPPED


def test_registry_maps_steps_and_causes() -> None:
    assert {c.name for c in relevant_checks("dns.lookup")} >= {"resolver", "kernel_udp", "firewall"}
    assert [c.name for c in checks_for_cause("host.disk_full")] == ["disk"]
    assert [c.name for c in checks_for_cause("host.kernel_udp")] == ["kernel_udp"]
    assert {c.name for c in checks_for_cause("daemon.config")} >= {"daemon_config", "containerd_config",
                                                                  "containers_config"}
    assert "disk" in [c.name for c in relevant_checks("blob")]


def test_resolver_findings(tmp_path: Path) -> None:
    write(tmp_path, "/etc/resolv.conf", "nameserver 127.0.0.53\nnameserver dns.corp\nnameserver 1.1.1.1\n"
          "nameserver 8.8.8.8\nnameserver 9.9.9.9\noptions timeout:10 attempts:3\n")
    step = resolver.check(ctx(tmp_path))
    titles = [f.title for f in step.findings]
    assert any("'dns.corp' is not an IP address" in t for t in titles)
    assert any("more than 3 nameservers" in t for t in titles)
    assert any("no upstream DNS server" in t for t in titles)
    assert any("90s per name" in t for t in titles)


def test_clock_offset_against_registry_date(tmp_path: Path) -> None:
    import time

    c = ctx(tmp_path)
    c.registry_date = formatdate(time.time() - 7200, usegmt=True)
    step = clock.check(c)
    assert step.outcome == Outcome.PROBLEM and step.findings[0].code == "tls.expired"
    c.registry_date = "garbage"
    assert clock.check(c).outcome == Outcome.SKIPPED


def test_memory_from_fixture_meminfo(tmp_path: Path) -> None:
    write(tmp_path, "/proc/meminfo", "MemTotal: 4000000 kB\nMemFree: 10000 kB\nMemAvailable: 100000 kB\n")
    write(tmp_path, "/proc/pressure/memory", "some avg10=40.00 avg60=1 avg300=0 total=1\n"
          "full avg10=25.00 avg60=1 avg300=0 total=1\n")
    step = memory.check(HostContext(proc=tmp_path / "proc", env={}))
    assert step.outcome == Outcome.PROBLEM
    assert [f.code for f in step.findings] == ["host.memory", "host.memory"]


def test_proc_parsers() -> None:
    snmp = ("Ip: Forwarding DefaultTTL\nIp: 1 64\n"
            "Udp: InDatagrams NoPorts InErrors OutDatagrams RcvbufErrors SndbufErrors\n"
            "Udp: 10 2 7 12 5 0\n")
    assert parse_snmp(snmp) == {"UdpInDatagrams": 10, "UdpNoPorts": 2, "UdpInErrors": 7,
                                "UdpOutDatagrams": 12, "UdpRcvbufErrors": 5, "UdpSndbufErrors": 0}
    assert parse_snmp6("Udp6InDatagrams 4\nIp6InReceives 9\n") == {"Udp6InDatagrams": 4}
    stat = ("entries  clashres found new invalid ignore delete delete_list insert insert_failed drop "
            "early_drop icmp_error expect_new expect_create expect_delete search_restart\n"
            "0000001a 00000000 00000000 00000000 00000003 00000000 00000000 00000000 00000000 00000002 "
            "00000010 00000000 00000000 00000000 00000000 00000000 00000000\n"
            "0000001a 00000000 00000000 00000000 00000000 00000000 00000000 00000000 00000000 00000000 "
            "00000001 00000000 00000000 00000000 00000000 00000000 00000000\n")
    s = parse_conntrack_stat(stat)
    assert (s["drop"], s["insert_failed"], s["invalid"]) == (17, 2, 3) and "entries" not in s
    udp = ("  sl  local_address rem_address   st\n"
           "  1: 0100007F:9C40 00000000:0000 07\n  2: 0100007F:0035 00000000:0000 07\n")
    assert count_sockets(udp, 40000, 40009) == (2, 1)


def test_causes_from_steps_ranks_errors_first() -> None:
    from pulldoctor.model import Finding

    steps = [Step("a", Outcome.WARNING, findings=[Finding("w", "warning", "daemon.config")]),
             Step("b", Outcome.PROBLEM, findings=[Finding("e", "error", "host.disk_full", ["x"])])]
    causes = causes_from_steps(steps, {})
    assert [c.code for c in causes] == ["host.disk_full", "daemon.config"]
    assert causes[0].fix and "b: e" in causes[0].evidence


def test_containerd_config_check(tmp_path: Path) -> None:
    from pulldoctor.host import containerd_config

    write(tmp_path, "/etc/containerd/config.toml", 'version = 3\n[plugins."io.containerd.grpc.v1.cri".registry]\n'
          '  config_path = "/etc/containerd/certs.d"\n')
    write(tmp_path, "/etc/containerd/certs.d/registry-1.docker.io/hosts.toml", 'server = "https://x"\n')
    write(tmp_path, "/etc/containerd/certs.d/quay.io/hosts.toml", "server = [\n")
    step = containerd_config.check(ctx(tmp_path, runtime="containerd"))
    assert step.outcome == Outcome.PROBLEM
    titles = [f.title for f in step.findings]
    assert any("ignored by a version = 3 config" in t for t in titles)
    assert any("looks up Docker Hub as /etc/containerd/certs.d/docker.io" in t for t in titles)
    assert any("quay.io/hosts.toml: not valid TOML" in t for t in titles)
    assert all(f.code == "daemon.config" for f in step.findings)


def test_containers_config_check(tmp_path: Path) -> None:
    from pulldoctor.host import containers_config

    write(tmp_path, "/etc/containers/registries.conf",
          '[[registry]]\nprefix = "quay.io"\nlocation = "quay.io"\nblocked = true\n')
    step = containers_config.check(ctx(tmp_path, "quay.io/a/b", runtime="podman"))
    assert step.outcome == Outcome.PROBLEM and "blocked" in step.summary
    write(tmp_path, "/etc/containers/registries.conf", "[[registry]\n")
    broken = containers_config.check(ctx(tmp_path, "quay.io/a/b", runtime="podman"))
    assert broken.outcome == Outcome.PROBLEM and "not valid TOML" in broken.summary


def test_firewall_rule_parsers() -> None:
    from pulldoctor.host.firewall import Target, iptables_rule_match, nft_rule_match

    dns = Target("udp", 53, ("10.0.0.2",), "DNS", "dns.udp_timeout", "dns.resolver_unreachable")
    m, v = iptables_rule_match(["-p", "udp", "-m", "multiport", "--dports", "53,5353", "-j", "REJECT"])
    assert v == "reject" and m.hits(dns)
    m, v = iptables_rule_match(["-p", "udp", "!", "--dport", "53", "-j", "DROP"])
    assert v is None
    m, v = iptables_rule_match(["-d", "10.0.0.0/8", "-j", "DROP"])
    assert v == "drop" and m.hits(dns)
    m, v = iptables_rule_match(["-d", "192.168.0.0/16", "-j", "DROP"])
    assert not m.hits(dns)
    expr = [{"match": {"op": "==", "left": {"meta": {"key": "l4proto"}}, "right": "udp"}},
            {"match": {"op": "==", "left": {"payload": {"protocol": "udp", "field": "dport"}},
                       "right": {"range": [50, 60]}}}, {"counter": None}, {"drop": None}]
    m, v = nft_rule_match(expr)
    assert v == "drop" and m.hits(dns) and not m.unknown
    m, v = nft_rule_match([{"match": {"op": "!=", "left": {"payload": {"protocol": "udp", "field": "dport"}},
                                      "right": 53}}, {"drop": None}])
    assert m.unknown and not m.hits(dns)


def test_conntrack_full_from_fixture_proc(tmp_path: Path) -> None:
    """A full conntrack table cannot be made here without touching the machine-wide limit (it is
    read-only outside the initial namespace), so the check reads copies of the /proc files."""
    from pulldoctor.host import kernel_udp

    proc = tmp_path / "proc"
    write(proc, "/net/snmp", "Udp: InDatagrams NoPorts InErrors OutDatagrams RcvbufErrors SndbufErrors\n"
          "Udp: 1 0 0 1 0 0\n")
    write(proc, "/sys/net/netfilter/nf_conntrack_count", "65300\n")
    write(proc, "/sys/net/netfilter/nf_conntrack_max", "65536\n")
    write(proc, "/net/stat/nf_conntrack", "entries drop early_drop insert_failed\n"
          "0000ff14 0000000a 00000000 00000000\n")
    step = kernel_udp.check(HostContext(proc=proc, env={}))
    assert step.outcome == Outcome.PROBLEM
    full = [f for f in step.findings if "conntrack table" in f.title]
    assert full and full[0].code == "host.kernel_udp" and "65300 of max 65536" in full[0].evidence[0]
    assert step.data["conntrack"]["drop"] == 10  # type: ignore[index]
