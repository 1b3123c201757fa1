"""``pulldoctor fleet merge``: correlation (pure), the CLI, its exit codes and its bad-input errors."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest

from fakes.node_reports import node_report
from pulldoctor.causes import Code
from pulldoctor.fleet import FleetInputError, correlate, read_summaries, summarise
from pulldoctor.fleet.correlate import compare
from pulldoctor.report.schema import load_schema


def _write(tmp: Path, docs: dict[str, dict[str, object]]) -> Path:
    for name, doc in docs.items():
        (tmp / f"{name}.json").write_text(json.dumps(doc))
    return tmp


def _cli(*args: str, stdin: bytes | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "pulldoctor", "fleet", "merge", *args],
                          input=stdin.decode() if stdin else None, capture_output=True, text=True,
                          timeout=60)


def _dns_fleet() -> list[dict[str, object]]:
    bad = {"resolver": "198.18.4.3", "subnet": "198.18.64.0/24"}
    return [node_report("node-a", code=Code.DNS_UDP_TIMEOUT, attrs=bad),
            node_report("node-b", code=Code.DNS_UDP_TIMEOUT,
                        attrs={**bad, "subnet": "198.18.65.0/24"}),
            node_report("node-c", attrs={"subnet": "198.18.66.0/24"}),
            node_report("node-d", attrs={"subnet": "198.18.67.0/24"})]


def test_shared_attribute_of_the_failing_nodes_is_named() -> None:
    rep = correlate(summarise(d, f"r{i}") for i, d in enumerate(_dns_fleet()))
    assert rep.facts["nodes_total"] == 4
    assert rep.facts["nodes_failing"] == 2 and rep.facts["nodes_healthy"] == 2
    (cause,) = rep.causes
    assert cause.code == Code.DNS_UDP_TIMEOUT and cause.nodes == ["node-a", "node-b"]
    assert cause.scope == "node-local"
    text = "\n".join(cause.evidence)
    assert "share resolver = 198.18.4.3" in text and "198.18.4.2" in text
    assert "do not share: subnet" in text
    assert "runtime=containerd" in text  # shared with healthy nodes: not the difference
    assert cause.distinguish == ["resolver: 198.18.4.3"]
    jsonschema.validate(rep.to_dict(), load_schema())


def test_compare_says_nothing_distinguishes_when_healthy_nodes_share_everything() -> None:
    same = [summarise(node_report(n, code=Code.NET_TCP_TIMEOUT), n) for n in ("a", "b")]
    ok = [summarise(node_report("c"), "c")]
    comp = compare(same, ok)
    assert comp.distinguishing == [] and ("resolver", "198.18.4.2") in comp.common


def test_fleet_wide_burst_behind_one_nat_address() -> None:
    docs = [node_report(f"runner-{i}", code=Code.REGISTRY_RATE_LIMITED, step="manifest",
                        at=f"2026-11-29T10:00:{10 + i * 9:02d}Z", registry="docker.io",
                        egress="203.0.113.7") for i in range(5)]
    docs += [node_report("node-x", code=Code.DNS_NXDOMAIN, attrs={"resolver": "198.18.4.9"}),
             node_report("node-y")]
    rep = correlate(summarise(d, str(i)) for i, d in enumerate(docs))
    first, second = rep.causes
    assert first.code == Code.REGISTRY_RATE_LIMITED and first.scope == "fleet-wide"
    assert len(first.nodes) == 5
    assert any("one NAT/egress address" in e and "203.0.113.7" in e for e in first.evidence)
    assert second.code == Code.DNS_NXDOMAIN and second.scope == "node-local"


def test_same_code_spread_over_hours_is_not_a_burst() -> None:
    docs = [node_report(f"n{i}", code=Code.REGISTRY_RATE_LIMITED, step="manifest",
                        at=f"2026-11-29T{10 + i:02d}:00:00Z") for i in range(4)]
    rep = correlate(summarise(d, str(i)) for i, d in enumerate(docs))
    assert rep.causes[0].scope == "node-local"


def test_one_node_with_diagnose_and_host_reports_counts_once() -> None:
    docs = [node_report("n1", code=Code.DNS_NXDOMAIN),
            node_report("n1", command="host", attrs={"zone": "z1"}), node_report("n2")]
    rep = correlate(summarise(d, str(i)) for i, d in enumerate(docs))
    assert rep.facts["nodes_total"] == 2 and rep.facts["nodes_failing"] == 1


def test_cli_exit_codes_and_formats(tmp_path: Path) -> None:
    _write(tmp_path, {f"n{i}": d for i, d in enumerate(_dns_fleet())})
    r = _cli(str(tmp_path), "--json")
    assert r.returncode == 1, r.stderr
    doc = json.loads(r.stdout)
    assert doc["command"] == "fleet" and doc["causes"][0]["nodes"] == ["node-a", "node-b"]
    jsonschema.validate(doc, load_schema())
    md = _cli(str(tmp_path), "--format", "markdown")
    assert "198.18.4.3" in md.stdout
    healthy = tmp_path / "healthy"
    healthy.mkdir()
    _write(healthy, {"x": node_report("x"), "y": node_report("y")})
    assert _cli(str(healthy)).returncode == 0


def test_stdin_json_lines_and_arrays() -> None:
    docs = _dns_fleet()
    lines = "\n".join(json.dumps(d) for d in docs).encode()
    assert _cli("-", "--json", stdin=lines).returncode == 1
    nodes = [s.node for s in read_summaries(["-"], io.BytesIO(json.dumps(docs).encode()))]
    assert nodes == ["node-a", "node-b", "node-c", "node-d"]


@pytest.mark.parametrize(("content", "expect"), [
    ('{"hello": "world"}', "not a pulldoctor report"),
    ('{"schema_version": "1.0", "command": "diagnose", "causes": [], "fa', "truncated"),
    ("", "empty file"),
    (b"\x89PNG\r\n\x1a\n\x00\x00", "not UTF-8"),
    ('{"schema_version": "1.0", "command": "explain", "causes": [], "facts": {}}', "'explain' report"),
    ('{"schema_version": "1.0", "command": "fleet", "causes": [], "facts": {}}', "'fleet' report"),
    ("[1, 2]", "not a pulldoctor report"),
])
def test_bad_input_is_one_line_and_exit_2(tmp_path: Path, content: str | bytes, expect: str) -> None:
    f = tmp_path / "bad.json"
    f.write_bytes(content if isinstance(content, bytes) else content.encode())
    r = _cli(str(f))
    assert r.returncode == 2, (r.stdout, r.stderr)
    assert expect in r.stderr and r.stderr.count("\n") == 1 and "Traceback" not in r.stderr


def test_directory_of_junk_and_missing_paths(tmp_path: Path) -> None:
    junk = tmp_path / "junk"
    junk.mkdir()
    (junk / "notes.txt").write_text("hello")
    r = _cli(str(junk))
    assert r.returncode == 2 and "no *.json report files" in r.stderr
    (junk / "a.json").write_text("<html>")
    r = _cli(str(junk))
    assert r.returncode == 2 and "a.json: not valid JSON" in r.stderr
    r = _cli(str(tmp_path / "nope"))
    assert r.returncode == 2 and "no such file" in r.stderr


def test_reading_rejects_unknown_cause_codes() -> None:
    doc = node_report("n", code=Code.DNS_NXDOMAIN)
    doc["causes"][0]["code"] = "dns.made_up"  # type: ignore[index]
    with pytest.raises(FleetInputError, match="unknown cause code"):
        list(read_summaries(["-"], io.BytesIO(json.dumps(doc).encode())))
