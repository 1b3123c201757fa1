"""The history: one SQLite database of pull failures and of the diagnoses captured for them.

Why SQLite: one file, no server, safe against a killed writer (WAL journal), readable by
``pulldoctor history`` and ``npd-check`` while ``watch`` writes it. Only the watcher writes, from
one thread; readers open the file read-only.

Nothing read is lost on ``kill -9``: every source's *position* (file inode and offset, journal
cursor, Kubernetes resource version) is stored in the same transaction as the failures read up to
it. After a crash a source resumes from the last committed position, so a failure is either in the
database or read again. A re-read record that was already stored is recognised by its key
(unique per source), so nothing is counted twice.

The schema is versioned with ``PRAGMA user_version`` and upgraded by the ordered
:data:`MIGRATIONS`; a database written by a newer pulldoctor is refused, not guessed at.
Every text stored is redacted before it gets here (failure texts by the recogniser, reports by
the JSON renderer).
"""

from __future__ import annotations

import os
import sqlite3
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from pulldoctor.errors import PulldoctorError


class StoreError(PulldoctorError):
    """The history database cannot be opened, read or written (the message says why)."""


_V1 = (
    """CREATE TABLE sources (
        id TEXT PRIMARY KEY,              -- journal, file:/path, k8s:node
        kind TEXT NOT NULL,
        position TEXT,                    -- where to resume: dev:inode:offset, cursor, resourceVersion
        context TEXT,                     -- the image being pulled at that point (inferred images)
        updated REAL NOT NULL)""",
    """CREATE TABLE failures (
        id INTEGER PRIMARY KEY,
        first_seen REAL NOT NULL,
        last_seen REAL NOT NULL,
        lines INTEGER NOT NULL DEFAULT 1, -- repeats folded into this failure
        node TEXT NOT NULL,
        source TEXT NOT NULL,             -- journal | file | k8s
        source_id TEXT NOT NULL,
        origin TEXT NOT NULL DEFAULT '',
        record_key TEXT NOT NULL,         -- unique per source: a re-read record is stored once
        image TEXT,
        image_inferred INTEGER NOT NULL DEFAULT 0,
        registry TEXT,
        cause TEXT NOT NULL,              -- a catalogue code, or 'unrecognised'
        confidence REAL NOT NULL,
        text TEXT NOT NULL,               -- redacted
        diagnosis_state TEXT NOT NULL,
        skip_reason TEXT)""",
    "CREATE UNIQUE INDEX failures_record ON failures (source_id, record_key)",
    """CREATE TABLE diagnoses (
        id INTEGER PRIMARY KEY,
        failure_id INTEGER NOT NULL REFERENCES failures (id),
        started REAL NOT NULL,
        duration_s REAL NOT NULL,
        image TEXT NOT NULL,
        outcome TEXT NOT NULL,
        cause TEXT,                       -- diagnose's top cause, if any
        report TEXT,                      -- the full JSON report (redacted), NULL on error
        note TEXT)                        -- why it could not run (redacted)""",
    "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
)

_V2 = (  # indexes for history --since/--cause and npd-check, which read recent rows only
    "CREATE INDEX failures_last_seen ON failures (last_seen)",
    "CREATE INDEX failures_cause ON failures (cause, last_seen)",
    "CREATE INDEX diagnoses_failure ON diagnoses (failure_id)",
)

MIGRATIONS: tuple[tuple[str, ...], ...] = (_V1, _V2)
"""``MIGRATIONS[i]`` upgrades a database from version i to i + 1 (append, never edit)."""
SCHEMA_VERSION = len(MIGRATIONS)


def default_path() -> Path:
    """``$PULLDOCTOR_DB``, else /var/lib/pulldoctor/history.db for root, else the XDG state dir."""
    env = os.environ.get("PULLDOCTOR_DB")
    if env:
        return Path(env)
    if os.geteuid() == 0:
        return Path("/var/lib/pulldoctor/history.db")
    state = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local/state")
    return Path(state) / "pulldoctor/history.db"


def describe(exc: BaseException) -> str:
    """A one-line reason for a database error (full disk, read-only file system ...)."""
    msg = str(exc) or type(exc).__name__
    if isinstance(exc, sqlite3.OperationalError):
        low = msg.lower()
        if "full" in low:
            return f"the disk holding it is full ({msg})"
        if "readonly" in low or "read-only" in low:
            return f"it is read-only ({msg})"
    if isinstance(exc, OSError):
        return exc.strerror or msg
    return msg


