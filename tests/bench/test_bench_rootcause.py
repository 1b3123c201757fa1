"""The judgement of time-to-root-cause rows: a wrong cause is a failed row, never a speed."""

from __future__ import annotations

import json

import rootcause as rc


def _diag(top: str | None, wall: float = 1.0, rc_: int = 1, report: float = 0.7) -> rc.DiagRun:
    steps = (rc.Step("config", None, "ok", 0.0), rc.Step("dns cdn", "https://r", "timeout", 0.5),
             rc.Step("manifest", "https://r", "blocked", 0.0))
    return rc.DiagRun(rc_, wall, report, 15.0, (top,) if top else (), steps)


def _pairs(tops: list[str | None], client_s: float, walls: list[float] | None = None,
           timed_out: bool = False, failed: bool = True) -> list[rc.Pair]:
    walls = walls or [1.0] * len(tops)
    return [rc.Pair(_diag(t, w), rc.ClientRun(failed, client_s, timed_out))
            for t, w in zip(tops, walls, strict=True)]


def test_kind_of_codes() -> None:
    assert rc.kind_of("dns.udp_timeout") == "dns"
    assert rc.kind_of("net.refused") == "tcp"
    assert rc.kind_of("net.mtu") == "stall"
    assert rc.kind_of("registry.not_found") is None
    assert rc.kind_of(None) is None


def test_select_keeps_dns_tcp_and_stall_scenarios_with_per_client_expectations() -> None:
    cat = [{"name": "healthy", "code": None, "clients": ["docker"], "expect": {}},
           {"name": "a", "code": "dns.nxdomain", "clients": ["docker", "containerd", "skopeo"],
            "expect": {"docker": {"code": "dns.nxdomain"}, "skopeo": {"code": None}}},
           {"name": "b", "code": "tls.expired", "clients": ["docker"], "expect": {}}]
    (only,) = rc.select(cat)
    assert only["name"] == "a" and only["kind"] == "dns"
    assert only["clients"] == ["docker", "skopeo"]  # no containerd column in this bench
    assert only["expect"]["skopeo"] is None


def test_right_and_fast_meets_the_goal() -> None:
    row = rc.judge("s", "dns", "docker", "dns.udp_timeout",
                   _pairs(["dns.udp_timeout"] * 3, 50.0), 180)
    assert row["correct"] and row["meets"] and row["ratio"] == 50.0
    assert "50.0× sooner" in row["figure"]


def test_wrong_cause_fails_the_row_and_gives_no_speed() -> None:
    row = rc.judge("s", "dns", "docker", "dns.udp_timeout",
                   _pairs(["dns.udp_timeout", "net.unreachable", "dns.udp_timeout"], 50.0), 180)
    assert row["correct"] is False and row["ratio"] is None and row["meets"] is False
    assert row["figure"].startswith("FAILED") and "net.unreachable" in row["figure"]
    assert "sooner" not in row["figure"]


def test_no_cause_or_crash_fails_the_row() -> None:
    pairs = [rc.Pair(rc.DiagRun(3, 1.0, None, None, (), error="Traceback"),
                     rc.ClientRun(True, 50.0))]
    row = rc.judge("s", "tcp", "docker", "net.refused", pairs, 180)
    assert row["correct"] is False and row["ratio"] is None


def test_client_that_pulls_fails_the_row() -> None:
    row = rc.judge("s", "tcp", "docker", "net.refused",
                   _pairs(["net.refused"], 0.2, failed=False), 180)
    assert row["correct"] is True and row["ratio"] is None and "pulled" in row["figure"]


def test_quick_client_misses_ten_times_and_says_who_errs_first() -> None:
    row = rc.judge("s", "tcp", "docker", "net.refused", _pairs(["net.refused"] * 2, 0.1,
                                                                [0.5, 0.5]), 180)
    assert row["correct"] and row["meets"] is False
    assert "docker errs first (diagnose 5.0× slower)" in row["figure"]


def test_skopeo_rows_have_no_speed_goal_but_stalls_have_the_deadline() -> None:
    row = rc.judge("s", "dns", "skopeo", "dns.nxdomain", _pairs(["dns.nxdomain"], 0.1), 180)
    assert row["goal"] is None and row["meets"] is None
    stall = rc.judge("s", "stall", "skopeo", "net.mtu", _pairs(["net.mtu"] * 2, 180.0, [4.0, 16.0],
                                                              timed_out=True), 180)
    assert stall["meets"] is False and "PAST its 15 s deadline in 1 run" in stall["figure"]
    assert "≥ " in stall["figure"] and stall["ratio_lower_bound"] is True


def test_breakdown_separates_startup_from_walk_and_names_the_evidence_step() -> None:
    b = rc.breakdown([_diag("x", wall=1.0, report=0.7), _diag("x", wall=1.2, report=0.7)])
    assert b["startup_s"] == 0.4 and b["walk_s"] == 0.7
    assert b["steps"][0] == {"step": "dns cdn", "endpoint": "https://r", "median_s": 0.5,
                             "outcome": "timeout"}
    assert all(s["outcome"] != "blocked" for s in b["steps"])  # never-run steps are no evidence
    assert "dns cdn (timeout) 0.50 s" in rc.breakdown_text(b)


def test_diagrun_from_report_reads_the_json_and_survives_garbage() -> None:
    rep = {"duration_s": 0.5, "facts": {"deadline_s": 15.0},
           "causes": [{"code": "net.refused"}, {"code": "net.unreachable"}],
           "steps": [{"name": "tcp", "endpoint": "https://r", "outcome": "problem",
                      "duration_s": 0.01}]}
    d = rc.DiagRun.from_report(1, 0.8, json.dumps(rep), "")
    assert d.top == "net.refused" and d.deadline_s == 15.0 and d.steps[0].outcome == "problem"
    bad = rc.DiagRun.from_report(3, 0.8, "not json", "boom")
    assert bad.top is None and bad.report_s is None and bad.error == "boom"
