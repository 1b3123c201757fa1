"""``scan``: find and group every pull failure in whole logs, in constant memory.

Logs are large (a node's journal is gigabytes) and pull failures are rare in them, so the cost is in
*not* looking at the other lines. The file is read in binary chunks; the trigger words are located
without any regex (:mod:`.triggers`); only the lines holding one are decoded, filtered by a second
cheap regex for failure wording, and only those reach the explainer's rules, once per message
*shape* (a failure repeated with other ports, times or ids is one cache hit). Memory is one chunk plus
the groups, whatever the input size; a line with no newline for megabytes is cut into windows
around its trigger words instead of being buffered. A large regular file is cut into segments at
line boundaries and scanned by one process per CPU (:mod:`.segments`); counts merge exactly.

Failures are grouped by (cause code, image) with a count, first and last sighting (the log prefix's
timestamp when there is one, else the line number) and one example text.
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from functools import lru_cache, partial
from typing import Any

from pulldoctor.causes import Code
from pulldoctor.errors import ReferenceError_, UsageError
from pulldoctor.explain import rules
from pulldoctor.explain.facts import extract, image_of
from pulldoctor.explain.normalize import normalize, strip_prefixes
from pulldoctor.explain.triggers import MAX_LINE, candidate_spans, engine
from pulldoctor.model import Cause, Report
from pulldoctor.reference import parse_reference

CHUNK = 4 * 1024 * 1024
SEGMENT = 32 * 1024 * 1024
"""Files larger than this are scanned in segments of this size, in parallel."""
MAX_GROUPS = 10_000
"""Distinct (cause, image) pairs kept; more are counted under ``other_failures``."""

_FAILURE = re.compile(
    rb"rror|[Ff]ail|denied|nauthorized|timeout|timed out|refused|reset|EOF|not found|unknown|"
    rb"toomanyrequests|BackOff|no space|invalid|x509|no such host|misbehaving|unreachable|"
    rb"no route|exceeded|429|50[0-4]|certificate"
)
_TIMESTAMP = re.compile(
    r"^(?:[IWEF](?P<klog>\d{4} \d\d:\d\d:\d\d)|(?P<iso>\d{4}-\d\d-\d\d[T ]\d\d:\d\d:\d\d(?:\.\d+)?"
    r"(?:Z|[+-]\d\d:?\d\d)?)|(?P<syslog>[A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d)|"
    r"time=\"(?P<logrus>[^\"]{1,40})\")"
)
_INNER_TS = re.compile(r"time=\"(?P<t>[^\"]{1,40})\"|\"(?:lastTimestamp|time)\": ?\"(?P<j>[^\"]{1,40})\"")


@dataclass(slots=True)
class Group:
    """All sightings of one cause for one image."""

    code: Code
    image: str
    count: int = 0
    first_ts: str | None = None
    last_ts: str | None = None
    source: str = ""
    first_line: int | None = None  # None: not counted (a timestamped log scanned in parallel)
    last_line: int | None = None
    first_offset: int = 0
    last_offset: int = 0
    example: str = ""
    confidence: float = 0.0
    evidence: list[str] = field(default_factory=list)
    values: dict[str, str | None] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        out = {"code": self.code, "image": self.image, "count": self.count,
               "first_seen": self.first_ts or _position(self.first_line, self.first_offset),
               "last_seen": self.last_ts or _position(self.last_line, self.last_offset),
               "source": self.source, "example": self.example}
        if self.first_line is not None and self.last_line is not None:
            out["first_line"], out["last_line"] = self.first_line, self.last_line
        return out


def _position(line: int | None, offset: int) -> str:
    return f"line {line}" if line is not None else f"byte {offset}"


Verdict = tuple[str, float, str, tuple[str, ...], tuple[tuple[str, str | None], ...]]

_SHAPE = re.compile(
    r"\d{1,3}(?:\.\d{1,3}){3}|\d\d:\d\d:\d\d(?:[.,]\d{1,9})?|[0-9a-f]{12,}|\d{4,}")
"""What varies between repeats of one failure: addresses, clock times, ids, ports, pids."""


def shape(text: str) -> str:
    """``text`` with its per-occurrence details blanked; repeats of one failure share a shape.

    Status codes (3 digits), ``attempts=6`` and well-known ports (``:53``, ``:443``) survive, so
    every rule sees what it needs; tests check the top cause never changes on the corpus.
    """
    return _SHAPE.sub("0", text)


def _canonical_image(image: str | None) -> str:
    if not image:
        return "-"
    try:  # kubelet's "nginx" and containerd's "docker.io/library/nginx" are one image
        return parse_reference(image).familiar
    except ReferenceError_:
        return image


def _verdict(message: str) -> Verdict | None:
    """Top cause of one (prefix-stripped) message, exactly as :func:`explain` ranks it."""
    text = normalize(message)
    ranked = rules.rank(text)
    if not ranked:
        return None
    code, confidence, evidence, _ = ranked[0]
    f = extract(text)
    values = (("image", f.get("image")), ("host", f.get("host")), ("resolver", f.get("resolver")))
    return code, round(confidence, 2), _canonical_image(f.get("image")), tuple(evidence), values


@lru_cache(maxsize=4096)
def _decision(text_shape: str) -> tuple[str, float] | None:
    """Top cause of a message shape: a repeat of a failure costs one cache hit, not 60 rules."""
    ranked = rules.rank(text_shape)
    return (ranked[0][0], round(ranked[0][1], 2)) if ranked else None


def _timestamp(line: str) -> str | None:
    m = _TIMESTAMP.match(line)
    if m:
        return next(g for g in m.groups() if g)
    found = None
    for m2 in _INNER_TS.finditer(line):  # the last one: nearest to the message it stamps
        found = m2.group("t") or m2.group("j")
    return found


def _pieces(raw: bytes) -> list[tuple[bytes, bytes]]:
    """(text, what precedes it) for one line, or for each event of a compact JSON event list.

    kubectl prints an event's fields in alphabetical order, so its ``lastTimestamp`` comes just
    before its ``message``: the preceding slice is where that event's time is found.
    """
    if raw.count(b'"message":') < 2:
        return [(raw, b"")]
    parts = raw.split(b'"message":')
    return [(b'"message":' + parts[k], parts[k - 1][-400:]) for k in range(1, len(parts))]


class Scanner:
    """Feed bytes in any chunking; keeps only the carry-over partial line and the groups."""

    def __init__(self, source: str = "", *, count_lines: bool = True, offset: int = 0) -> None:
        self.groups: dict[tuple[str, str], Group] = {}
        self.other_failures = 0
        self.lines = 0  # lines of the current source so far (when counting)
        self.total_lines: int | None = 0  # finished sources; None once one was not counted
        self.bytes = 0
        self.failures = 0
        self.count_lines = count_lines
        self._pos = offset  # byte offset, in the current source, of the next byte fed
        self._carry = b""
        self._last = b""  # last byte fed for the current source: is a line still open?
        self._source = source

    def start(self, source: str) -> None:
        self.finish_source()
        self._end_source()
        self._source = source
        self.count_lines = True

    def _end_source(self) -> None:
        if self.total_lines is not None:
            self.total_lines = self.total_lines + self.lines if self.count_lines else None
        self.lines, self._pos = 0, 0

    def feed(self, chunk: bytes) -> None:
        """Look at every whole line in ``chunk`` (plus the partial one carried over) without
        copying the chunk: only the carried partial line is joined with the next chunk's head."""
        if not chunk:
            return
        base = self._pos  # offset of chunk[0]; the carry sits just before it
        self._pos += len(chunk)
        self.bytes += len(chunk)
        self._last = chunk[-1:]
        start = 0
        if self._carry:
            nl = chunk.find(b"\n")
            if nl == -1:
                self._hold(self._carry + chunk, base - len(self._carry))
                return
            head_base = base - len(self._carry)
            head, self._carry = self._carry + chunk[:nl + 1], b""
            self._process(head, 0, len(head), head_base)
            start = nl + 1
        cut = chunk.rfind(b"\n") + 1
        if cut <= start:
            self._hold(chunk[start:] if start else chunk, base + start)
            return
        self._process(chunk, start, cut, base)
        self._carry = chunk[cut:]

    def _hold(self, partial: bytes, base: int) -> None:
        """Keep a partial line for the next chunk, unless it is already too long to buffer."""
        if len(partial) > MAX_LINE:
            self._process(partial, 0, len(partial), base)  # look at it now, in windows
            self._carry = b""
        else:
            self._carry = partial

    def finish_source(self) -> None:
        if self._carry:
            buf, self._carry = self._carry, b""
            self._process(buf, 0, len(buf), self._pos - len(buf))
        if self._last not in (b"", b"\n"):
            self.lines += 1  # a last line without a newline still counts
        self._last = b""

    def _process(self, view: bytes, lo: int, hi: int, base: int) -> None:
        """Look at ``view[lo:hi]`` (whole lines); ``base`` is the source offset of ``view[0]``.

        Newlines are counted only when line numbers are wanted: counting is a third of the
        work per byte, and a timestamped log scanned in parallel does without (see segments).
        """
        count = self.count_lines
        pos, line = lo, self.lines
        for s, e in candidate_spans(view, lo, hi):
            if count:
                line += view.count(b"\n", pos, s)
                pos = s
            for raw, before in _pieces(view[s:e]):
                if _FAILURE.search(raw):
                    self._record(raw.decode("utf-8", errors="replace"),
                                 line + 1 if count else None, base + s,
                                 before.decode("utf-8", errors="replace"))
        if count:
            self.lines = line + view.count(b"\n", pos, hi)

    def _record(self, text: str, lineno: int | None, offset: int, before: str = "") -> None:
        message = strip_prefixes(text.strip())[:MAX_LINE]
        norm = normalize(message)
        decided = _decision(shape(norm))
        if decided is None:
            return
        code, conf = decided
        image = _canonical_image(image_of(norm))
        evidence: tuple[str, ...] = ()
        values: tuple[tuple[str, str | None], ...] = ()
        if (code, image) not in self.groups:
            exact = _verdict(message)  # a new group: rank the real text, keep its evidence
            if exact is None:
                return
            code, conf, image, evidence, values = exact
        when = _timestamp(before) if before else _timestamp(text)
        g = self._group(code, image, lambda: Group(
            Code(code), image, first_ts=when, source=self._source, first_line=lineno,
            first_offset=offset, example=norm[:500], confidence=conf, evidence=list(evidence),
            values=dict(values)))
        if g is not None:
            g.count += 1
            g.last_ts, g.last_line, g.last_offset = when, lineno, offset

    def _group(self, code: str, image: str, make: Callable[[], Group]) -> Group | None:
        self.failures += 1
        g = self.groups.get((code, image))
        if g is None:
            if len(self.groups) >= MAX_GROUPS:
                self.other_failures += 1
                return None
            g = self.groups[(code, image)] = make()
        return g

    def merge(self, part: Scanner) -> None:
        """Add a later segment of the same source (offsets are the source's; lines are not
        counted in segments, see :mod:`.segments`)."""
        for (code, image), pg in part.groups.items():
            self.failures -= 1  # _group counts one sighting; the real count is added below
            g = self._group(code, image, partial(replace, pg, count=0))
            if g is None:
                self.other_failures += pg.count - 1
                continue
            g.count += pg.count
            g.last_ts, g.last_line, g.last_offset = pg.last_ts, pg.last_line, pg.last_offset
        self.failures += part.failures
        self.other_failures += part.other_failures
        self.bytes += part.bytes

    def report(self, sources: list[str]) -> Report:
        self.finish_source()
        self._end_source()
        order = {key: i for i, key in enumerate(self.groups)}  # first-seen order breaks ties
        groups = sorted(self.groups.values(), key=lambda g: (-g.count, order[(g.code, g.image)]))
        by_code: dict[str, list[Group]] = {}
        for g in groups:
            by_code.setdefault(g.code, []).append(g)
        ranked = sorted(by_code.items(), key=lambda kv: -sum(g.count for g in kv[1]))
        causes = []
        for code, gs in ranked[:10]:
            evidence: list[str] = []
            for g in gs[:3]:
                evidence.extend(e for e in g.evidence if e not in evidence)
            causes.append(Cause.from_catalogue(code, max(g.confidence for g in gs), evidence,
                                               gs[0].values))
        report = Report(command="scan", subject=" ".join(sources), causes=causes, facts={
            "sources": sources, "bytes": self.bytes,
            "failures": self.failures, "groups": len(groups), "engine": engine()[0],
        })
        if self.total_lines is not None:
            report.facts["lines"] = self.total_lines
        report.extra["groups"] = [g.to_dict() for g in groups]
        if self.other_failures:
            report.facts["other_failures"] = self.other_failures
        if not groups:
            size = (f"{self.total_lines} lines" if self.total_lines is not None
                    else f"{self.bytes} bytes")
            report.notes.append(f"no pull failure was recognised in {size}")
        return report