def _connect(path: Path, *, readonly: bool, timeout: float = 5.0) -> sqlite3.Connection:
    if readonly:
        if not path.exists():
            raise StoreError(f"no history database at {path} (run `pulldoctor watch` first, "
                             "or give --db)")
        uri = f"file:{path}?mode=ro"
        db = sqlite3.connect(uri, uri=True, timeout=timeout, isolation_level=None,
                             check_same_thread=False)
    else:
        path.parent.mkdir(parents=True, exist_ok=True)
        db = sqlite3.connect(str(path), timeout=timeout, isolation_level=None,
                             check_same_thread=False)
    db.row_factory = sqlite3.Row
    return db


def open_for_reading(path: Path) -> sqlite3.Connection:
    """A read-only connection to an existing history (``history``, ``npd-check``)."""
    try:
        db = _connect(path, readonly=True)
        version = db.execute("PRAGMA user_version").fetchone()[0]
    except (sqlite3.Error, OSError) as exc:
        raise StoreError(f"cannot read the history database {path}: {describe(exc)}") from None
    if version > SCHEMA_VERSION:
        raise StoreError(f"the history database {path} has schema version {version}, newer than "
                         f"this pulldoctor's {SCHEMA_VERSION}: upgrade pulldoctor")
    if version < 1:
        raise StoreError(f"{path} is not a pulldoctor history database (schema version {version})")
    return db


@dataclass(slots=True)
class FailureRow:
    """A failure as the writer holds it: ``id`` is None until its insert is committed."""

    first_seen: float
    last_seen: float
    node: str
    source: str
    source_id: str
    origin: str
    record_key: str
    image: str | None
    image_inferred: bool
    registry: str | None
    cause: str
    confidence: float
    text: str
    diagnosis_state: str
    skip_reason: str | None = None
    lines: int = 1
    id: int | None = None
    dirty: bool = field(default=True, repr=False)  #: changed since the last commit


@dataclass(slots=True)
class DiagnosisRow:
    failure: FailureRow
    started: float
    duration_s: float
    image: str
    outcome: str
    cause: str | None
    report: str | None
    note: str | None = None


