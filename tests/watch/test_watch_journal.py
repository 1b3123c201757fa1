"""The journal source: real ``journalctl -o json`` output shapes, and a real journald followed.

The pure tests read ``tests/fixtures/journalctl_json.json``, recorded from a real
systemd-journald 252 by ``journald_harness.py record`` (see its ``command`` field to re-record).
The live test runs journald in a private mount namespace with a writer that journald files under
docker.service, and ``pulldoctor watch --journal`` over it, killed with SIGKILL mid-stream.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from pulldoctor.causes import Code
from pulldoctor.watch.journal import (
    JournalFormatError,
    cursor_of,
    cursor_time,
    journal_decoder,
    journalctl_argv,
    parse_entry,
)
from pulldoctor.watch.recognise import Recogniser

FIXTURE = json.loads((Path(__file__).parents[1] / "fixtures/journalctl_json.json").read_text())
LAB = json.loads((Path(__file__).parents[1] / "fixtures/lab_capture.json").read_text())


def test_unit_entries_parse_with_unit_cursor_and_time() -> None:
    entries = [parse_entry(line) for line in FIXTURE["unit"]]
    assert len(entries) == 19
    assert {e.unit for e in entries} == {"docker.service"}
    assert all(e.identifier == "dockerd" for e in entries)
    assert all(e.cursor.startswith("s=") and e.realtime for e in entries)
    assert "level=" in entries[0].message


def test_non_utf8_messages_come_as_byte_arrays_and_are_decoded() -> None:
    binary = next(json.loads(x) for x in FIXTURE["others"] if isinstance(json.loads(x)["MESSAGE"], list)
                  and isinstance(json.loads(x)["MESSAGE"][0], int))
    e = parse_entry(json.dumps(binary))
    assert "Failed to pull image" in e.message and "\ufffd" in e.message


def test_repeated_fields_and_long_fields() -> None:
    shapes = [json.loads(x)["MESSAGE"] for x in FIXTURE["others"]]
    assert ["first", "second"] in shapes
    assert None in shapes  # > 4096 bytes without --all: printed as null
    assert parse_entry(FIXTURE["others"][shapes.index(None)]).message == ""
    long = [parse_entry(x).message for x in FIXTURE["others_all"]]
    assert "L" * 5000 in long  # which is why watch passes --all
    assert parse_entry(FIXTURE["others"][shapes.index(["first", "second"])]).message == \
        "first\nsecond"


def test_garbage_is_a_format_error() -> None:
    for bad in (b"", b"{", b"[1,2]", b'{"MESSAGE":"no cursor"}', b"\xff\xfe"):
        with pytest.raises(JournalFormatError):
            parse_entry(bad)


def test_cursor_of_reads_the_last_line_cheaply() -> None:
    line = FIXTURE["unit"][-1].encode()
    cursor, realtime = cursor_of(line)
    e = parse_entry(line)
    assert cursor == e.cursor and realtime == e.realtime
    assert cursor_time(cursor) == pytest.approx(e.realtime, abs=1)


def test_argv_resumes_after_the_cursor_or_by_time() -> None:
    units = ("docker.service", "kubelet.service")
    fresh = journalctl_argv(units, cursor=None)
    assert "--lines=0" in fresh and "--all" in fresh and "--output=json" in fresh
    assert "--unit=docker.service" in fresh and "--unit=kubelet.service" in fresh
    assert "--after-cursor=s=1;t=5" in journalctl_argv(units, cursor="s=1;t=5")
    assert "--since=@5.000000" in journalctl_argv(units, cursor="s=1;t=5", since=5.0)
    assert "--directory=/host/j" in journalctl_argv(units, cursor=None, directory="/host/j")


def test_recognising_the_recorded_entries_gives_the_lab_causes() -> None:
    buf = ("\n".join(FIXTURE["unit"]) + "\n").encode()
    sightings, _, errors = Recogniser().scan(buf, decode=journal_decoder(), whole=True)
    assert errors == 0
    causes = {s.cause for s in sightings}
    assert {Code.DNS_NXDOMAIN, Code.NET_REFUSED, Code.DNS_UDP_TIMEOUT} <= causes
    assert all(s.origin == "docker.service" and s.runtime == "docker" for s in sightings)
    assert all(s.key.startswith("s=") for s in sightings)


def _root_journal() -> str | None:
    """Why the live journal test cannot run; as root a missing tool is a failure, not a skip."""
    if os.geteuid() != 0:
        return "needs root (mount namespace, cgroups)"
    missing = [t for t in ("unshare", "systemd-cat", "journalctl") if shutil.which(t) is None]
    if not os.path.exists("/lib/systemd/systemd-journald"):
        missing.append("/lib/systemd/systemd-journald")
    if missing:
        pytest.fail(f"the journal test needs {', '.join(missing)} (Debian's systemd package)")
    return None


@pytest.mark.lab
def test_watch_follows_a_real_journald_through_a_kill(tmp_path: Path) -> None:
    reason = _root_journal()
    if reason:
        pytest.skip(reason)
    import journald_harness

    lines: list[str] = []
    for r in LAB["runs"]:
        if r["client"] == "docker" and r["scenario"] in ("dns-nxdomain", "net-refused",
                                                         "tls-unknown-authority",
                                                         "registry-unauthorized"):
            lines += [ln for ln in r["result"]["daemon_log"].splitlines() if ln.strip()]
    # one failure per line, each its own (no folding): distinct images via debug-style context
    text = []
    for i, ln in enumerate(lines):
        text.append(f'level=debug msg="Trying to pull registry.lab.test/lab/img{i} from '
                    f'https://registry.lab.test v2"')
        text.append(ln)
    (tmp_path / "lines.txt").write_text("\n".join(text) + "\n")
    expected = Recogniser().scan(("\n".join(text) + "\n").encode())[0]
    assert len(expected) >= 4
    res = journald_harness.run("watch", tmp_path)
    rows = [r for r in res["rows"] if "warmup" not in str(r["image"])]
    first = [r for r in res["first"] if "warmup" not in str(r["image"])]
    assert res["rc"] == 0, res["out2"]
    assert 0 < len(first) < len(expected), res["out1"]  # the kill came mid-stream
    assert sorted((r["cause"], r["image"]) for r in rows) == \
        sorted((str(s.cause), s.image) for s in expected), (res["out1"], res["out2"])
    keys = [r["record_key"] for r in res["rows"]]
    assert len(keys) == len(set(keys))  # none stored twice
    assert {r["origin"] for r in rows} == {"docker.service"}
    assert {r["source"] for r in rows} == {"journal"}
