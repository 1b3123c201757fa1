"""``scan`` over files and stdin: the format of each source from its first bytes, large line logs
in parallel segments (:mod:`.segments`), event documents read whole, one event at a time.

This module drives :class:`.scan.Scanner` and :mod:`.segments`; neither imports it, so the two
no longer import each other.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable, Iterator

from pulldoctor.errors import UsageError
from pulldoctor.explain import scan as _scan
from pulldoctor.explain.scan import Scanner, _prepend, head
from pulldoctor.explain.scan_formats import Format, sniff
from pulldoctor.explain.segments import chunks, scan_file_parallel, workers_wanted
from pulldoctor.model import Report
from pulldoctor.textclean import valid_utf8

__all__ = ["scan"]


def scan(sources: list[str]) -> Report:
    """Scan files (``-`` is stdin) for pull failures; a usage error for an unreadable file."""
    if not sources:
        raise UsageError("no log given: pulldoctor scan FILE... (or - to read stdin)")
    scanner = Scanner()
    workers = workers_wanted()
    for src in sources:
        if src == "-":
            _read(scanner, src, chunks(sys.stdin.buffer))
            continue
        try:
            f = open(src, "rb")  # noqa: SIM115 - closed below, after streaming
        except OSError as exc:
            raise UsageError(f"cannot read {valid_utf8(src)}: {exc.strerror or exc}") from None
        with f:
            try:
                size = os.fstat(f.fileno()).st_size
                head = f.read(_scan.CHUNK)
            except OSError as exc:
                raise UsageError(f"cannot read {valid_utf8(src)}: {exc.strerror or exc}") from None
            fmt = sniff(head)
            if (fmt in (Format.LINES, Format.JOURNAL_JSON) and workers > 1 and size > _scan.SEGMENT
                    and os.path.isfile(src)):
                scanner.start(valid_utf8(src), fmt)
                scan_file_parallel(scanner, src, size, workers)
                continue
            _read(scanner, valid_utf8(src), _prepend(head, chunks(f)), fmt)
    return scanner.report([valid_utf8(s) for s in sources])


def _read(scanner: Scanner, name: str, stream: Iterable[bytes], fmt: Format | None = None) -> None:
    it: Iterator[bytes] = iter(stream)
    if fmt is None:
        first, rest = head(it)
        fmt = sniff(first)
        it = _prepend(first, rest)
    scanner.start(name, fmt)
    if fmt in (Format.LINES, Format.JOURNAL_JSON):
        for chunk in it:
            scanner.feed(chunk)
    else:
        scanner.read_document(it)