class Store:
    """The watcher's writable history; every method runs on the writer's thread."""

    def __init__(self, path: Path) -> None:
        self.path = path
        try:
            self.db = _connect(path, readonly=False)
            self.db.execute("PRAGMA journal_mode=WAL")
            self.db.execute("PRAGMA synchronous=NORMAL")  # WAL: durable at checkpoints, never torn
            self.db.execute("PRAGMA foreign_keys=ON")
            self.migrate()
            self.db.execute("BEGIN IMMEDIATE")  # prove now that we can write, not at 3 am
            self.db.execute("INSERT OR REPLACE INTO meta VALUES ('opened', ?)", (str(time.time()),))
            self.db.execute("COMMIT")
        except (sqlite3.Error, OSError) as exc:
            raise StoreError(f"cannot write the history database {path}: {describe(exc)}"
                             ) from None

    def migrate(self) -> None:
        version = self.db.execute("PRAGMA user_version").fetchone()[0]
        if version > SCHEMA_VERSION:
            raise StoreError(f"the history database {self.path} has schema version {version}, "
                             f"newer than this pulldoctor's {SCHEMA_VERSION}: upgrade pulldoctor")
        for target in range(version, SCHEMA_VERSION):
            self.db.execute("BEGIN IMMEDIATE")
            try:
                for statement in MIGRATIONS[target]:
                    self.db.execute(statement)
                self.db.execute(f"PRAGMA user_version={target + 1}")
                self.db.execute("COMMIT")
            except BaseException:
                self.db.execute("ROLLBACK")
                raise

    def close(self) -> None:
        try:
            self.db.close()
        except sqlite3.Error:
            pass

    # ------------------------------------------------------------------ reads at start-up
    def positions(self) -> dict[str, tuple[str, str | None]]:
        """Per source id: (position, image context) to resume from."""
        return {r["id"]: (r["position"], r["context"]) for r in self.db.execute(
            "SELECT id, position, context FROM sources WHERE position IS NOT NULL")}

    def totals(self) -> Iterator[sqlite3.Row]:
        """Counts per metric label set, so counters survive a restart."""
        yield from self.db.execute(
            "SELECT cause, registry, node, source, count(*) AS n, max(first_seen) AS last "
            "FROM failures GROUP BY cause, registry, node, source")

    def recent(self, since: float) -> list[FailureRow]:
        """Failures seen since ``since`` (to fold repeats into them after a restart)."""
        return [_row(r) for r in self.db.execute(
            "SELECT * FROM failures WHERE last_seen >= ? ORDER BY id", (since,))]

    def unfinished(self) -> list[FailureRow]:
        """Failures whose capture was pending or running when the last watcher stopped."""
        return [_row(r) for r in self.db.execute(
            "SELECT * FROM failures WHERE diagnosis_state IN ('waiting', 'queued', 'running') "
            "ORDER BY id")]

    def record_keys(self, source_id: str, since: float) -> set[str]:
        return {r[0] for r in self.db.execute(
            "SELECT record_key FROM failures WHERE source_id = ? AND last_seen >= ?",
            (source_id, since))}

    # ------------------------------------------------------------------ the one write path
    def commit(self, rows: list[FailureRow], diagnoses: list[DiagnosisRow],
               positions: dict[str, tuple[str, str, str | None]], meta: dict[str, str] | None = None,
               ) -> list[FailureRow]:
        """Write changed failures, finished diagnoses and source positions in ONE transaction.

        Returns the rows that were newly inserted (a re-read record already stored is skipped).
        On any error everything is rolled back, ids given in this call are taken back, and
        :class:`StoreError` says why; the caller keeps its data and tries again later.
        """
        inserted: list[FailureRow] = []
        given: list[FailureRow] = []
        now = time.time()
        try:
            self.db.execute("BEGIN IMMEDIATE")
            for row in rows:
                if row.id is None:
                    cur = self.db.execute(
                        "INSERT INTO failures (first_seen, last_seen, lines, node, "
                        "source, source_id, origin, record_key, image, image_inferred, registry, "
                        "cause, confidence, text, diagnosis_state, skip_reason) "
                        "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?) "
                        "ON CONFLICT (source_id, record_key) DO NOTHING",
                        (row.first_seen, row.last_seen, row.lines, row.node, row.source,
                         row.source_id, row.origin, row.record_key, row.image,
                         int(row.image_inferred), row.registry, row.cause, row.confidence,
                         row.text, row.diagnosis_state, row.skip_reason))
                    if cur.rowcount:
                        row.id = cur.lastrowid
                        given.append(row)
                        inserted.append(row)
                    else:
                        found = self.db.execute(
                            "SELECT id FROM failures WHERE source_id = ? AND record_key = ?",
                            (row.source_id, row.record_key)).fetchone()
                        row.id = int(found[0])
                        given.append(row)
                else:
                    self.db.execute(
                        "UPDATE failures SET last_seen = ?, lines = ?, diagnosis_state = ?, "
                        "skip_reason = ? WHERE id = ?",
                        (row.last_seen, row.lines, row.diagnosis_state, row.skip_reason, row.id))
            for d in diagnoses:
                if d.failure.id is None:
                    continue  # its failure is not stored yet; the caller keeps it for later
                self.db.execute(
                    "INSERT INTO diagnoses (failure_id, started, duration_s, image, outcome, "
                    "cause, report, note) VALUES (?,?,?,?,?,?,?,?)",
                    (d.failure.id, d.started, d.duration_s, d.image, d.outcome, d.cause,
                     d.report, d.note))
            for sid, (kind, pos, context) in positions.items():
                self.db.execute(
                    "INSERT INTO sources (id, kind, position, context, updated) VALUES (?,?,?,?,?) "
                    "ON CONFLICT (id) DO UPDATE SET position = excluded.position, "
                    "context = excluded.context, updated = excluded.updated",
                    (sid, kind, pos, context, now))
            for k, v in (meta or {}).items():
                self.db.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (k, v))
            self.db.execute("COMMIT")
        except (sqlite3.Error, OSError) as exc:
            try:
                self.db.execute("ROLLBACK")
            except sqlite3.Error:
                pass
            for row in given:
                row.id = None
            raise StoreError(f"cannot write the history database {self.path}: {describe(exc)}"
                             ) from None
        for row in rows:
            row.dirty = False
        return inserted


def _row(r: sqlite3.Row) -> FailureRow:
    return FailureRow(
        first_seen=r["first_seen"], last_seen=r["last_seen"], node=r["node"], source=r["source"],
        source_id=r["source_id"], origin=r["origin"], record_key=r["record_key"],
        image=r["image"], image_inferred=bool(r["image_inferred"]), registry=r["registry"],
        cause=r["cause"], confidence=r["confidence"], text=r["text"],
        diagnosis_state=r["diagnosis_state"], skip_reason=r["skip_reason"], lines=r["lines"],
        id=r["id"], dirty=False)
