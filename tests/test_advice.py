"""Suggested commands run as printed, fit the runtime, and never contradict the evidence
(issue 9, defect 5). Every case below was seen in a real report before this was fixed."""

from __future__ import annotations

import re

import pytest

from pulldoctor.advice import complete_values, render
from pulldoctor.causes import CATALOGUE, RUNTIMES, Code
from pulldoctor.model import Cause, Outcome, Report
from pulldoctor.report.markdown import render_markdown
from pulldoctor.report.text import render_text


def test_confirm_items_are_commands_and_runtimes_are_known() -> None:
    for ci in CATALOGUE.values():
        assert all(a.command for a in ci.confirm), ci.code  # a confirm step is always runnable
        for a in (*ci.confirm, *ci.fix):
            assert set(a.runtimes) <= set(RUNTIMES), (ci.code, a.text)
            assert not a.command or not a.text[:1].isupper(), (ci.code, a.text)  # not a sentence


def test_plain_http_registry_keeps_its_scheme_and_port() -> None:
    """Seen: ``curl https://127.0.0.1/v2/`` for a plain-HTTP registry on :5002."""
    v = complete_values({"image": "127.0.0.1:5002/team/app:1", "scheme": "http"})
    assert v["base_url"] == "http://127.0.0.1:5002"
    c = Cause.from_catalogue(Code.REGISTRY_SERVER_ERROR, 0.9, [], {"base_url": v["base_url"]})
    assert any(x.endswith("http://127.0.0.1:5002/v2/") for x in c.confirm), c.confirm
    assert complete_values({"host": "r.example", "port": "443"})["base_url"] == "https://r.example"


def test_list_tags_takes_a_repository_never_a_tag() -> None:
    """Seen: ``skopeo list-tags docker://nginx:1.99.99`` (skopeo refuses a tag there)."""
    c = Cause.from_catalogue(Code.REGISTRY_NOT_FOUND, 0.9, [],
                             {"image": "nginx:1.99.99", "registry_repo": "nginx:1.99.99"})
    assert c.confirm == ["skopeo list-tags docker://docker.io/library/nginx"]


def test_docker_hub_login_is_plain_docker_login() -> None:
    """Seen: ``docker login registry-1.docker.io`` (Hub's credentials are keyed
    ``https://index.docker.io/v1/``, which plain ``docker login`` writes)."""
    for registry in ("docker.io", "registry-1.docker.io"):
        c = Cause.from_catalogue(Code.REGISTRY_UNAUTHORIZED, 0.9, [],
                                 {"image": "nginx:latest", "registry": registry}, runtime="docker")
        assert c.fix == ["docker login"], c.fix
    own = Cause.from_catalogue(Code.REGISTRY_UNAUTHORIZED, 0.9, [],
                               {"registry": "r.example:5000"}, runtime="docker")
    assert own.fix == ["docker login r.example:5000"]


@pytest.mark.parametrize("code", [Code.PROXY_ERROR, Code.TLS_UNKNOWN_AUTHORITY,
                                  Code.TLS_HTTP_RESPONSE_TO_HTTPS, Code.NET_TCP_TIMEOUT,
                                  Code.REGISTRY_UNAUTHORIZED, Code.HOST_DISK_FULL])
def test_each_runtime_gets_its_own_files(code: Code) -> None:
    """Seen: podman users told to edit /etc/docker/daemon.json and docker.service drop-ins."""
    vals = {"image": "r.example/a:1", "registry": "r.example", "data_root": "/var/lib/x",
            "proxy": "http://p:3128"}
    text = {rt: " ".join([*(c := Cause.from_catalogue(code, 0.9, [], vals, runtime=rt)).fix,
                          *c.advice, *c.confirm]) for rt in RUNTIMES}
    docker_only = ("/etc/docker", "docker.service", "daemon.json", "docker login", "docker system")
    assert not any(d in text["podman"] or d in text["containerd"] for d in docker_only)
    for other in ("/etc/containerd", "/etc/containers", "containerd.service", "podman", "crictl"):
        assert other not in text["docker"]
    # without a runtime, every runtime's items are given, each labelled
    c = Cause.from_catalogue(code, 0.9, [], vals)
    labelled = [x for x in (*c.fix, *c.advice) if re.search(r"(# |\(|^)(docker|containerd|"
                                                             r"podman/CRI-O)\b", x)]
    assert labelled and c.runtime is None


def test_prose_is_never_printed_as_a_command() -> None:
    """Seen: sentences printed as ``$`` commands and inside ``sh`` blocks in Markdown."""
    cause = Cause.from_catalogue(Code.DNS_UDP_TIMEOUT, 0.9, ["x"], {"host": "h", "resolver": "r"},
                                 runtime="docker")
    prose = "set a reachable nameserver in /etc/resolv.conf (or the stub's upstreams)"
    assert prose in cause.advice and prose not in cause.fix
    rep = Report("explain", causes=[cause])
    text = render_text(rep)
    assert f"- {prose}" in text and f"$ {prose}" not in text
    assert "Fix (docker):" in text
    md = render_markdown(rep)
    blocks = "\n".join(re.findall(r"```sh\n(.*?)```", md, re.S))
    assert "nameserver" not in blocks and "dig +notcp" in blocks


def test_a_fix_never_contradicts_the_evidence() -> None:
    """Seen: a TLS stall whose evidence says 'not a packet-size problem', then 'Fix: lower the
    MTU'. A step that ruled out packet size leaves the MTU advice out."""
    info = CATALOGUE[Code.NET_TLS_HANDSHAKE_TIMEOUT]
    kept = render(info.confirm, info.fix, {"host": "h", "port": "443"})
    cut = render(info.confirm, info.fix, {"host": "h", "port": "443"},
                 context=frozenset({"mtu"}))
    assert any("MTU" in a for a in kept.advice) and not any("MTU" in a for a in cut.advice)
    assert not any("MTU" in c for c in cut.confirm)

    from pulldoctor.diagnose.observe import MtuRetry, TlsObservation
    from pulldoctor.diagnose.rank import rank
    from pulldoctor.model import Step
    from pulldoctor.probes.tls import TlsResult

    obs = TlsObservation(443, TlsResult("h", "handshake_timeout"), retry=MtuRetry(536, False))
    step = Step("tls h:443", Outcome.PROBLEM, cause=Code.NET_TLS_HANDSHAKE_TIMEOUT,
                confidence=0.9, observation=obs)
    (c,) = rank([step], values={"image": "h/x:1"}, runtime="docker")
    assert not any("MTU" in x or "mtu" in x for x in (*c.advice, *c.fix, *c.confirm)), c
    assert c.runtime == "docker"
    assert not any(x == "pulldoctor diagnose h/x:1" for x in c.confirm)  # no "run what you ran"
