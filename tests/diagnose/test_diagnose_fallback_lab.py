"""Endpoint fallback (issue 9, defect 1): each endpoint's walk reaches every host from scratch.

A plain-HTTP registry listed in ``insecure-registries``: docker tries ``https://`` (which answers
in plain HTTP), then falls back to ``http://``. Its blobs redirect to the CDN host. Two faults on
that CDN host:

* UDP DNS for it dropped (TCP answers): the old walk reached the CDN in the fallback endpoint's
  walk with the address the *first* walk's TCP DNS query had got, and said "No problem found,
  every step passed" (exit 0) while dockerd fails with ``lookup cdn...: i/o timeout``;
* its port refused: the old walk's fallback reached it through httpx, whose errno-less
  ``ConnectError`` became ``net.unreachable`` ("no route") although the socket said refused.

A fixture built here with the lab's own parts (an ad-hoc :class:`Scenario`; the lab helper's
catalogue scenarios will replace it), run as the lab's client exactly as a user runs diagnose.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
from typing import Any

import pytest

from pulldoctor.causes import Code
from pulldoctor.lab.faults.reject import Reject
from pulldoctor.lab.scenarios import CDN, REGISTRY, Scenario, Services
from pulldoctor.report.text import render_text_data

DEADLINE_S = 12.0
IMAGE = f"{REGISTRY}:443/lab/hello:latest"  # the port is explicit, so http:// goes to 443 too

FIXTURES: dict[str, Scenario] = {
    "cdn-udp-dns-dropped": Scenario(
        "fixture-insecure-plain-cdn-udp-dropped", Code.DNS_UDP_TIMEOUT,
        "plain-HTTP insecure registry; UDP DNS for the CDN host dropped",
        image=IMAGE, dns_modes={CDN: {"mode": "drop_udp"}}, services=Services(tls="plain")),
    "cdn-refused": Scenario(
        "fixture-insecure-plain-cdn-refused", Code.NET_REFUSED,
        "plain-HTTP insecure registry; the CDN host refuses its port",
        image=IMAGE, faults=(Reject(to="cdn", proto="tcp", port=443),),
        services=Services(tls="plain")),
}


def _lab_unavailable() -> str | None:
    if os.geteuid() != 0:
        return "lab tests need root"
    missing = [t for t in ("ip", "nft", "nsenter", "unshare", "mount") if shutil.which(t) is None]
    return f"lab tests need {', '.join(missing)}" if missing else None


def _diagnose(name: str) -> tuple[int, dict[str, Any]]:
    from pulldoctor.lab.topology import Lab

    sc = FIXTURES[name]
    with Lab(prefix="f") as lab:
        sc.build(lab)
        daemon = lab.client_files / "etc/docker/daemon.json"
        cfg = json.loads(daemon.read_text())
        cfg["insecure-registries"] = [f"{REGISTRY}:443"]
        daemon.write_text(json.dumps(cfg, indent=2) + "\n")
        r = lab.client_exec([sys.executable, "-m", "pulldoctor", "diagnose", IMAGE, "--json",
                             "--runtime", "docker", "--timeout", str(DEADLINE_S)],
                            timeout=DEADLINE_S + 20)
    assert r.returncode in (0, 1), r.stderr
    return r.returncode, json.loads(r.stdout)


def _summary(rep: dict[str, Any]) -> str:
    return "\n".join(f"{s['outcome']:8} [{s.get('endpoint')}] {s['name']}: {s['summary']}"
                     for s in rep["steps"])


@pytest.mark.lab
@pytest.mark.parametrize("name", sorted(FIXTURES))
def test_fallback_endpoint_reaches_the_cdn_from_scratch(name: str) -> None:
    reason = _lab_unavailable()
    if reason:
        pytest.skip(reason)
    rc, rep = _diagnose(name)
    causes = [c["code"] for c in rep["causes"]]
    assert causes and causes[0] == FIXTURES[name].code, f"{causes}\n{_summary(rep)}"
    assert rc == 1
    assert not any("every step passed" in n for n in rep["notes"])
    # the https:// endpoint answered in plain HTTP: a warning, and the runtime's http:// endpoint
    # (the one whose error dockerd reports) resolved and dialled the CDN host itself
    http_ep = f"http://{REGISTRY}:443"
    cdn_steps = [s for s in rep["steps"] if CDN in s["name"] and s["endpoint"] == http_ep]
    assert cdn_steps and cdn_steps[0]["name"] == f"dns {CDN}", _summary(rep)
    if name == "cdn-udp-dns-dropped":
        assert cdn_steps[0]["outcome"] == "problem"
        assert cdn_steps[0]["data"]["runtime_addresses"] == []
    else:
        tcp = next(s for s in cdn_steps if s["name"].startswith("tcp "))
        assert tcp["cause"] == "net.refused" and "ECONNREFUSED" in " ".join(tcp["evidence"])
    assert "net.unreachable" not in causes
    # issue 9, defect 2: every step says which endpoint it belongs to; the endpoint whose error
    # dockerd reports (the last one it tried) is shown first, under its own heading
    walked = [s["endpoint"] for s in rep["steps"] if s["endpoint"]]
    assert walked[0] == http_ep and f"https://{REGISTRY}:443" in walked
    assert [(e["url"], e["reported"]) for e in rep["endpoints"]] == [
        (http_ep, True), (f"https://{REGISTRY}:443", False)]
    text = render_text_data(rep)
    first = text.index(f"Endpoint 2 of 2, {http_ep}: the error dockerd reports comes from here")
    assert first < text.index(f"Endpoint 1 of 2, https://{REGISTRY}:443: dockerd falls back")
