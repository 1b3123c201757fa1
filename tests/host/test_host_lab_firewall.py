"""firewall and routes_mtu against real nftables / iptables rules and routes in a scratch netns."""

from __future__ import annotations

from pathlib import Path

import pytest

from pulldoctor.host import firewall, routes_mtu
from pulldoctor.host.context import HostContext
from pulldoctor.lab.services.netns import ScratchNetns
from pulldoctor.model import Outcome, Step
from pulldoctor.reference import parse_reference

pytestmark = pytest.mark.lab

RULESET = """
table inet pdtest {
  chain out {
    type filter hook output priority 0; policy accept;
    udp dport 53 drop comment "block dns"
    ip daddr 198.18.0.10 tcp dport { 443, 5000 } reject
    tcp dport 8080 accept
  }
}
"""


def _root(tmp_path: Path, nameserver: str = "198.18.0.53") -> Path:
    (tmp_path / "etc").mkdir()
    (tmp_path / "etc/resolv.conf").write_text(f"nameserver {nameserver}\n")
    return tmp_path


def _ctx(root: Path, **kw: object) -> HostContext:
    return HostContext(root=root, image=parse_reference("198.18.0.10:5000/team/app:1"), runtime="docker",
                       env={}, **kw)  # type: ignore[arg-type]


def test_nft_rules_named_with_handle_and_fix(netns: ScratchNetns, tmp_path: Path) -> None:
    r = netns.run(["nft", "-f", "-"], input=RULESET.encode())
    assert r.returncode == 0, r.stderr
    root = _root(tmp_path)
    step: Step = netns.call(lambda: firewall.check(_ctx(root, registry_addresses=["198.18.0.10"])))
    assert step.outcome == Outcome.PROBLEM
    by_code = {f.code: f for f in step.findings}
    dns = by_code["dns.udp_timeout"]
    assert "nft rule inet pdtest out handle" in dns.evidence[0] and "'block dns'" in dns.evidence[0]
    assert dns.fix[0].startswith("nft delete rule inet pdtest out handle ")
    reg = by_code["net.refused"]
    assert "tcp/5000" in reg.evidence[0] and "198.18.0.10" in reg.evidence[0]
    assert not any("8080" in e for f in step.findings for e in f.evidence)


def test_rule_for_other_address_is_not_blamed(netns: ScratchNetns, tmp_path: Path) -> None:
    r = netns.run(["nft", "-f", "-"], input=RULESET.replace("udp dport 53 drop comment \"block dns\"", "").encode())
    assert r.returncode == 0, r.stderr
    root = _root(tmp_path)
    step = netns.call(lambda: firewall.check(_ctx(root, registry_addresses=["198.18.0.11"])))
    assert step.outcome == Outcome.OK, [f.title for f in step.findings]


def test_iptables_rule_is_found(netns: ScratchNetns, tmp_path: Path) -> None:
    r = netns.run(["iptables", "-A", "OUTPUT", "-p", "tcp", "-d", "198.18.0.10", "--dport", "5000",
                   "-j", "DROP"])
    assert r.returncode == 0, r.stderr
    root = _root(tmp_path)
    step = netns.call(lambda: firewall.check(_ctx(root, registry_addresses=["198.18.0.10"])))
    tcp = [f for f in step.findings if f.code == "net.tcp_timeout"]
    assert len(tcp) == 1, [f.evidence for f in step.findings]  # not twice (nft view + iptables view)
    assert any(fx.startswith("iptables -t filter -D OUTPUT") for f in tcp for fx in f.fix)


def test_no_route_to_resolver(netns: ScratchNetns, tmp_path: Path) -> None:
    root = _root(tmp_path)  # the namespace has only lo: 198.18.0.53 is unreachable
    step = netns.call(lambda: routes_mtu.check(_ctx(root)))
    assert step.outcome == Outcome.PROBLEM
    f = step.findings[0]
    assert f.code == "dns.resolver_unreachable"
    assert "198.18.0.53" in f.title


def test_route_and_mtu_found(netns: ScratchNetns, tmp_path: Path) -> None:
    netns.add_addr("198.18.0.1/32")
    r = netns.run(["ip", "route", "add", "198.18.0.0/24", "dev", "lo"])
    assert r.returncode == 0, r.stderr
    root = _root(tmp_path)
    step = netns.call(lambda: routes_mtu.check(_ctx(root, registry_addresses=["198.18.0.10"])))
    assert step.outcome == Outcome.OK, [f.title for f in step.findings]
    assert step.data["routes"]["198.18.0.10"]["dev"] == "lo"
    assert step.data["routes"]["198.18.0.53"]["mtu"] == 65536
