"""``pulldoctor history``: the failures ``watch`` recorded; ``history show ID`` renders a report."""

from __future__ import annotations

import json
import sqlite3
import time
from pathlib import Path

import click

from pulldoctor.report.options import OutputOptions, output_options

_DB = click.option("--db", "db", metavar="PATH", type=click.Path(dir_okay=False, path_type=Path),
                   help="History database (default: as `pulldoctor watch`).")


def _open(db: Path | None) -> sqlite3.Connection:
    from pulldoctor.watch.store import default_path, open_for_reading

    return open_for_reading(db or default_path())


@click.group(name="history", invoke_without_command=True)
@click.option("--since", default="24h", show_default=True, metavar="DURATION|TIME",
              help="Failures seen since then: 2h, 30m, 1d, or an ISO time.")
@click.option("--cause", metavar="CODE", help="Only this cause code (see `pulldoctor causes`).")
@click.option("--image", metavar="TEXT", help="Only images containing TEXT.")
@click.option("--limit", type=click.IntRange(1, 100000), default=100, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="A JSON listing (schema pulldoctor.history/1).")
@_DB
@click.pass_context
def command(ctx: click.Context, since: str, cause: str | None, image: str | None, limit: int,
            as_json: bool, db: Path | None) -> int:
    """List the pull failures `pulldoctor watch` recorded, newest first, with their diagnosis.

    `pulldoctor history show ID` renders the report captured for failure ID like any other
    report (text, --json, --format markdown, --html). Exit code 1 when failures are listed,
    0 when none, 2 on usage errors, 3 when the history cannot be read.

    \b
    Examples:
      pulldoctor history --since 2h
      pulldoctor history --cause dns.udp_timeout --json
      pulldoctor history show 12 --format markdown
    """
    if ctx.invoked_subcommand is not None:
        return 0
    from pulldoctor.causes import Code
    from pulldoctor.errors import UsageError
    from pulldoctor.watch.history import list_failures, listing_json, parse_since
    from pulldoctor.watch.model import UNRECOGNISED

    if cause and cause != UNRECOGNISED and cause not in {c.value for c in Code}:
        raise UsageError(f"unknown cause code {cause!r} (see `pulldoctor causes`)")
    t0 = parse_since(since)
    conn = _open(db)
    try:
        items = list_failures(conn, since=t0, cause=cause, image=image, limit=limit)
    finally:
        conn.close()
    if as_json:
        click.echo(listing_json(items, t0))
        return 1 if items else 0
    if not items:
        click.echo(f"no pull failures recorded since {since}")
        return 0
    rows = [("ID", "LAST SEEN", "N", "CAUSE", "IMAGE / REGISTRY", "SOURCE", "DIAGNOSIS")]
    for it in items:
        what = (it.image + (" (inferred)" if it.image_inferred else "")) if it.image \
            else (it.registry or "-")
        if it.diagnosis_outcome:
            diag = it.diagnosis_outcome + (f" {it.diagnosis_cause}" if it.diagnosis_cause
                                           and it.diagnosis_cause != it.cause else "")
        elif it.skip_reason:
            diag = f"not probed: {it.skip_reason}"
        else:
            diag = it.diagnosis_state
        rows.append((str(it.id), time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(it.last_seen)),
                     str(it.lines), it.cause, what, it.origin or it.source, diag))
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]) - 1)]
    for r in rows:
        click.echo("  ".join(c.ljust(w) for c, w in zip(r, widths, strict=False)) + "  " + r[-1])
    click.echo(f"\n{len(items)} failure(s); `pulldoctor history show ID` for the report")
    return 1


@command.command(name="show")
@click.argument("failure_id", metavar="ID", type=int)
@_DB
@output_options
def show(failure_id: int, db: Path | None, output: OutputOptions) -> int:
    """Render the report captured for failure ID (its diagnosis; else the failure text read
    with `explain`). Exit code 1 when the report names a cause, 0 when not."""
    from pulldoctor.explain import explain
    from pulldoctor.report.render import emit_data
    from pulldoctor.report.view import report_data
    from pulldoctor.watch.history import failure_and_report, iso

    conn = _open(db)
    try:
        row, diag = failure_and_report(conn, failure_id)
    finally:
        conn.close()
    seen = (f"failure #{row['id']} ({row['cause']}) seen {iso(row['first_seen'])}"
            f" on {row['node']} in {row['origin'] or row['source_id']}"
            + (f", {row['lines']} times" if row["lines"] > 1 else ""))
    if diag is not None and diag["report"]:
        data = json.loads(diag["report"])
        data.setdefault("notes", []).insert(
            0, f"captured by pulldoctor watch at {iso(diag['started'])} for {seen}")
    else:
        data = report_data(explain(row["text"]))
        why = (f"its diagnosis failed: {diag['note']}" if diag is not None
               else f"it was not diagnosed ({row['skip_reason'] or row['diagnosis_state']})")
        data.setdefault("notes", []).insert(0, f"{seen}; {why}: this is its text read with "
                                               "explain")
    emit_data(data, output.fmt, verbose=output.verbose, html=output.html)
    return 1 if data.get("causes") else 0
