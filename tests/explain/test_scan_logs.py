"""``scan`` over whole logs: grouping, sightings, formats, chunking, segments, engines, CLI."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from pulldoctor.explain import scan as scan_mod
from pulldoctor.explain import triggers
from pulldoctor.explain.scan import Scanner, scan_streams
from pulldoctor.explain.scan_files import scan

DNS = ('Nov 29 {t} node1 containerd[700]: time="2026-11-29T{t}Z" level=error msg="PullImage '
       '\\"nginx:1.25\\" failed" error="failed to pull and unpack image \\"docker.io/library/nginx:1.25\\": '
       'failed to resolve reference \\"docker.io/library/nginx:1.25\\": failed to do request: Head '
       '\\"https://registry-1.docker.io/v2/library/nginx/manifests/1.25\\": dial tcp: lookup '
       'registry-1.docker.io on 127.0.0.53:53: read udp 127.0.0.1:4{n}->127.0.0.53:53: i/o timeout"\n')
RATE = ('Nov 29 {t} node1 kubelet[812]: E1129 {t}.000000     812 kuberuntime_image.go:55] "Failed to pull '
        'image" err="rpc error: code = Unknown desc = toomanyrequests: You have reached your pull rate '
        'limit." image="redis:7"\n')
NOISE = ('Nov 29 {t} node1 kubelet[812]: I1129 {t}.000000     812 kuberuntime_image.go:53] "Pulling '
         'image" image="nginx:1.25"\n'
         'Nov 29 {t} node1 kubelet[812]: I1129 {t}.1     812 event.go:294] "Successfully pulled image '
         '\\"redis:7\\" in 1.2s"\n'
         'Nov 29 {t} node1 systemd[1]: Started cri-containerd-abc.scope.\n')


def journal(n: int = 30) -> str:
    out = []
    for i in range(n):
        t = f"09:{i // 60:02d}:{i % 60:02d}"
        out.append(NOISE.format(t=t))
        if i % 3 == 0:
            out.append(DNS.format(t=t, n=1000 + i))
        if i % 10 == 5:
            out.append(RATE.format(t=t))
    return "".join(out)


def groups(report_extra: dict[str, object]) -> dict[tuple[str, str], dict[str, object]]:
    gs = report_extra["groups"]
    assert isinstance(gs, list)
    return {(g["code"], g["image"]): g for g in gs}


def test_groups_counts_and_sightings(tmp_path: Path) -> None:
    log = tmp_path / "journal.log"
    log.write_text(journal())
    report = scan([str(log)])
    g = groups(report.extra)
    dns = g[("dns.udp_timeout", "nginx:1.25")]
    assert dns["count"] == 10
    assert dns["first_seen"] == "Nov 29 09:00:00"
    assert dns["last_seen"] == "Nov 29 09:00:27"
    assert g[("registry.rate_limited", "redis:7")]["count"] == 3
    assert report.extra["groups"][0]["code"] == "dns.udp_timeout"  # most frequent first
    assert [c.code for c in report.causes] == ["registry.rate_limited", "dns.udp_timeout"]  # by confidence
    assert dns["node"] == "node1" and dns["registry"] == "docker.io"
    assert dns["sources"] == ["containerd"]
    assert report.facts["failures"] == 13
    assert report.facts["lines"] == journal().count("\n")
    assert "i/o timeout" in str(dns["example"])


def test_line_numbers_when_there_are_no_timestamps() -> None:
    text = b"hello\nworld\nError response from daemon: manifest for x:1 not found: manifest unknown\nbye\n"
    report = scan_streams([("t", [text])])
    (g,) = report.extra["groups"]
    assert g["first_seen"] == "line 3" and g["first_line"] == 3 and g["count"] == 1


@pytest.mark.parametrize(("data", "lines"), [
    (b"", 0), (b"abc", 1), (b"abc\n", 1), (b"a\nb", 2), (b"a" * 70_000, 1), (b"a\n" + b"b" * 70_000, 2),
])
def test_line_count(data: bytes, lines: int) -> None:
    for chunk in (1, 1000, 10**6):
        parts = [data[i:i + chunk] for i in range(0, len(data), chunk)]
        assert scan_streams([("t", parts)]).facts["lines"] == lines, chunk


def test_nothing_found_is_a_note() -> None:
    report = scan_streams([("t", [b"all quiet\n" * 100])])
    assert report.causes == []
    assert report.notes == ["no pull failure was recognised in 100 lines"]


@pytest.mark.parametrize("chunk", [1, 7, 64, 1000, 10**6])
def test_result_does_not_depend_on_chunking(chunk: int) -> None:
    data = journal(12).encode()
    whole = scan_streams([("t", [data])])
    parts = scan_streams([("t", [data[i:i + chunk] for i in range(0, len(data), chunk)])])
    assert whole.extra["groups"] == parts.extra["groups"]
    assert whole.facts["lines"] == parts.facts["lines"]


def _comparable(report_extra: dict[str, object]) -> list[tuple[object, ...]]:
    gs = report_extra["groups"]
    assert isinstance(gs, list)
    return [(g["code"], g["image"], g["count"], g["first_seen"], g["last_seen"], g["example"])
            for g in gs]


@pytest.mark.parametrize("timestamped", [True, False])
def test_parallel_segments_equal_serial(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                        timestamped: bool) -> None:
    text = journal(200)
    if not timestamped:  # strip every prefix: positions must then be exact line numbers
        text = "\n".join(line.split(": ", 1)[1] for line in text.splitlines()) + "\n"
        text = text.replace('time="2026-11-29T', 'at="')
    log = tmp_path / "big.log"
    log.write_text(text)
    monkeypatch.setenv("PULLDOCTOR_SCAN_WORKERS", "1")
    serial = scan([str(log)])
    monkeypatch.setenv("PULLDOCTOR_SCAN_WORKERS", "2")
    monkeypatch.setattr(scan_mod, "SEGMENT", 4093)  # many segments, cut mid-line on purpose
    parallel = scan([str(log)])
    assert _comparable(parallel.extra) == _comparable(serial.extra)
    assert parallel.facts["failures"] == serial.facts["failures"] == 67 + 20
    assert parallel.facts["bytes"] == serial.facts["bytes"] == log.stat().st_size
    assert serial.facts["lines"] == text.count("\n")
    assert "lines" not in parallel.facts  # not counted: the segments skip newline counting
    first = parallel.extra["groups"][0]
    if timestamped:
        assert first["first_seen"].startswith("Nov 29")
    else:
        assert first["first_seen"] == f"line {first['first_line']}"
        n = first["first_line"]
        assert "i/o timeout" in text.splitlines()[n - 1]


def test_line_numbers_of_offsets(tmp_path: Path) -> None:
    from pulldoctor.explain.segments import line_numbers

    f = tmp_path / "f"
    f.write_bytes(b"ab\ncd\n\nef")
    assert line_numbers(str(f), {0, 2, 3, 6, 7, 8}) == {0: 1, 2: 1, 3: 2, 6: 3, 7: 4, 8: 4}
    assert line_numbers(str(f), set()) == {}


def test_engines_find_the_same_positions() -> None:
    data = (journal(40) + "x" * 100 + "lookup lookup manifestmanifest").encode()
    hs = triggers._hyperscan_engine()
    if hs is None:
        pytest.skip("hyperscan is not installed; only the portable engine runs here")
    for lo, hi in ((0, len(data)), (17, len(data) - 5), (100, 3000), (0, 0)):
        assert sorted(hs(data, lo, hi)) == sorted(triggers._python_positions(data, lo, hi))


def test_every_trigger_word_is_found_by_the_engine_in_use() -> None:
    name, find = triggers.engine()
    for word in triggers.TRIGGERS:
        buf = b"noise\n" + word + b"\nnoise\n"
        assert find(buf, 0, len(buf)) == [6], (name, word)
        assert find(buf, 7, len(buf)) == [], (name, word)


def test_a_huge_line_without_newline_is_not_buffered() -> None:
    s = Scanner()
    junk = b"y" * (1024 * 1024)
    for _ in range(10):
        s.feed(junk)
        assert len(s._carry) <= triggers.MAX_LINE
    s.feed(b"x509: certificate signed by unknown authority" + b"z" * 100)
    report = s.report(["t"])
    assert report.causes[0].code == "tls.unknown_authority"


def test_kubectl_events_json(tmp_path: Path) -> None:
    events = {"apiVersion": "v1", "kind": "List", "items": [
        {"kind": "Event", "reason": "Failed", "type": "Warning", "count": 4,
         "lastTimestamp": "2026-11-29T09:00:00Z",
         "message": 'Failed to pull image "ghcr.io/acme/api:2.3.1": failed to pull and unpack image '
                    '"ghcr.io/acme/api:2.3.1": failed to resolve reference "ghcr.io/acme/api:2.3.1": '
                    'ghcr.io/acme/api:2.3.1: not found'},
        {"kind": "Event", "reason": "BackOff", "type": "Normal",
         "message": 'Back-off pulling image "ghcr.io/acme/api:2.3.1"'},
        {"kind": "Event", "lastTimestamp": "2026-11-29T09:07:00Z", "reason": "Failed", "type": "Warning",
         "message": 'Failed to pull image "nginx:1.25": rpc error: code = Unknown desc = '
                    "failed to pull and unpack image \"docker.io/library/nginx:1.25\": "
                    "failed to copy: httpReadSeeker: failed open: failed to do request: Get "
                    "\"https://production.cloudflare.docker.com/x\": net/http: TLS handshake timeout"},
    ]}
    for name, dump in (("pretty.json", json.dumps(events, indent=4)),
                       ("compact.json", json.dumps(events))):
        (tmp_path / name).write_text(dump)
        g = groups(scan([str(tmp_path / name)]).extra)
        assert g[("registry.not_found", "ghcr.io/acme/api:2.3.1")]["count"] == 4, name  # "count": 4
        assert g[("net.tls_handshake_timeout", "nginx:1.25")]["count"] == 1, name
    compact = groups(scan([str(tmp_path / "compact.json")]).extra)
    assert compact[("registry.not_found", "ghcr.io/acme/api:2.3.1")]["first_seen"] == "2026-11-29T09:00:00Z"
    assert compact[("net.tls_handshake_timeout", "nginx:1.25")]["first_seen"] == "2026-11-29T09:07:00Z"


def test_missing_file_is_a_usage_error() -> None:
    from pulldoctor.errors import UsageError

    with pytest.raises(UsageError, match="cannot read"):
        scan(["/nonexistent/pulldoctor-test.log"])


def run_cli(*args: str, stdin: bytes | None = None) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run([sys.executable, "-m", "pulldoctor", "scan", *args], input=stdin,
                          capture_output=True, timeout=60, check=False)


def test_cli_exit_codes_and_json(tmp_path: Path) -> None:
    log = tmp_path / "j.log"
    log.write_text(journal())
    p = run_cli(str(log), "--json")
    assert p.returncode == 1, p.stderr
    doc = json.loads(p.stdout)
    assert doc["command"] == "scan" and doc["groups"][0]["count"] == 10
    quiet = tmp_path / "q.log"
    quiet.write_text("nothing here\n")
    assert run_cli(str(quiet)).returncode == 0
    p2 = run_cli("/nonexistent/x.log")
    assert p2.returncode == 2 and b"Traceback" not in p2.stderr
    assert run_cli().returncode == 2


def test_cli_stdin() -> None:
    p = run_cli("-", "--json", stdin=journal().encode())
    assert p.returncode == 1
    assert json.loads(p.stdout)["facts"]["failures"] == 13


def test_shape_keeps_every_corpus_verdict() -> None:
    """scan caches the rule decision per message shape; blanking addresses, times, ids and long
    numbers must never change the top cause of any corpus text."""
    from pulldoctor.explain import rules
    from pulldoctor.explain.normalize import normalize

    corpus = Path(__file__).resolve().parents[1] / "corpus"
    texts = [json.loads(line)["text"] for f in sorted(corpus.glob("*.jsonl"))
             for line in f.read_text().splitlines() if line.strip()]
    for text in texts:
        norm = normalize(text)
        real = rules.rank(norm)
        blanked = rules.rank(scan_mod.shape(norm))
        assert (real[0][0] if real else None) == (blanked[0][0] if blanked else None), text
    assert scan_mod.shape("read udp 10.0.0.5:41234->10.0.0.2:53: i/o timeout at 09:00:01") == (
        "read udp 10.0.0.0:0->10.0.0.0:53: i/o timeout at 0")
    assert scan_mod.shape("dial tcp 52.1.2.3:443 / 127.0.0.2:80 / 0.0.0.0:443") == (
        "dial tcp 1.0.0.0:443 / 127.0.0.1:80 / 0.0.0.0:443")


def test_cli_output_carries_no_secret(tmp_path: Path) -> None:
    log = tmp_path / "s.log"
    log.write_text('Nov 29 09:00:00 n1 dockerd[1]: level=error msg="Handler for POST /images/create '
                   'returned error: Get \\"https://bob:Hunter2Secret@r.example.com/v2/x/manifests/1'
                   '\\": unauthorized: authentication required"\n')
    for fmt in ("json", "text"):
        p = run_cli(str(log), "--format", fmt)
        assert p.returncode == 1, p.stderr
        assert b"Hunter2Secret" not in p.stdout + p.stderr


def test_no_trigger_contains_another() -> None:
    """Each position is one word's: a word inside another would be found twice."""
    words = triggers.TRIGGERS
    assert len(set(words)) == len(words)
    assert not [(a, b) for a in words for b in words if a != b and a in b]


