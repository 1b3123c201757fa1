"""``pulldoctor npd-check``: node-problem-detector's custom-plugin contract over the history."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import click


@click.command(name="npd-check")
@click.option("--minutes", type=click.FloatRange(1, 1440), default=10.0, show_default=True,
              help="Look at failures seen in the last this many minutes.")
@click.option("--stale", type=click.FloatRange(30, 86400), default=300.0, show_default=True,
              metavar="SECONDS", help="Unknown when watch's last heartbeat is older than this.")
@click.option("--db", "db", metavar="PATH", type=click.Path(dir_okay=False, path_type=Path),
              help="History database (default: as `pulldoctor watch`).")
def command(minutes: float, stale: float, db: Path | None) -> int:
    """Exit 0 (OK), 1 (image pulls are failing on this node) or 2 (unknown), with one line of
    at most 80 characters on stdout: node-problem-detector's custom plugin contract.

    Reads the history `pulldoctor watch` keeps; says unknown when watch is not running.

    \b
    Example (NPD custom plugin monitor rule):
      "path": "/usr/local/bin/pulldoctor", "args": ["npd-check", "--minutes", "10"]
    """
    from pulldoctor.errors import PulldoctorError
    from pulldoctor.watch.history import (
        NPD_MAX_MESSAGE,
        NPD_UNKNOWN,
        heartbeat,
        list_failures,
        npd_verdict,
    )
    from pulldoctor.watch.store import default_path, open_for_reading

    now = time.time()
    try:
        conn = open_for_reading(db or default_path())
        try:
            recent = list_failures(conn, since=now - minutes * 60, limit=10000)
            beat = heartbeat(conn)
        finally:
            conn.close()
    except (PulldoctorError, OSError, Exception) as exc:  # any failure is "unknown" to NPD
        text = " ".join(str(exc).split()) or type(exc).__name__
        sys.stdout.write(f"unknown: {text}"[:NPD_MAX_MESSAGE] + "\n")
        return NPD_UNKNOWN
    code, message = npd_verdict(recent, window_s=minutes * 60, now=now, heartbeat_at=beat,
                                stale_s=stale)
    sys.stdout.write(message + "\n")
    return code
