"""Reading many reports: files, directories (``*.json`` below them), ``-`` for stdin.

Each file holds one report, a JSON array of reports, or reports one after another (JSON lines,
``jq -c`` output, ``cat``-ed files). Every report is summarised as soon as it is parsed and the
parsed JSON dropped, so memory stays flat however many reports there are. Anything that is not a
report is a usage error naming the file and what is wrong, in one line (exit code 2): a merge
that silently skipped a node would count it as neither failing nor healthy.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import IO, Any

from pulldoctor.errors import UsageError
from pulldoctor.fleet.summary import NodeSummary, NotAReport, summarise

MAX_FILE_BYTES = 64 * 1024 * 1024  # one report is ~10 kB; this bounds a mistaken multi-GB input
_DECODER = json.JSONDecoder()


class FleetInputError(UsageError):
    """One input is not what ``fleet merge`` reads (not JSON, not a report, unreadable)."""


def _documents(text: str, where: str) -> Iterator[Any]:
    """Every JSON document in ``text`` (one, an array, or several in a row)."""
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        if exc.msg != "Extra data":
            raise FleetInputError(_json_error(where, exc)) from None
        yield from _concatenated(text, where)
        return
    if isinstance(doc, list):
        yield from doc
    else:
        yield doc


def _concatenated(text: str, where: str) -> Iterator[Any]:
    pos, end = 0, len(text)
    while True:
        while pos < end and text[pos] in " \t\r\n":
            pos += 1
        if pos >= end:
            return
        try:
            doc, pos = _DECODER.raw_decode(text, pos)
        except json.JSONDecodeError as exc:
            raise FleetInputError(_json_error(where, exc)) from None
        yield doc


def _json_error(where: str, exc: json.JSONDecodeError) -> str:
    hint = "" if exc.doc.rstrip().endswith(("}", "]")) else " (truncated?)"
    return f"{where}: not valid JSON at line {exc.lineno} column {exc.colno}: {exc.msg}{hint}"


def _files(paths: Iterable[str]) -> Iterator[str]:
    for p in paths:
        if p == "-":
            yield p
            continue
        path = Path(p)
        if path.is_dir():
            found = sorted(str(f) for f in path.rglob("*.json") if f.is_file())
            if not found:
                raise FleetInputError(f"{p}: no *.json report files in this directory")
            yield from found
        elif path.exists():
            yield p
        else:
            raise FleetInputError(f"{p}: no such file or directory")


def _read(path: str, stdin: IO[bytes] | None) -> str:
    if path == "-":
        if stdin is None:
            raise FleetInputError("-: no standard input")
        data = stdin.read(MAX_FILE_BYTES + 1)
    else:
        try:
            with open(path, "rb") as fh:
                data = fh.read(MAX_FILE_BYTES + 1)
        except OSError as exc:
            raise FleetInputError(f"{path}: cannot read: {exc.strerror or exc}") from None
    if len(data) > MAX_FILE_BYTES:
        raise FleetInputError(f"{path}: larger than {MAX_FILE_BYTES // 2**20} MiB; "
                              "split it into one report per file")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise FleetInputError(f"{path}: not UTF-8 text (byte {exc.start}): not a report") from None


def read_summaries(paths: Iterable[str], stdin: IO[bytes] | None = None) -> Iterator[NodeSummary]:
    """One :class:`NodeSummary` per report found in ``paths``; :class:`FleetInputError` on junk."""
    for path in _files(paths):
        text = _read(path, stdin)
        if not text.strip():
            raise FleetInputError(f"{path}: empty file: not a report")
        name = "stdin" if path == "-" else Path(path).stem
        for n, doc in enumerate(_documents(text, path), 1):
            try:
                yield summarise(doc, name if n == 1 else f"{name}#{n}")
            except NotAReport as exc:
                raise FleetInputError(f"{path}: {exc}") from None
