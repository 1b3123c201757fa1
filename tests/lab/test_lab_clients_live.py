"""The real clients (dockerd, containerd + ctr, skopeo) pulling in real labs (root).

A few representative runs, live: the healthy pull works with each client, a DNS failure with
skopeo, and the classic CDN UDP-DNS failure with docker (slow: docker retries for ~50 s). Each
asserts that the real client fails and that ``explain`` names the scenario's cause from the text
the client printed. The whole catalogue is covered by the recorded capture instead
(test_lab_clients_fixtures.py).
"""

from __future__ import annotations

import pytest

from pulldoctor.lab.procs import is_alive, proc_start_time

pytestmark = [pytest.mark.lab, pytest.mark.usefixtures("lab_ok")]


def _run(scenario: str, client: str, timeout: float = 120.0):  # type: ignore[no-untyped-def]
    from pulldoctor.lab.capture import run_one
    from pulldoctor.lab.scenarios import SCENARIOS

    run = run_one(SCENARIOS[scenario], client, timeout)
    assert run.lab_error is None, run.lab_error
    assert run.result is not None
    return run.result


def _top(text: str) -> str | None:
    from pulldoctor.explain import explain

    report = explain(text)
    return report.causes[0].code if report.causes else None


@pytest.mark.parametrize("client", ["docker", "containerd", "skopeo"])
def test_healthy_pull_succeeds(client: str) -> None:
    res = _run("healthy", client)
    assert res.rc == 0 and res.ok, res.output_text
    assert not res.error_text
    assert res.version and res.duration_s > 0
    if client == "docker":
        assert "Status: Downloaded newer image for registry.lab.test/lab/hello:latest" in res.output_text


def test_dns_nxdomain_with_skopeo() -> None:
    res = _run("dns-nxdomain", "skopeo", timeout=60)
    assert res.rc not in (0, None)
    assert "no such host" in res.error_text and "regsitry.lab.test" in res.error_text
    assert _top(res.error_text) == "dns.nxdomain"


def test_dns_udp_blocked_with_skopeo() -> None:
    res = _run("dns-udp-blocked", "skopeo", timeout=60)
    assert res.rc not in (0, None)
    assert "i/o timeout" in res.error_text
    assert _top(res.error_text) == "dns.udp_timeout"


@pytest.mark.slow
def test_classic_cdn_udp_dns_with_docker() -> None:
    res = _run("dns-udp-timeout-cdn", "docker", timeout=120)
    assert res.rc not in (0, None), res.output_text
    assert "error pulling image configuration" in res.error_text
    assert "lookup cdn.lab.test" in res.error_text
    assert "Download failed, retrying" in res.daemon_log  # dockerd's retries, from its own log
    assert _top(res.error_text) == "dns.udp_timeout"


def test_stop_ends_every_daemon_by_pid(lab) -> None:  # type: ignore[no-untyped-def]
    from pulldoctor.lab.clients import ContainerdClient, DockerClient

    lab.start_dns()
    clients = [DockerClient(), ContainerdClient()]
    pids = []
    for c in clients:
        c.start(lab)
        pids += [(p.pid, proc_start_time(p.pid)) for p in c._procs]
    assert len(pids) == 3 and all(is_alive(pid, st) for pid, st in pids)
    for c in clients:
        c.stop()
    assert not any(is_alive(pid, st) for pid, st in pids)


def test_unstartable_dockerd_is_a_result_not_a_crash() -> None:
    # dockerd refuses the scenario's daemon.json: its own error line is the client's result
    # (whether explain names it is checked with the other recorded texts, in the fixtures test).
    res = _run("daemon-config-broken", "docker", timeout=30)
    assert res.rc not in (0, None)
    assert res.error_text.startswith("unable to configure the Docker daemon with file "
                                     "/etc/docker/daemon.json")
    assert res.notes and "dockerd did not start" in res.notes[0]


@pytest.mark.slow
def test_demo_shows_docker_text_and_the_proven_cause(capsys: pytest.CaptureFixture[str]) -> None:
    import json

    from pulldoctor.cli import main

    rc = main(["demo", "--json"])
    data = json.loads(capsys.readouterr().out)
    facts = data["facts"]
    assert "error pulling image configuration" in facts["docker_text"]
    assert facts["docker_seconds"] > 0 and facts["explain_code"] == "dns.udp_timeout"
    assert data["causes"][0]["code"] == "dns.udp_timeout", data["steps"]
    assert data["steps"][1]["name"].startswith("pulldoctor diagnose")
    assert data["steps"][1]["outcome"] == "problem"  # diagnose ran (not the explain fallback)
    assert rc == 0
