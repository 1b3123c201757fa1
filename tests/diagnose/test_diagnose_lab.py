"""``pulldoctor diagnose`` as the client in EVERY lab scenario: the top cause is the scenario's code.

The command runs exactly as a user runs it, inside the lab's client (its namespace, its resolv.conf,
its /etc/docker), as a subprocess with ``--json``. Each scenario must also end within the deadline,
including the ones where the real clients hang (TCP drop, MTU blackhole, silent registry). Tests are
independent (one lab each), so pytest-xdist runs them in parallel.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import time

import pytest

from pulldoctor.lab.scenarios import SCENARIOS

DEADLINE_S = 12.0
SLACK_S = 6.0  # interpreter start-up inside the client's namespaces, and the report itself


def _lab_unavailable() -> str | None:
    if os.geteuid() != 0:
        return "lab tests need root"
    missing = [t for t in ("ip", "nft", "nsenter", "unshare", "mount") if shutil.which(t) is None]
    return f"lab tests need {', '.join(missing)}" if missing else None


# Scenarios diagnose cannot prove yet, with why (strict xfails: an XPASS means remove the entry).
KNOWN_GAPS: dict[str, str] = {}


def _params() -> list[object]:
    return [pytest.param(n, marks=pytest.mark.xfail(reason=KNOWN_GAPS[n], strict=True))
            if n in KNOWN_GAPS else n for n in sorted(SCENARIOS)]


@pytest.mark.lab
@pytest.mark.parametrize("name", _params())
def test_diagnose_finds_the_scenario_cause(name: str) -> None:
    reason = _lab_unavailable()
    if reason:
        pytest.skip(reason)
    from pulldoctor.lab.topology import Lab

    sc = SCENARIOS[name]
    with Lab(prefix="d") as lab:
        sc.build(lab)
        # dockerd's proxy lives in its own environment, which the lab hands only to the daemons
        # it starts; containers/image (skopeo, podman) reads the caller's, like this walk does.
        runtime = "docker" if "docker" in sc.clients else "containerd"
        if sc.services.proxy != "none" and "skopeo" in sc.clients:
            runtime = "podman"
        start = time.monotonic()
        r = lab.client_exec([sys.executable, "-m", "pulldoctor", "diagnose", sc.image, "--json",
                             "--runtime", runtime, "--timeout", str(DEADLINE_S)],
                            timeout=DEADLINE_S + SLACK_S + 10)
        took = time.monotonic() - start
    assert r.returncode in (0, 1), r.stderr
    rep = json.loads(r.stdout)
    causes = [c["code"] for c in rep["causes"]]
    summary = "\n".join(f"{s['outcome']:8} {s['name']}: {s['summary']}" for s in rep["steps"])
    if sc.code is None:
        assert causes == [] and r.returncode == 0, summary
    else:
        assert causes and causes[0] == sc.code, f"{causes}\n{summary}"
        assert r.returncode == 1
    assert rep["duration_s"] <= DEADLINE_S + 0.5, summary  # the report is cut at the deadline
    assert took <= DEADLINE_S + SLACK_S


# The same walk with containerd's and containers/image's configuration (hosts.toml / certs.d,
# registries.conf, auth.json): a representative scenario from each area.
OTHER_RUNTIME_SCENARIOS = ("healthy", "dns-udp-timeout-cdn", "net-tcp-drop", "tls-unknown-authority",
                           "registry-unauthorized", "image-platform-mismatch", "image-corrupt-layer")
RUNTIME_CLIENT = {"containerd": "containerd", "podman": "skopeo"}


@pytest.mark.lab
@pytest.mark.parametrize("runtime", sorted(RUNTIME_CLIENT))
@pytest.mark.parametrize("name", OTHER_RUNTIME_SCENARIOS)
def test_diagnose_with_other_runtimes(name: str, runtime: str) -> None:
    reason = _lab_unavailable()
    if reason:
        pytest.skip(reason)
    from pulldoctor.lab.topology import Lab

    sc = SCENARIOS[name]
    if RUNTIME_CLIENT[runtime] not in sc.clients:
        pytest.skip(f"{name} is not a {runtime} scenario")
    with Lab(prefix="d") as lab:
        sc.build(lab)
        r = lab.client_exec([sys.executable, "-m", "pulldoctor", "diagnose", sc.image, "--json",
                             "--runtime", runtime, "--timeout", str(DEADLINE_S)],
                            timeout=DEADLINE_S + SLACK_S + 10)
    rep = json.loads(r.stdout)
    assert rep["facts"]["runtime"] == runtime
    causes = [c["code"] for c in rep["causes"]]
    summary = "\n".join(f"{s['outcome']:8} {s['name']}: {s['summary']}" for s in rep["steps"])
    assert (causes[0] if causes else None) == sc.code, f"{causes}\n{summary}"
    assert r.returncode == (0 if sc.code is None else 1)
