"""scan reads event documents as documents and journals with their node and unit.

Inputs are real-shaped; tests/fixtures/scan/README.md says where each comes from.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from pulldoctor.explain.scan import scan_streams
from pulldoctor.explain.scan_files import scan
from pulldoctor.explain.scan_formats import Format, sniff

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "scan"
KB8OR = FIXTURES / "events-kb8or-68.yaml"
NODE = "ip-10-50-1-50.eu-west-1.compute.internal"


def _one_group(report_extra: dict[str, object]) -> dict[str, object]:
    groups = report_extra["groups"]
    assert isinstance(groups, list) and len(groups) == 1, groups
    g = groups[0]
    assert isinstance(g, dict)
    return g


def _check_kb8or(g: dict[str, object]) -> None:
    # the message is folded over four YAML lines: read as one, it is a missing tag
    assert g["code"] == "registry.not_found"
    assert g["count"] == 61  # the event's count, not one line
    assert g["image"] == "quay.io/ukhomeofficedigital/s3registry:v2.0.0-bob"
    assert g["registry"] == "quay.io"
    assert g["node"] == NODE
    assert g["pods"] == ["registry-v1-j6noi"] and g["namespaces"] == ["srrs-ci"]
    assert str(g["first_seen"]).startswith("2016-01-29T11:44:55")
    assert str(g["last_seen"]).startswith("2016-01-29T11:54:45")
    assert "Tag v2.0.0-bob not found in repository" in str(g["sample"])


def test_kubectl_events_yaml_is_read_as_a_document() -> None:
    assert sniff(KB8OR.read_bytes()[:4096]) == Format.EVENTS_YAML
    _check_kb8or(_one_group(scan([str(KB8OR)]).extra))


@pytest.mark.parametrize("indent", [4, None])
def test_kubectl_events_json_is_read_as_a_document(tmp_path: Path, indent: int | None) -> None:
    doc = yaml.safe_load(KB8OR.read_text())
    for item in doc["items"]:  # kubectl prints RFC 3339 strings in JSON
        for key in ("firstTimestamp", "lastTimestamp"):
            item[key] = item[key].isoformat().replace("+00:00", "Z")
        item["metadata"]["deletionTimestamp"] = str(item["metadata"]["deletionTimestamp"])
    path = tmp_path / "events.json"
    path.write_text(json.dumps(doc, indent=indent))
    assert sniff(path.read_bytes()[:4096]) == Format.EVENTS_JSON
    _check_kb8or(_one_group(scan([str(path)]).extra))
    # the same document in 7-byte chunks (events straddle every chunk boundary)
    data = path.read_bytes()
    report = scan_streams([("stdin", [data[i:i + 7] for i in range(0, len(data), 7)])])
    _check_kb8or(_one_group(report.extra))


def test_events_with_series_count_and_event_time(tmp_path: Path) -> None:
    """events.k8s.io-era core/v1 events: series.count and series.lastObservedTime win."""
    ev = {"apiVersion": "v1", "kind": "Event", "type": "Warning", "reason": "Failed",
          "eventTime": "2026-11-29T09:00:00.000000Z", "reportingComponent": "kubelet",
          "reportingInstance": "node-3", "count": None,
          "series": {"count": 17, "lastObservedTime": "2026-11-29T09:30:00.000000Z"},
          "involvedObject": {"kind": "Pod", "name": "api-0", "namespace": "prod"},
          "message": 'Failed to pull image "registry.example.com/api-server:v2.4.0": failed to '
                     'resolve reference "registry.example.com/api-server:v2.4.0": unexpected '
                     "status code 401 Unauthorized"}
    path = tmp_path / "watch.json"
    path.write_text(json.dumps(ev) + "\n" + json.dumps({**ev, "series": {"count": 3}}) + "\n")
    g = _one_group(scan([str(path)]).extra)
    assert g["code"] == "registry.unauthorized" and g["count"] == 20 and g["node"] == "node-3"
    assert g["first_seen"] == "2026-11-29T09:00:00.000000Z"
    assert g["last_seen"] == "2026-11-29T09:30:00.000000Z"


TABLE_ROWS = [
    ("production", "2m", "Normal", "Scheduled", "pod/api-server-7d9b4c6f8-xk2p9",
     "Successfully assigned production/api-server-7d9b4c6f8-xk2p9 to node-3"),
    ("production", "2m", "Normal", "Pulling", "pod/api-server-7d9b4c6f8-xk2p9",
     'Pulling image "registry.example.com/api-server:v2.4.0"'),
    ("production", "90s (x3 over 2m)", "Warning", "Failed", "pod/api-server-7d9b4c6f8-xk2p9",
     'Failed to pull image "registry.example.com/api-server:v2.4.0": rpc error: code = Unknown '
     'desc = failed to pull and unpack image: failed to resolve reference '
     '"registry.example.com/api-server:v2.4.0": unexpected status code 401 Unauthorized'),
    ("production", "90s", "Warning", "Failed", "pod/api-server-7d9b4c6f8-xk2p9", "Error: ErrImagePull"),
    ("production", "45s (x4 over 2m)", "Warning", "BackOff", "pod/api-server-7d9b4c6f8-xk2p9",
     'Back-off pulling image "registry.example.com/api-server:v2.4.0"'),
    ("production", "45s", "Warning", "Failed", "pod/api-server-7d9b4c6f8-xk2p9",
     "Error: ImagePullBackOff"),
]


def _tabwriter(rows: list[tuple[str, ...]]) -> str:
    """Columns as kubectl's tabwriter aligns them (min width 6, padding 3)."""
    widths = [max(6, *(len(r[i]) for r in rows)) + 3 for i in range(len(rows[0]) - 1)]
    return "".join("".join(c.ljust(w) for c, w in zip(r, widths, strict=False)) + r[-1] + "\n"
                   for r in rows)


