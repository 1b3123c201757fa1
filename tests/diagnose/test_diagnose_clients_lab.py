"""containerd's two pull paths, each with its own proxy (issue 9's proxy-shell-only x ctr cell).

ctr (1.6) and nerdctl fetch in their own process with the calling shell's HTTPS_PROXY; the CRI
plugin (kubelet, crictl) fetches in containerd with containerd.service's environment. In the
``proxy-shell-only`` lab the shell's proxy is dead and containerd's unit has none: ctr fails
there, a kubelet pull works. ``diagnose --runtime containerd`` walks both paths when their
proxies differ (``--client auto``) and says whose is whose; ``--client cli``/``cri`` walk one.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import pytest

from pulldoctor.lab.scenarios import SCENARIOS

if TYPE_CHECKING:
    from pulldoctor.lab.topology import Lab

SC = SCENARIOS["proxy-shell-only"]


@pytest.fixture(scope="module")
def lab() -> Iterator[Lab]:
    from pulldoctor.lab.topology import Lab, lab_unavailable

    reason = lab_unavailable()
    if reason:
        pytest.skip(reason)
    with Lab(prefix="c") as lab:
        SC.build(lab)
        yield lab


def _diagnose(lab: Lab, *args: str) -> tuple[int, dict[str, Any]]:
    r = lab.client_exec([sys.executable, "-m", "pulldoctor", "diagnose", SC.image, "--json",
                         "--runtime", "containerd", "--timeout", "12", *args], timeout=40)
    assert r.returncode in (0, 1), r.stdout[-2000:] + r.stderr
    return r.returncode, json.loads(r.stdout)


@pytest.mark.lab
def test_auto_walks_both_paths_and_says_whose_is_whose(lab: Lab) -> None:
    rc, rep = _diagnose(lab)
    assert rc == 1 and rep["causes"][0]["code"] == "proxy.error"
    assert "env | grep -i _proxy" in rep["causes"][0]["confirm"]  # the shell's, not the unit's
    assert not any("systemctl" in c for c in rep["causes"][0]["confirm"])
    by_client = {e["client"]: e for e in rep["endpoints"]}
    assert by_client["cli"]["outcome"] == "failed" and by_client["cri"]["outcome"] == "ok"
    assert rep["endpoints"][0]["client"] == "cli"  # the failing path first
    assert "proxy http://proxy.lab.test:3128" in by_client["cli"]["note"]
    assert "proxy none (direct)" in by_client["cri"]["note"]
    walked = {s["client"] for s in rep["steps"] if s["endpoint"]}
    assert walked == {"cli", "cri"}
    assert any("fails" in n and n.startswith("ctr") for n in rep["notes"])
    assert any("works" in n and n.startswith("the CRI plugin") for n in rep["notes"])
    config = next(s for s in rep["steps"] if s["name"] == "config")
    assert config["outcome"] == "warning"
    assert any("different proxies" in e for e in config["evidence"])


@pytest.mark.lab
def test_one_client_at_a_time(lab: Lab) -> None:
    rc, rep = _diagnose(lab, "--client", "cri")  # as kubelet pulls: containerd's unit, direct
    assert rc == 0 and rep["causes"] == [], rep["causes"]
    assert {s["client"] for s in rep["steps"] if s["endpoint"]} == {"cri"}
    rc, rep = _diagnose(lab, "--client", "cli")  # as ctr pulls: the shell's dead proxy
    assert rc == 1 and rep["causes"][0]["code"] == "proxy.error"
    assert {s["client"] for s in rep["steps"] if s["endpoint"]} == {"cli"}
