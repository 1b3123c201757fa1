"""Every scenario builds for real, and skopeo (containers/image) still does what was recorded.

What skopeo must do comes from the scenario (``Scenario.expected("skopeo")``: pull, or fail) and
from its recorded run (``tests/fixtures/lab_capture.json``): the live error text must be the
recorded one (timestamps, ephemeral ports and lab ids aside), so the fixture the matrix and the
explain tests read is proven still true. A recorded run that hung, or took longer than
:data:`HANG_S`, is run with a short bound and must still be waiting at it. No scenario is named
in this file. skopeo is the quickest real client; docker and containerd runs are the matrix's.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from pulldoctor.causes import CATALOGUE, Code
from pulldoctor.lab.procs import TIMEOUT_RC
from pulldoctor.lab.scenarios import (
    NOT_REPRODUCED,
    SCENARIOS,
    check_catalogue,
    scenarios_json,
)
from pulldoctor.lab.topology import Lab

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "lab_capture.json"
HANG_S = 25.0  # a recorded skopeo run longer than this is checked as "still waiting at 8 s"
SLOW_S = 5.0  # longer recorded runs are marked slow


def recorded() -> dict[tuple[str, str], dict[str, Any]]:
    doc = json.loads(FIXTURE.read_text(encoding="utf-8"))
    return {(r["scenario"], r["client"]): r["result"] for r in doc["runs"]}


def normalise(text: str) -> str:
    """A client's error text without what changes run to run."""
    text = re.sub(r'time="[^"]*" ', "", text)
    text = re.sub(r"(\d+\.\d+\.\d+\.\d+):\d+->", r"\1:PORT->", text)
    text = re.sub(r"/run/pulldoctor/labs/[0-9a-z]+/", "/LAB/", text)
    return re.sub(r"(current time|is after) \S+", r"\1 T", text)


def test_catalogue_is_sound_and_covers_every_cause() -> None:
    assert check_catalogue() == []
    codes = {s.expected(c) for s in SCENARIOS.values() for c in s.clients}
    assert None in codes  # healthy worlds
    assert codes - {None} == set(Code) - set(NOT_REPRODUCED)
    assert all(c in CATALOGUE for c in NOT_REPRODUCED)


def test_scenarios_are_printable_data() -> None:
    data = {d["name"]: d for d in json.loads(scenarios_json())}
    assert set(data) == set(SCENARIOS)
    assert data["dns-udp-timeout-cdn"]["faults"] == [
        {"name": "dns_drop_udp", "layer": "dns", "host": "cdn.lab.test"}]
    assert data["net-tcp-drop"]["faults"] == [
        {"name": "drop", "layer": "net", "to": "registry", "proto": "tcp", "port": 443}]
    assert data["proxy-shell-only"]["expect"]["skopeo"]["code"] == "proxy.error"
    assert data["proxy-shell-only"]["expect"]["docker"]["code"] is None
    for name, sc in SCENARIOS.items():
        for client in sc.clients:
            assert data[name]["expect"][client]["code"] == sc.expected(client)
            assert data[name]["expect"][client]["explain"] == sc.explain_expected(client)


def _params() -> list[Any]:
    runs = recorded()
    out = []
    for name, sc in sorted(SCENARIOS.items()):
        if "skopeo" not in sc.clients:
            continue
        run = runs[(name, "skopeo")]
        marks = [pytest.mark.slow] if run["duration_s"] > SLOW_S else []
        out.append(pytest.param(name, marks=marks, id=name))
    return out


@pytest.mark.lab
@pytest.mark.parametrize("name", _params())
def test_scenario_builds_and_skopeo_does_what_was_recorded(name: str, lab: Lab) -> None:
    from pulldoctor.lab.clients import SkopeoClient

    sc = SCENARIOS[name]
    was = recorded()[(name, "skopeo")]
    hangs = was["timed_out"] or was["duration_s"] > HANG_S
    sc.build(lab)
    client = SkopeoClient()
    client.start(lab)
    res = client.pull(sc.image, timeout=8 if hangs else 90)
    if sc.expected("skopeo") is None:
        assert res.ok, res.output_text
    elif hangs:
        assert res.timed_out, res.output_text
    else:
        assert res.rc not in (0, None), res.output_text
        assert normalise(res.error_text) == normalise(was["error_text"])
    assert TIMEOUT_RC == 124