def test_kubectl_get_events_table() -> None:
    header = ("NAMESPACE", "LAST SEEN", "TYPE", "REASON", "OBJECT", "MESSAGE")
    text = _tabwriter([header, *TABLE_ROWS])
    assert sniff(text.encode()) == Format.EVENTS_TABLE
    report = scan_streams([("events", [text.encode()])])
    g = _one_group(report.extra)  # back-off and "Error:" rows fold into the named cause
    assert g["code"] == "registry.unauthorized"
    assert g["count"] == 3  # "(x3 over 2m)"
    assert g["first_seen"] == "2m ago" and g["last_seen"] == "90s ago"
    assert g["pods"] == ["api-server-7d9b4c6f8-xk2p9"] and g["namespaces"] == ["production"]
    assert g["registry"] == "registry.example.com"


JOURNAL_MSG = ('PullImage "nginx:1.25" failed" error="failed to pull and unpack image '
               '"docker.io/library/nginx:1.25": failed to resolve reference "docker.io/library/nginx:1.25": '
               'failed to do request: Head "https://registry-1.docker.io/v2/library/nginx/manifests/1.25": '
               "dial tcp: lookup registry-1.docker.io on 127.0.0.53:53: server misbehaving")


def test_journalctl_json_gives_node_unit_and_time() -> None:
    lines = []
    for i, host in enumerate(("node-a", "node-a", "node-b")):
        lines.append(json.dumps({
            "__REALTIME_TIMESTAMP": str(1_796_000_000_000_000 + i * 1_000_000), "_HOSTNAME": host,
            "_SYSTEMD_UNIT": "containerd.service", "SYSLOG_IDENTIFIER": "containerd",
            "MESSAGE": 'time="2026-11-29T09:00:00Z" level=error msg="' + JOURNAL_MSG + '"'}))
        lines.append(json.dumps({"__REALTIME_TIMESTAMP": "1796000000000001", "_HOSTNAME": host,
                                 "_SYSTEMD_UNIT": "kubelet.service", "MESSAGE": "Pulling image"}))
    # journald stores a message that is not UTF-8 as a byte array
    bad = ('failed to resolve reference "docker.io/library/nginx:1.25": x509: certificate signed '
           'by unknown authority \xff').encode("latin-1")
    lines.append(json.dumps({"__REALTIME_TIMESTAMP": "1796000009000000", "_HOSTNAME": "node-b",
                             "SYSLOG_IDENTIFIER": "dockerd", "MESSAGE": list(bad)}))
    data = ("\n".join(lines) + "\n").encode()
    assert sniff(data) == Format.JOURNAL_JSON
    groups = scan_streams([("journal", [data])]).extra["groups"]
    by = {(g["code"], g["node"]): g for g in groups}
    a = by[("dns.servfail", "node-a")]
    assert a["count"] == 2 and a["sources"] == ["containerd"]
    assert a["first_seen"].endswith("Z") and a["first_seen"] < a["last_seen"]
    assert by[("dns.servfail", "node-b")]["count"] == 1
    assert by[("tls.unknown_authority", "node-b")]["sources"] == ["dockerd"]


def test_journalctl_short_iso_gives_node_and_unit() -> None:
    text = "".join(f"2026-11-29T09:0{i}:00+0000 worker-{i % 2} crio[901]: {JOURNAL_MSG}\n"
                   for i in range(4))
    groups = scan_streams([("j", [text.encode()])]).extra["groups"]
    assert sorted((g["node"], g["count"], g["sources"][0]) for g in groups) == [
        ("worker-0", 2, "crio"), ("worker-1", 2, "crio")]
