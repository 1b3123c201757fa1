"""Reading the history back: ``pulldoctor history`` and ``npd-check`` (pure over typed rows).

The queries live here, the rendering in the CLI modules, and the verdict of ``npd-check`` in
:func:`npd_verdict`, a pure function of the recent failures and the watcher's heartbeat.
"""

from __future__ import annotations

import json
import re
import sqlite3
import time
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from pulldoctor.errors import UsageError
from pulldoctor.watch.model import DiagnosisState

_HISTORY_SCHEMA = "pulldoctor.history/1"
"""``history --json`` is a listing, not a report: it carries its own schema id."""

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhdw]?)\s*$")
_UNIT_S = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def parse_since(value: str, now: float | None = None) -> float:
    """``2h``, ``30m``, ``90s``, ``1d`` (ago) or an ISO date/time -> Unix seconds."""
    now = time.time() if now is None else now
    m = _DURATION.match(value)
    if m:
        return now - float(m.group(1)) * _UNIT_S[m.group(2)]
    try:
        dt = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        raise UsageError(f"--since must be a duration (2h, 30m, 1d) or an ISO time, not {value!r}"
                         ) from None
    if dt.tzinfo is None:
        dt = dt.astimezone()  # a local time, as people type it
    return dt.timestamp()


@dataclass(frozen=True, slots=True)
class Listed:
    """One failure as ``history`` lists it (with its latest diagnosis, if any)."""

    id: int
    first_seen: float
    last_seen: float
    lines: int
    node: str
    source: str
    origin: str
    image: str | None
    image_inferred: bool
    registry: str | None
    cause: str
    confidence: float
    text: str
    diagnosis_state: str
    skip_reason: str | None
    diagnosis_id: int | None
    diagnosis_outcome: str | None
    diagnosis_cause: str | None

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["first_seen"] = iso(self.first_seen)
        out["last_seen"] = iso(self.last_seen)
        return out


def iso(t: float) -> str:
    return datetime.fromtimestamp(t).astimezone().isoformat(timespec="seconds")


_LIST = """
SELECT f.*, d.id AS d_id, d.outcome AS d_outcome, d.cause AS d_cause
FROM failures f
LEFT JOIN diagnoses d ON d.id = (SELECT max(id) FROM diagnoses WHERE failure_id = f.id)
WHERE f.last_seen >= ? {where}
ORDER BY f.last_seen DESC, f.id DESC
LIMIT ?
"""


def list_failures(db: sqlite3.Connection, *, since: float, cause: str | None = None,
                  image: str | None = None, limit: int = 100) -> list[Listed]:
    where, args = "", [since]
    if cause:
        where += " AND f.cause = ?"
        args.append(cause)  # type: ignore[arg-type]
    if image:
        where += " AND f.image LIKE ? ESCAPE '\\'"
        pattern = image.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        args.append(f"%{pattern}%")  # type: ignore[arg-type]
    rows = db.execute(_LIST.format(where=where), (*args, limit)).fetchall()
    return [Listed(
        id=r["id"], first_seen=r["first_seen"], last_seen=r["last_seen"], lines=r["lines"],
        node=r["node"], source=r["source_id"], origin=r["origin"], image=r["image"],
        image_inferred=bool(r["image_inferred"]), registry=r["registry"], cause=r["cause"],
        confidence=r["confidence"], text=r["text"], diagnosis_state=r["diagnosis_state"],
        skip_reason=r["skip_reason"], diagnosis_id=r["d_id"], diagnosis_outcome=r["d_outcome"],
        diagnosis_cause=r["d_cause"]) for r in rows]


def listing_json(items: list[Listed], since: float) -> str:
    return json.dumps({"schema": _HISTORY_SCHEMA, "since": iso(since), "count": len(items),
                       "failures": [i.to_dict() for i in items]}, indent=2, ensure_ascii=False)


def failure_and_report(db: sqlite3.Connection, failure_id: int
                       ) -> tuple[sqlite3.Row, sqlite3.Row | None]:
    row = db.execute("SELECT * FROM failures WHERE id = ?", (failure_id,)).fetchone()
    if row is None:
        raise UsageError(f"no failure #{failure_id} in the history (see `pulldoctor history`)")
    diag = db.execute("SELECT * FROM diagnoses WHERE failure_id = ? ORDER BY id DESC LIMIT 1",
                      (failure_id,)).fetchone()
    return row, diag


def heartbeat(db: sqlite3.Connection) -> float | None:
    row = db.execute("SELECT value FROM meta WHERE key = 'heartbeat'").fetchone()
    try:
        return float(row[0]) if row else None
    except ValueError:
        return None


# ---------------------------------------------------------------------- npd-check
NPD_OK, NPD_PROBLEM, NPD_UNKNOWN = 0, 1, 2
"""node-problem-detector's custom-plugin exit codes."""
NPD_MAX_MESSAGE = 80


def _fit(text: str) -> str:
    return text if len(text) <= NPD_MAX_MESSAGE else text[:NPD_MAX_MESSAGE - 3] + "..."


def npd_verdict(recent: list[Listed], *, window_s: float, now: float,
                heartbeat_at: float | None, stale_s: float) -> tuple[int, str]:
    """(exit code, message of at most 80 characters) for NPD's custom-plugin contract."""
    if heartbeat_at is None or now - heartbeat_at > stale_s:
        since = "never" if heartbeat_at is None else f"{int((now - heartbeat_at) // 60)}m ago"
        return NPD_UNKNOWN, _fit(f"pulldoctor watch is not running (last heartbeat: {since})")
    minutes = max(1, round(window_s / 60))
    live = [r for r in recent if r.diagnosis_state != DiagnosisState.TRANSIENT]
    if not live:
        return NPD_OK, _fit(f"no image pull failures in the last {minutes}m")
    by_cause: dict[str, int] = {}
    for r in live:
        by_cause[r.cause] = by_cause.get(r.cause, 0) + r.lines
    confirmed = [r for r in live if r.diagnosis_outcome == "confirmed"]
    top = max(by_cause, key=lambda c: (any(r.cause == c for r in confirmed), by_cause[c]))
    where = next((r.registry for r in live if r.cause == top and r.registry), None)
    total = sum(by_cause.values())
    more = f", +{len(by_cause) - 1} other cause{'s' if len(by_cause) > 2 else ''}" \
        if len(by_cause) > 1 else ""
    proven = " (proven)" if any(r.cause == top for r in confirmed) else ""
    msg = f"{total} pull failure{'s' if total != 1 else ''} in {minutes}m: {top}{proven}"
    msg += f" at {where}" if where else ""
    return NPD_PROBLEM, _fit(msg + more)
