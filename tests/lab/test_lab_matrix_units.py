"""The differential oracle's pure parts: when a cell agrees, what a Confirm defect is, the table."""

from __future__ import annotations

import pytest

from pulldoctor.causes import Code
from pulldoctor.lab.matrix import (
    DEADLINE_S,
    CellResult,
    ClientRun,
    DiagnoseRun,
    confirm_problem,
    disagreements,
    is_live,
    judge,
    table,
)
from pulldoctor.lab.scenarios import SCENARIOS

NX = SCENARIOS["dns-nxdomain"]
HEALTHY = SCENARIOS["healthy"]
SHELL_PROXY = SCENARIOS["proxy-shell-only"]
FAILED = ClientRun(True, "dial tcp: lookup regsitry.lab.test on 198.18.4.2:53: no such host",
                   0.2, live=True)
PULLED = ClientRun(False, "", 0.4, live=True)


def diag(rc: int, *causes: str, runtime: str = "docker", duration: float = 1.0) -> DiagnoseRun:
    return DiagnoseRun(rc, causes, duration, duration + 0.5, (), runtime=runtime)


def test_a_cell_agrees_only_when_failure_cause_and_text_all_agree() -> None:
    assert judge(NX, "docker", FAILED, diag(1, "dns.nxdomain"), "dns.nxdomain") == []
    assert judge(HEALTHY, "docker", PULLED, diag(0), None) == []
    wrong = judge(NX, "docker", FAILED, diag(1, "net.refused", "dns.nxdomain"), "dns.nxdomain")
    assert wrong == ["diagnose names net.refused, the scenario dns.nxdomain "
                     "(all: net.refused, dns.nxdomain)"]
    assert judge(NX, "docker", FAILED, diag(0), "dns.nxdomain") == [
        "the client fails, but diagnose exits 0 (no cause)"]
    assert "explain reads net.refused" in judge(NX, "docker", FAILED, diag(1, "dns.nxdomain"),
                                               "net.refused")[0]
    assert "diagnose exits 1" in judge(HEALTHY, "docker", PULLED, diag(1, "daemon.config"),
                                       None)[0]
    assert "exited 3" in judge(NX, "docker", FAILED, diag(3), "dns.nxdomain")[0]
    late = judge(NX, "docker", FAILED, diag(1, "dns.nxdomain", duration=DEADLINE_S + 2),
                 "dns.nxdomain")
    assert any("past its" in p for p in late)
    assert "walked podman's" in judge(NX, "docker", FAILED, diag(1, "dns.nxdomain",
                                                                runtime="podman"),
                                      "dns.nxdomain")[0]


def test_per_client_expectations_come_from_the_scenario() -> None:
    proxy_fail = ClientRun(True, "proxyconnect tcp: dial tcp 198.18.5.2:3128: connect: "
                           "connection refused", 0.1, live=True)
    assert judge(SHELL_PROXY, "docker", PULLED, diag(0), None) == []
    assert judge(SHELL_PROXY, "skopeo", proxy_fail, diag(1, "proxy.error", runtime="podman"),
                 "proxy.error") == []
    stale = judge(SHELL_PROXY, "docker", proxy_fail, diag(1, "proxy.error"), "proxy.error")
    assert "out of date" in stale[0]


def test_a_client_that_hung_silently_has_no_text_to_explain() -> None:
    mtu = SCENARIOS["net-mtu-blackhole"]
    hung = ClientRun(True, "", 120.0, live=False, timed_out=True)
    assert judge(mtu, "docker", hung, diag(1, "net.mtu"), None) == []


@pytest.mark.parametrize(("command", "rc", "output", "defect"), [
    ("dig +short cdn.lab.test", 9, ";; connection timed out", None),
    ("curl -sS https://registry.lab.test/v2/", 7, "curl: (7) Failed to connect", None),
    ("dockerd --validate --config-file /etc/docker/daemon.json", 1,
     "Status: unknown flag: --validate", "usage error"),
    ("skopeo list-tags docker://nginx:1.99.99", 1,  # skopeo 1.9.3's answer, verbatim
     'level=fatal msg="No tag or digest allowed in reference"', "usage error"),
    ("docker pull registry.lab.test:99999/x", 1, "invalid reference format", "usage error"),
    ("frobnicate --now", 64, "", "usage error"),
    ("fix the setting pulldoctor names", 127, "sh: 1: fix: not found", "not a command"),
    ("nft flush ruleset", 0, "", "changes the host"),
    ("systemctl restart docker", 0, "", "changes the host"),
    ("nft list ruleset | grep -n 'udp dport 53'", 1, "", None),
])
def test_confirm_problem(command: str, rc: int, output: str, defect: str | None) -> None:
    got = confirm_problem(command, rc, output)
    assert (got is None) if defect is None else (got is not None and got.startswith(defect))


def test_live_cells_are_the_quick_ones() -> None:
    assert is_live(None)
    assert is_live({"timed_out": False, "duration_s": 0.3})
    assert not is_live({"timed_out": False, "duration_s": 52.0})
    assert not is_live({"timed_out": True, "duration_s": 1.0})


def test_table_counts_agreement_and_speed_per_client() -> None:
    slow = ClientRun(True, "i/o timeout", 53.0, live=False)
    cells = [CellResult("dns-udp-timeout-cdn", "docker", Code.DNS_UDP_TIMEOUT, Code.DNS_UDP_TIMEOUT,
                        slow, diag(1, "dns.udp_timeout"), "dns.udp_timeout"),
             CellResult("dns-nxdomain", "docker", Code.DNS_NXDOMAIN, Code.DNS_NXDOMAIN, FAILED,
                        diag(1, "net.refused"), "dns.nxdomain", ["diagnose names net.refused"])]
    out = table(cells)
    assert "| docker | 2 (1 / 1) | 1/2 | 1 | 1.5 s / 53.0 s | 35.3x / 35.3x | 1.50 s / 0.20 s |" in out
    assert "containerd" not in out
    assert disagreements(cells) == "- `dns-nxdomain` x docker: diagnose names net.refused\n"
    again = CellResult.from_dict(cells[1].to_dict())
    assert again == cells[1]
