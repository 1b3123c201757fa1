"""The history database: migrations, one transaction per commit, nothing stored twice."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from pulldoctor.watch.history import list_failures, npd_verdict, parse_since
from pulldoctor.watch.store import (
    MIGRATIONS,
    SCHEMA_VERSION,
    DiagnosisRow,
    FailureRow,
    Store,
    StoreError,
    open_for_reading,
)


def _row(key: str, *, cause: str = "dns.nxdomain", at: float = 1000.0,
         image: str | None = "nginx:1") -> FailureRow:
    return FailureRow(first_seen=at, last_seen=at, node="n1", source="file", source_id="file:/x",
                      origin="/x", record_key=key, image=image, image_inferred=False,
                      registry="docker.io", cause=cause, confidence=0.9, text="boom",
                      diagnosis_state="queued")


def test_fresh_database_is_at_the_current_version_in_wal_mode(tmp_path: Path) -> None:
    s = Store(tmp_path / "h.db")
    assert s.db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    assert s.db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    s.close()


def test_an_old_database_is_migrated_and_keeps_its_rows(tmp_path: Path) -> None:
    path = tmp_path / "h.db"
    con = sqlite3.connect(path)
    for stmt in MIGRATIONS[0]:
        con.execute(stmt)
    con.execute("PRAGMA user_version=1")
    con.execute("INSERT INTO failures (first_seen, last_seen, node, source, source_id, "
                "record_key, cause, confidence, text, diagnosis_state) VALUES "
                "(1, 2, 'n', 'file', 'file:/x', 'k', 'net.refused', 0.8, 't', 'done')")
    con.commit()
    con.close()
    s = Store(path)
    assert s.db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    names = {r[0] for r in s.db.execute("SELECT name FROM sqlite_master WHERE type='index'")}
    assert "failures_last_seen" in names  # added by migration 2
    assert s.db.execute("SELECT count(*) FROM failures").fetchone()[0] == 1
    s.close()


def test_a_newer_database_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "h.db"
    Store(path).close()
    con = sqlite3.connect(path)
    con.execute(f"PRAGMA user_version={SCHEMA_VERSION + 1}")
    con.commit()
    con.close()
    with pytest.raises(StoreError, match="newer"):
        Store(path)
    with pytest.raises(StoreError, match="newer"):
        open_for_reading(path)


def test_not_a_database(tmp_path: Path) -> None:
    bad = tmp_path / "h.db"
    bad.write_bytes(b"\x00junk" * 100)
    with pytest.raises(StoreError, match="cannot"):
        Store(bad)
    with pytest.raises(StoreError):
        open_for_reading(tmp_path / "missing.db")


def test_rows_positions_and_diagnoses_commit_together(tmp_path: Path) -> None:
    s = Store(tmp_path / "h.db")
    a, b = _row("1"), _row("2", cause="net.refused")
    inserted = s.commit([a, b], [], {"file:/x": ("file", "1:2:300", None)})
    assert inserted == [a, b] and a.id and b.id
    d = DiagnosisRow(a, 1001.0, 1.5, "nginx:1", "confirmed", "dns.nxdomain", '{"causes": []}')
    a.diagnosis_state, a.lines = "done", 3
    s.commit([a], [d], {"file:/x": ("file", "1:2:400", None)})
    assert s.positions() == {"file:/x": ("1:2:400", None)}
    got = {r.id: r for r in list_failures(s.db, since=0)}
    assert got[a.id].lines == 3 and got[a.id].diagnosis_outcome == "confirmed"
    assert got[b.id].diagnosis_outcome is None
    s.close()


def test_a_reread_record_is_not_stored_twice(tmp_path: Path) -> None:
    s = Store(tmp_path / "h.db")
    s.commit([_row("k1")], [], {})
    again = _row("k1")
    assert s.commit([again], [], {}) == []
    assert again.id is not None  # it is the stored row now
    assert s.db.execute("SELECT count(*) FROM failures").fetchone()[0] == 1
    s.close()


def test_a_failed_commit_rolls_everything_back(tmp_path: Path) -> None:
    s = Store(tmp_path / "h.db")
    s.commit([_row("k0")], [], {"file:/x": ("file", "1:2:10", None)})
    bad = _row("k2")
    bad.text = None  # type: ignore[assignment]  # NOT NULL: the insert fails mid-transaction
    good = _row("k1")
    with pytest.raises(StoreError):
        s.commit([good, bad], [], {"file:/x": ("file", "1:2:99", None)})
    assert good.id is None and bad.id is None  # ids given in the failed call are taken back
    assert s.positions() == {"file:/x": ("1:2:10", None)}
    assert s.db.execute("SELECT count(*) FROM failures").fetchone()[0] == 1
    s.close()


def test_readers_see_committed_data_while_the_writer_is_open(tmp_path: Path) -> None:
    path = tmp_path / "h.db"
    s = Store(path)
    s.commit([_row("a", at=5000.0)], [], {})
    r = open_for_reading(path)
    assert len(list_failures(r, since=0)) == 1
    assert list_failures(r, since=0, cause="net.refused") == []
    assert len(list_failures(r, since=0, image="ngin")) == 1
    assert list_failures(r, since=6000) == []
    r.close()
    s.close()


def test_parse_since() -> None:
    assert parse_since("2h", now=10_000) == 10_000 - 7200
    assert parse_since("90s", now=100) == 10
    assert parse_since("1d", now=100_000) == 100_000 - 86400
    assert parse_since("2026-12-05T10:00:00Z") == 1796464800.0
    from pulldoctor.errors import UsageError

    with pytest.raises(UsageError):
        parse_since("yesterday-ish")


def _listed(cause: str, *, lines: int = 1, state: str = "done", outcome: str | None = None,
            registry: str = "registry.lab.test"):  # type: ignore[no-untyped-def]
    from pulldoctor.watch.history import Listed

    return Listed(1, 0, 0, lines, "n", "journal", "docker.service", "img", False, registry,
                  cause, 0.9, "t", state, None, None, outcome, None)


def test_npd_verdicts_and_the_80_character_contract() -> None:
    ok = npd_verdict([], window_s=600, now=1000, heartbeat_at=990, stale_s=300)
    assert ok == (0, "no image pull failures in the last 10m")
    stale = npd_verdict([], window_s=600, now=1000, heartbeat_at=100, stale_s=300)
    assert stale[0] == 2 and "not running" in stale[1]
    never = npd_verdict([], window_s=600, now=1000, heartbeat_at=None, stale_s=300)
    assert never[0] == 2 and "never" in never[1]
    rows = [_listed("dns.udp_timeout", lines=3, outcome="confirmed"),
            _listed("net.refused", lines=5, registry="x" * 200)]
    code, msg = npd_verdict(rows, window_s=600, now=1000, heartbeat_at=990, stale_s=300)
    assert code == 1 and len(msg) <= 80
    assert msg.startswith("8 pull failures in 10m: dns.udp_timeout (proven)")
    transient = npd_verdict([_listed("net.reset", state="transient")], window_s=600, now=1000,
                            heartbeat_at=990, stale_s=300)
    assert transient[0] == 0
