"""Reading logs for ``scan``: chunked streams, and big files cut into segments scanned in parallel.

A segment is a byte range of one regular file; a line belongs to the segment it *starts* in, so
segments cover every line exactly once and their counts add up exactly. Segments do not count
newlines (counting is a third of scan's work per byte): positions are byte offsets, and only when
a group's first or last sighting has no timestamp are its offsets turned into line numbers, by one
counting pass up to the last such offset. Timestamped logs (journalctl, klog, logrus, kubectl
events) therefore never pay for counting.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from typing import IO

from pulldoctor.explain import scan as _scan
from pulldoctor.explain.scan import CHUNK, Scanner
from pulldoctor.explain.scan_formats import Format
from pulldoctor.explain.triggers import engine


def chunks(stream: IO[bytes], limit: int | None = None) -> Iterator[bytes]:
    """``stream`` in ``CHUNK``-sized reads, at most ``limit`` bytes."""
    left = limit
    while left is None or left > 0:
        chunk = stream.read(CHUNK if left is None else min(CHUNK, left))
        if not chunk:
            return
        if left is not None:
            left -= len(chunk)
        yield chunk


def _first_line_start(f: IO[bytes], start: int) -> int | None:
    """Seek to the first line that starts at or after ``start``; None at end of file."""
    if start == 0:
        f.seek(0)
        return 0
    f.seek(start - 1)
    if f.read(1) == b"\n":
        return start
    while True:  # skip the rest of the previous segment's last line
        block = f.read(CHUNK)
        if not block:
            return None
        nl = block.find(b"\n")
        if nl != -1:
            f.seek(f.tell() - len(block) + nl + 1)
            return f.tell()


def _segment_chunks(f: IO[bytes], pos: int, end: int) -> Iterator[bytes]:
    """From ``pos`` (a line start) to the end of the line that crosses ``end``."""
    last = b"\n"
    if pos < end:
        for chunk in chunks(f, end - pos):
            last = chunk[-1:]
            yield chunk
    while last != b"\n":  # finish the line that crosses ``end``
        block = f.read(CHUNK)
        if not block:
            return
        nl = block.find(b"\n")
        if nl != -1:
            yield block[:nl + 1]
            return
        yield block


def _scan_segment(args: tuple[str, int, int, Format]) -> Scanner:
    """Scan the lines starting in [start, end) of ``path``; runs in a worker process."""
    path, start, end, fmt = args
    with open(path, "rb") as f:
        pos = _first_line_start(f, start)
        part = Scanner(path, count_lines=False, offset=pos or 0, fmt=fmt)
        if pos is not None:
            for chunk in _segment_chunks(f, pos, end):
                part.feed(chunk)
    part.finish_source()
    part.bytes = max(0, end - start)  # each byte of the file belongs to exactly one segment
    return part


def workers_wanted() -> int:
    """One process per CPU this process may use (``PULLDOCTOR_SCAN_WORKERS`` overrides)."""
    env = os.environ.get("PULLDOCTOR_SCAN_WORKERS")
    if env and env.isdigit():
        return max(1, int(env))
    affinity = getattr(os, "sched_getaffinity", None)
    cpus = len(affinity(0)) if affinity else (os.cpu_count() or 1)
    return max(1, min(cpus, 8))


def line_numbers(path: str, offsets: set[int]) -> dict[int, int]:
    """1-based line number of each byte offset, counting newlines only up to the last one."""
    todo = sorted(offsets)
    out: dict[int, int] = {}
    seen, pos, i = 0, 0, 0
    with open(path, "rb") as f:
        for chunk in chunks(f, todo[-1] + 1 if todo else 0):
            end = pos + len(chunk)
            while i < len(todo) and todo[i] < end:
                out[todo[i]] = seen + chunk.count(b"\n", 0, todo[i] - pos) + 1
                i += 1
            seen += chunk.count(b"\n")
            pos = end
    return out


def scan_file_parallel(scanner: Scanner, path: str, size: int, workers: int) -> None:
    """Scan ``path`` in segments on ``workers`` processes and merge into ``scanner``."""
    scanner.count_lines = False  # this source's lines are not counted (see the module doc)
    step = _scan.SEGMENT
    segments = [(path, a, min(size, a + step), scanner.fmt) for a in range(0, size, step)]
    engine()  # compile the trigger database once; forked workers inherit it
    pool = ProcessPoolExecutor(max_workers=workers)
    try:
        for part in pool.map(_scan_segment, segments):
            scanner.merge(part)
    except BaseException:
        pool.shutdown(wait=False, cancel_futures=True)  # Ctrl-C: do not finish every segment
        raise
    pool.shutdown()
    mine = [g for g in scanner.groups.values() if g.source == path]
    wanted = {g.first_offset for g in mine if g.first_ts is None}
    wanted |= {g.last_offset for g in mine if g.last_ts is None}
    if wanted:
        numbers = line_numbers(path, wanted)
        for g in mine:
            if g.first_ts is None:
                g.first_line = numbers[g.first_offset]
            if g.last_ts is None:
                g.last_line = numbers[g.last_offset]