def test_invalid_utf8_in_a_log_and_its_name(tmp_path: Path) -> None:
    name = os.fsencode(str(tmp_path)) + b"/node\xff.log"
    with open(name, "wb") as f:
        f.write(b'Nov 29 09:00:00 n1 kubelet[1]: Failed to pull image "a\xff:1": toomanyrequests: x\n')
    p = subprocess.run([sys.executable, "-m", "pulldoctor", "scan", "--json", name],
                       capture_output=True, timeout=60, check=False)
    assert p.returncode == 1, p.stderr
    doc = json.loads(p.stdout.decode("utf-8"))
    assert doc["groups"][0]["code"] == "registry.rate_limited"
    assert doc["groups"][0]["image"] == "a\ufffd:1" and "\ufffd" in doc["subject"]


def test_scan_and_segments_do_not_import_each_other() -> None:
    """The file driver (scan_files) imports both; scan.py must not import segments back."""
    import ast

    src = Path(scan_mod.__file__).read_text(encoding="utf-8")
    imported = {n.module for n in ast.walk(ast.parse(src)) if isinstance(n, ast.ImportFrom)}
    imported |= {a.name for n in ast.walk(ast.parse(src)) if isinstance(n, ast.Import) for a in n.names}
    assert not {m for m in imported if m and "segments" in m}
