"""Pure tests of how lab client output is cleaned and turned into corpus lines (no root, no lab)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from pulldoctor.lab.capture import (
    CaptureRun,
    corpus_lines,
    fixture_doc,
    merge_corpus,
    short_version,
    source_for,
    unique_texts,
    write_outputs,
)
from pulldoctor.lab.clients import ClientResult, clean_output, error_text, pull_log_lines

CTR_PROGRESS = (
    "reg:5000/x:1: resolving      |\x1b[32m\x1b[0m--------------------------------------| \r\n"
    "elapsed: 0.1 s                total:   0.0 B (0.0 B/s)\n"
    "reg:5000/x:1: resolving      |\x1b[32m+++\x1b[0m-----------------------------------| \r\n"
    "elapsed: 5.1 s                total:   0.0 B (0.0 B/s)\n"
)


def test_clean_output_collapses_ctr_progress_redraws_to_last_state() -> None:
    out = clean_output(CTR_PROGRESS)
    assert "\x1b" not in out and "\r" not in out
    assert out.count("resolving") == 1 and "+++" in out
    assert out.count("elapsed:") == 1 and "5.1 s" in out


def test_clean_output_keeps_distinct_lines_in_order() -> None:
    assert clean_output("a\n\nb\r\nc\n") == "a\nb\nc"


def test_error_text_keeps_only_logrus_fatal_lines() -> None:
    err = ('time="t" level=warning msg="Failed to decode the keys [\\"storage\\"]"\n'
           'time="t" level=fatal msg="initializing source docker://r/x:1: pinging"\n')
    assert error_text(err) == 'time="t" level=fatal msg="initializing source docker://r/x:1: pinging"'


def test_error_text_plain_lines_kept_and_logrus_noise_dropped() -> None:
    err = ('time="t" level=info msg="noise"\n'
           "Error response from daemon: Get \"https://r/v2/\": dial tcp: lookup r: no such host\n")
    assert error_text(err).startswith("Error response from daemon:")
    assert "noise" not in error_text(err)


def test_short_version_of_each_client() -> None:
    assert short_version("Docker version 20.10.24+dfsg1, build 5d6db84") == "20.10.24+dfsg1"
    assert short_version("skopeo version 1.9.3") == "1.9.3"
    assert short_version("containerd github.com/containerd/containerd 1.6.20~ds1 1.6.20~ds1-1; "
                         "ctr github.com/containerd/containerd 1.6.20~ds1") == "1.6.20~ds1"
    assert short_version("") == "unknown"


def _run(scenario: str, client: str, code: str | None, rc: int | None, err: str) -> CaptureRun:
    res = ClientResult(client=client, version="skopeo version 1.9.3", argv=("skopeo",), rc=rc,
                       output_text=err, duration_s=1.0, error_text=err)
    return CaptureRun(scenario, code, client, "registry.lab.test:5000/lab/hello:latest", res)


def test_corpus_lines_only_from_failing_faulty_runs() -> None:
    runs = [
        _run("healthy", "skopeo", None, 0, ""),
        _run("dns-nx", "skopeo", "dns.nxdomain", 1, "lookup x: no such host"),
        _run("dns-sf", "skopeo", "dns.servfail", 0, ""),  # fault did not bite: no corpus line
        CaptureRun("broken", "net.mtu", "skopeo", "img", None, lab_error="LabError: x"),
    ]
    lines = corpus_lines(runs)
    assert lines == [{
        "text": "lookup x: no such host", "runtime": "skopeo", "label": "dns.nxdomain",
        "source": "lab capture: pulldoctor lab capture --scenario dns-nx (skopeo 1.9.3)",
        "confidence": "lab",
    }]


def test_merge_corpus_refreshes_only_recaptured_pairs() -> None:
    old = [
        {"text": "old a", "runtime": "skopeo", "label": "x",
         "source": source_for("a", "skopeo", "1.0.0")},
        {"text": "old b", "runtime": "docker", "label": "y",
         "source": source_for("b", "docker", "20.10.1")},
    ]
    new = [{"text": "new a", "runtime": "skopeo", "label": "x",
            "source": source_for("a", "skopeo", "1.9.3"), "confidence": "lab"}]
    merged = merge_corpus(old, new, {("a", "skopeo")})
    assert [ln["text"] for ln in merged] == ["new a", "old b"]
    # a pair that ran but no longer fails loses its line
    assert [ln["text"] for ln in merge_corpus(old, [], {("b", "docker")})] == ["old a"]


def test_fixture_doc_lists_versions_and_every_run() -> None:
    runs = [_run("healthy", "skopeo", None, 0, ""), _run("n", "skopeo", "dns.nxdomain", 1, "e")]
    doc = fixture_doc(runs, command="pulldoctor lab capture", wall_s=3.0,
                      started=datetime(2026, 1, 1, tzinfo=UTC))
    assert doc["versions"] == {"skopeo": "skopeo version 1.9.3"}
    assert [r["scenario"] for r in doc["runs"]] == ["healthy", "n"]
    assert doc["runs"][1]["result"]["rc"] == 1


def test_error_text_keeps_ctr_final_line_after_logrus_error() -> None:
    err = ('time="t" level=error msg="failed to decode hosts.toml" error="failed to parse TOML"\n'
           'time="t" level=info msg="trying next host" error="x509"\n'
           'ctr: failed to resolve reference "r/x:1": x509: certificate signed by unknown authority\n')
    assert error_text(err).split("\n") == [
        'time="t" level=error msg="failed to decode hosts.toml" error="failed to parse TOML"',
        'ctr: failed to resolve reference "r/x:1": x509: certificate signed by unknown authority',
    ]


def test_pull_log_lines_keep_the_pull_story_only() -> None:
    log = ('time="t" level=info msg="[core] Channel Connectivity change to READY" module=grpc\n'
           'time="t" level=info msg="Download failed, retrying (1/5): dial tcp: lookup cdn"\n'
           'time="t" level=warning msg="Your kernel does not support cgroup blkio weight"\n')
    assert pull_log_lines(log) == 'time="t" level=info msg="Download failed, retrying (1/5): dial tcp: lookup cdn"'


def test_unique_texts_drops_texts_already_in_the_corpus() -> None:
    lines = [{"text": "no matching  manifest"}, {"text": "a"}, {"text": "a "}]
    assert unique_texts(lines, {"no matching manifest"}) == [{"text": "a"}]


def test_write_outputs_partial_rerecord_keeps_other_runs(tmp_path: Path) -> None:
    fixture, corpus = tmp_path / "lab_capture.json", tmp_path / "corpus" / "lab.jsonl"
    t = datetime(2026, 1, 1, tzinfo=UTC)
    full = [_run("a", "skopeo", "dns.nxdomain", 1, "text a"),
            _run("b", "skopeo", "dns.servfail", 1, "text b")]
    write_outputs(full, fixture=fixture, corpus=corpus, command="full", started=t, wall_s=9.0)
    again = [_run("b", "skopeo", "dns.servfail", 1, "text b2")]
    write_outputs(again, fixture=fixture, corpus=corpus, command="part", started=t, wall_s=1.0)
    doc = json.loads(fixture.read_text())
    assert doc["command"] == "full" and doc["refreshed"][0]["command"] == "part"
    assert [r["result"]["error_text"] for r in doc["runs"]] == ["text a", "text b2"]
    assert [json.loads(x)["text"] for x in corpus.read_text().splitlines()] == ["text a", "text b2"]


@pytest.mark.parametrize(("argv", "message"), [
    (["lab", "capture", "--clients", "nope"], "unknown client(s) nope"),
    (["lab", "capture", "--scenario", "nope", "--clients", "skopeo"], "unknown scenario(s) nope"),
])
def test_capture_bad_input_is_one_line_usage_error(
        argv: list[str], message: str, capsys: pytest.CaptureFixture[str]) -> None:
    from pulldoctor.cli import main

    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and "Traceback" not in err
    # not root: the root check answers first, with the same kind of one-line error
    assert message in err or "needs root" in err


def test_demo_without_root_is_one_line_usage_error() -> None:
    import os
    import shutil
    import subprocess
    import sys

    if os.geteuid() != 0 or shutil.which("setpriv") is None:
        pytest.skip("needs root and setpriv to run pulldoctor as an unprivileged user")
    nobody = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", sys.executable]
    if subprocess.run([*nobody, "-c", "import pulldoctor.cli"], capture_output=True,
                      timeout=60).returncode != 0:
        pytest.skip("this checkout is not readable by an unprivileged user")
    r = subprocess.run([*nobody, "-m", "pulldoctor", "demo"], capture_output=True, text=True,
                       timeout=60)
    assert r.returncode == 2
    assert r.stderr.strip() == ("pulldoctor: error: pulldoctor demo needs root "
                                "(it builds a lab of network namespaces)")


def test_side_by_side_wraps_both_columns() -> None:
    from pulldoctor.cli.demo_cmd import side_by_side

    rows = side_by_side(("left", ["a " * 30]), ("right", ["b"]), width=41)
    assert rows[0].startswith("left") and "| right" in rows[0]
    assert all(len(r) <= 41 for r in rows)
    assert rows[2].endswith("| b") and rows[3].strip().startswith("a")


def test_write_outputs_full_capture_replaces_everything(tmp_path: Path) -> None:
    fixture, corpus = tmp_path / "lab_capture.json", tmp_path / "lab.jsonl"
    t = datetime(2026, 1, 1, tzinfo=UTC)
    write_outputs([_run("gone", "skopeo", "dns.nxdomain", 1, "old")], fixture=fixture,
                  corpus=corpus, command="old", started=t, wall_s=1.0)
    write_outputs([_run("b", "skopeo", "dns.servfail", 1, "new")], fixture=fixture,
                  corpus=corpus, command="full", started=t, wall_s=2.0, full=True)
    doc = json.loads(fixture.read_text())
    assert doc["command"] == "full" and "refreshed" not in doc
    assert [r["scenario"] for r in doc["runs"]] == ["b"]
    assert [json.loads(x)["text"] for x in corpus.read_text().splitlines()] == ["new"]


def test_unique_texts_drops_near_duplicates_by_the_corpus_key() -> None:
    from pathlib import Path

    from pulldoctor.lab.capture import corpus_key

    key = corpus_key(Path(__file__).resolve().parents[1] / "corpus" / "lab.jsonl")
    lines = [{"text": "dial tcp: lookup cdn.lab.test on 198.18.4.2:53: read udp "
                      "198.18.1.2:41070->198.18.4.2:53: i/o timeout"},
             {"text": "dial tcp: lookup production.cloudflare.docker.com on 198.18.4.2:53: read "
                      "udp 198.18.1.2:5555->198.18.4.2:53: i/o timeout"},
             {"text": "dial tcp 198.18.3.2:443: connect: connection refused"}]
    assert unique_texts(lines, set(), key) == [lines[0], lines[2]]
    assert unique_texts(lines, set()) == lines  # whitespace only without the corpus key