def scan_streams(named: Iterable[tuple[str, Iterable[bytes]]]) -> Report:
    """Scan already-open byte streams (name, chunks); the pure core of :func:`scan`."""
    scanner = Scanner()
    names: list[str] = []
    for name, chunks in named:
        names.append(name)
        scanner.start(name)
        for chunk in chunks:
            scanner.feed(chunk)
    return scanner.report(names)


def scan(sources: list[str]) -> Report:
    """Scan files (``-`` is stdin) for pull failures; a usage error for an unreadable file."""
    if not sources:
        raise UsageError("no log given: pulldoctor scan FILE... (or - to read stdin)")
    from pulldoctor.explain.segments import chunks, scan_file_parallel, workers_wanted

    scanner = Scanner()
    workers = workers_wanted()
    for src in sources:
        scanner.start(src)
        if src == "-":
            for chunk in chunks(sys.stdin.buffer):
                scanner.feed(chunk)
            continue
        try:
            f = open(src, "rb")  # noqa: SIM115 - closed below, after streaming
        except OSError as exc:
            raise UsageError(f"cannot read {src}: {exc.strerror or exc}") from None
        with f:
            size = os.fstat(f.fileno()).st_size
            if workers > 1 and size > SEGMENT and os.path.isfile(src):
                scan_file_parallel(scanner, src, size, workers)
                continue
            for chunk in chunks(f):
                scanner.feed(chunk)
    return scanner.report(list(sources))
