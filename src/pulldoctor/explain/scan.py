"""``scan``: find and group every pull failure in whole logs, in constant memory.

Logs are large (a node's journal is gigabytes) and pull failures are rare in them, so the cost is in
*not* looking at the other lines. The file is read in binary chunks; the trigger words are located
without any regex (:mod:`.triggers`); only the lines holding one are decoded, filtered by a second
cheap regex for failure wording, and only those reach the explainer's rules, once per message
*shape* (a failure repeated with other ports, times or ids is one cache hit). Memory is one chunk plus
the groups, whatever the input size; a line with no newline for megabytes is cut into windows
around its trigger words instead of being buffered. Event documents (``kubectl get events -o
json|yaml``, the events table) are read as documents, one event at a time (:mod:`.scan_formats`).

Failures are grouped by (cause, image, registry, node) (:mod:`.scan_groups`); files are driven by
:mod:`.scan_files`, large ones in parallel segments (:mod:`.segments`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from functools import lru_cache

from pulldoctor.causes import Code
from pulldoctor.explain import rules
from pulldoctor.explain.facts import extract, image_of
from pulldoctor.explain.normalize import normalize, strip_prefixes
from pulldoctor.explain.scan_formats import (
    Format,
    event_sighting,
    journal_json,
    journal_prefix,
    json_events,
    sniff,
    table_sightings,
    yaml_events,
)
from pulldoctor.explain.scan_groups import (
    Group,
    Sighting,
    build_report,
    canonical_image,
    sample_line,
)
from pulldoctor.explain.triggers import MAX_LINE, candidate_spans, engine
from pulldoctor.model import Report

CHUNK = 4 * 1024 * 1024
SEGMENT = 32 * 1024 * 1024
"""Files larger than this are scanned in segments of this size, in parallel."""
_MAX_GROUPS = 10_000
"""Distinct groups kept; failures beyond them are counted under ``other_failures``."""

_FAILURE = re.compile(
    r"rror|[Ff]ail|denied|nauthorized|timeout|timed out|refused|reset|EOF|not found|unknown|"
    r"toomanyrequests|BackOff|no space|invalid|x509|no such host|misbehaving|unreachable|"
    r"no route|exceeded|429|50[0-4]|certificate|rejected|[Ss]ignature|cannot be used|"
    r"does not match|incompatible|[Cc]redentials|canceled|not present|no signatures|no match|"
    r"fatal|FATA|ERRO|unavailable|Killed|not known|nsupported|should be|mismatch|authorized|"
    r"no image found|unknown type|nexpected|GOAWAY|Request Time|no progress|not match|"
    r"Not continuing|DEPRECATION|Too Many|[Dd]isabled|forcibly|aborted by|[Pp]ermission|"
    r"NoCredentialProviders|no valid providers|no data of the requested|temporary error|"
    r"cannot authenticate|expired|Authorization(?:Token|Data)|IMDS|nimplemented|required platforms|"
    r"http2: |idle connection|not support|o space|ENOSPC|enough space|disk is full|free data blocks|"
    r"trust data|enough IDs|[Nn]ot [Ff]ound|uthentication (?:is )?required|no such file|"
    r"no registries configured|may require|[Cc]annot pull|don't match|"
    # the non-Go stacks and the tools around the runtimes (rules_stacks.py, rules_tools.py)
    r"Unknown host|ENOTFOUND|EAI_AGAIN|ECONN|TIMEDOUT|UNREACH|hang up|Exception|perhaps you should|"
    r"Checksum|Could not|Unable|elf[- ]signed|SELF_SIGNED|UNABLE_TO|CERT_|wrong version|"
    r"unrecognized SSL|Remote host|RemoteDisconnected|IncompleteRead|aborted|Hostname mismatch|"
    r"altnames|subject alternative|validity check|schemaVersion=1|were not sent|has nothing for|"
    r"does not have|returned [45]\d\d|\[http [45]\d\d\]|No route|[Uu]nreachable|SSL_ERROR|"
    # schedulers and builders (rules_platforms.py)
    r"inactivity|does not exist in the library|can.t pull|protocol to oras|missing \w{1,12} auth data|"
    # updaters and CI runners (rules_apps.py): watchtower's digest check, GitLab Runner's policies
    r"no credentials available|did not include all values|pinned image|has no tag|"
    r"allowed_pull_policies|AllowedPullPolicies|no longer supported|not implemented"
)
_LOGFMT_HEAD = re.compile(r'^time="[^"\n]{1,40}" level=\w{1,10} (?:msg=)?')
"""logrus's own fields before the message: not part of the failure a sample shows."""
_BYTE_MESSAGE = re.compile(rb'"MESSAGE"\s{0,3}:\s{0,3}\[')
"""journald writes a message that is not UTF-8 as an array of byte values (no word to find)."""
_COMMAND = re.compile(rb"\b(?:docker|podman|nerdctl|crictl|buildah|skopeo|crane|ctr|container image|oras|regctl image)"
                      rb"(?: -n[ =]?\S{1,40})?(?: images?)? (?:pull|from|copy) \S")
"""A pasted command line (tests/corpus has transcripts): kept for the next few lines' output."""
_PROXY_SHOWN = re.compile(rb"(?i:\b(?:https?|all)_proxy)\s{0,3}[=:]\s{0,3}\\?[\"']?(?:https?|socks5h?)://|"
                          rb"(?i:echo \$\{?(?:https?|all)_proxy)")
"""A pasted proxy setting (``HTTPS_PROXY=...``, ``echo $https_proxy``): kept like a command, since
explain reads a direct dial after it as a proxy the pulling process lacks."""
_COMMAND_REACH = 4096
"""Bytes after a command line within which an output line is read together with it."""
_FAILURE_B = re.compile(_FAILURE.pattern.encode())
_TIMESTAMP = re.compile(
    r"^(?:[IWEF](?P<klog>\d{4} \d\d:\d\d:\d\d)|(?P<iso>\d{4}-\d\d-\d\d[T ]\d\d:\d\d:\d\d(?:\.\d+)?"
    r"(?:Z|[+-]\d\d:?\d\d)?)|(?P<syslog>[A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d)|"
    r"time=\"(?P<logrus>[^\"]{1,40})\")"
)
_INNER_TS = re.compile(r"time=\"(?P<t>[^\"]{1,40})\"|\"(?:lastTimestamp|time)\": ?\"(?P<j>[^\"]{1,40})\"")
_SHAPE = re.compile(
    r"(?P<ip>\d{1,3}(?:\.\d{1,3}){3})|\d\d:\d\d:\d\d(?:[.,]\d{1,9})?|[0-9a-f]{12,}|\d{4,}")
"""What varies between repeats of one failure: addresses, clock times, ids, ports, pids."""
_ADDRESS_CLASSES = ((re.compile(r"127\."), "127.0.0.1"), (re.compile(r"0\.0\.0\.0$"), "0.0.0.0"),
                    (re.compile(r"10\."), "10.0.0.0"), (re.compile(r"192\.168\."), "192.168.0.0"),
                    (re.compile(r"172\.(?:1[6-9]|2\d|3[01])\."), "172.16.0.0"))
"""An address is blanked to its class, not erased: loopback, unspecified, private and public
addresses mean different things to the rules (a refusal from a public registry's front, from a
local service, from 0.0.0.0)."""


def _blank(m: re.Match[str]) -> str:
    ip = m.group("ip")
    if ip is None:
        return "0"
    return next((rep for rx, rep in _ADDRESS_CLASSES if rx.match(ip)), "1.0.0.0")

_Decision = tuple[Code, float, bool]


def shape(text: str) -> str:
    """``text`` with its per-occurrence details blanked; repeats of one failure share a shape.

    Status codes (3 digits), ``attempts=6``, well-known ports (``:53``, ``:443``) and the class of
    an address survive, so every rule sees what it needs; tests check the top cause never changes on the corpus.
    """
    return _SHAPE.sub(_blank, text)


@lru_cache(maxsize=4096)
def _decision(text_shape: str) -> _Decision | None:
    """Top cause of a message shape: a repeat of a failure costs one cache hit, not every rule."""
    r = rules.ranked(text_shape)
    if not r.candidates:
        return None
    return r.candidates[0].code, round(r.candidates[0].confidence, 2), r.inferred


def _timestamp(line: str) -> str | None:
    m = _TIMESTAMP.match(line)
    if m:
        if m.group("klog"):  # "1129 09:59:02": klog's month and day, no year
            k = m.group("klog")
            return f"{k[:2]}-{k[2:4]} {k[5:]}"
        return next(g for g in m.groups() if g)
    found = None
    for m2 in _INNER_TS.finditer(line):  # the last one: nearest to the message it stamps
        found = m2.group("t") or m2.group("j")
    return found


class Scanner:
    """Feed bytes in any chunking; keeps only the carry-over partial line and the groups."""

    def __init__(self, source: str = "", *, count_lines: bool = True, offset: int = 0,
                 fmt: Format = Format.LINES) -> None:
        self.groups: dict[tuple[str, str, str, str], Group] = {}
        self.other_failures = 0
        self.lines = 0  # lines of the current source so far (when counting)
        self.total_lines: int | None = 0  # finished sources; None once one was not counted
        self.bytes = 0
        self.count_lines = count_lines
        self.fmt = fmt
        self._pos = offset  # byte offset, in the current source, of the next byte fed
        self._carry = b""
        self._last = b""  # last byte fed for the current source: is a line still open?
        self._source = source
        self._command: tuple[int, str] | None = None  # (end offset, text) of a pasted command
        self._proxy: tuple[int, str] | None = None  # (end offset, text) of a pasted proxy setting

    def start(self, source: str, fmt: Format = Format.LINES) -> None:
        self.finish_source()
        self._end_source()
        self._source = source
        self.count_lines = True
        self.fmt = fmt
        self._command = self._proxy = None

    def _end_source(self) -> None:
        if self.total_lines is not None:
            self.total_lines = self.total_lines + self.lines if self.count_lines else None
        self.lines, self._pos = 0, 0

    # -- documents (kubectl events) --------------------------------------------------------------

    def read_document(self, chunks: Iterable[bytes]) -> None:
        """Read a whole event document (``self.fmt`` says which kind), one event at a time."""
        counted = self._counting(chunks)
        if self.fmt == Format.EVENTS_TABLE:
            self.count_lines = False
            for s, line in table_sightings(counted):
                s.line = line
                self._consider(s, ordered=False)
            return
        events = json_events(counted) if self.fmt == Format.EVENTS_JSON else yaml_events(counted)
        self.count_lines = False  # a document's lines are not log lines
        for ev in events:
            sighting = event_sighting(ev)
            if sighting is not None:
                self._consider(sighting, ordered=True)

    def _counting(self, chunks: Iterable[bytes]) -> Iterable[bytes]:
        for chunk in chunks:
            self.bytes += len(chunk)
            yield chunk

    def _consider(self, s: Sighting, ordered: bool) -> None:
        if _FAILURE.search(s.message):
            self.add(s, ordered)

    # -- lines ----------------------------------------------------------------------------------

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
        spans = candidate_spans(view, lo, hi)
        if self.fmt == Format.JOURNAL_JSON and _BYTE_MESSAGE.search(view, lo, hi):
            spans = _with_byte_messages(view, lo, hi, spans)  # no trigger word can be found there
        for s, e in spans:
            if count:
                line += view.count(b"\n", pos, s)
                pos = s
            raw = view[s:e]
            if (b" pull " in raw or b" from " in raw or b" copy " in raw) and _COMMAND.search(raw):
                self._command = (base + e, raw.decode("utf-8", errors="replace").strip())
            if (b"_proxy" in raw or b"_PROXY" in raw) and _PROXY_SHOWN.search(raw):
                self._proxy = (base + e, raw.decode("utf-8", errors="replace").strip())
            if _FAILURE_B.search(raw) or (self.fmt == Format.JOURNAL_JSON
                                          and _BYTE_MESSAGE.search(raw)):
                self._record(raw.decode("utf-8", errors="replace"), line + 1 if count else None,
                             base + s)
        if count:
            self.lines = line + view.count(b"\n", pos, hi)

    def _record(self, text: str, lineno: int | None, offset: int) -> None:
        if self.fmt == Format.JOURNAL_JSON:
            rec = journal_json(text)
            if rec is None:
                return
            message, when, node, unit = rec
            if not _FAILURE.search(message):
                return
        else:
            text = text.strip()
            node, unit = journal_prefix(text)
            message, when = text, _timestamp(text)
        self.add(Sighting(strip_prefixes(message.strip())[:MAX_LINE], first=when, node=node,
                          source=unit or self._source, line=lineno, offset=offset), ordered=False)

    # -- grouping -------------------------------------------------------------------------------

    def add(self, s: Sighting, ordered: bool) -> None:
        """Rank one failure message and count it in its group."""
        norm = normalize(s.message)
        decided = _decision(shape(norm))
        ctx = "\n".join(t[1] for t in (self._proxy, self._command)
                        if t and 0 <= s.offset - t[0] <= _COMMAND_REACH)
        if ctx:
            # the output of a pasted command: read with the command (and a proxy setting pasted
            # before it), as explain reads the paste (the command names the image, which some
            # readings depend on)
            with_cmd = normalize(ctx + "\n" + s.message)
            better = _decision(shape(with_cmd))
            if better is not None and (decided is None or decided[2] or not better[2]):
                norm, decided = with_cmd, better
        if decided is None:
            return
        image, registry = canonical_image(image_of(norm))
        node = s.node or "-"
        g = self.groups.get((decided[0], image, registry, node))
        if g is None:
            g = self._new_group(norm, node, s)
            if g is None:
                return
        g.seen(s, ordered)

    def _new_group(self, norm: str, node: str, s: Sighting) -> Group | None:
        """A first sighting: rank the real text (not its shape) and keep its evidence."""
        ranking = rules.ranked(norm)
        if not ranking.candidates:
            return None
        top = ranking.candidates[0]
        facts = extract(norm)
        image, registry = canonical_image(facts.get("image"))
        if registry == "-" and facts.get("host"):
            registry = str(facts["host"])
        key = (top.code, image, registry, node)
        if key in self.groups:
            return self.groups[key]
        if len(self.groups) >= _MAX_GROUPS:
            self.other_failures += s.count
            return None
        g = self.groups[key] = Group(
            top.code, image, registry, node, source=self._source,
            sample=sample_line(_LOGFMT_HEAD.sub("", norm), top.evidence[0] if top.evidence else ""),
            confidence=round(top.confidence, 2), inferred=ranking.inferred,
            candidates=[(c.code, round(c.confidence, 2)) for c in ranking.candidates[:3]],
            evidence=list(top.evidence),
            values={k: facts.get(k) for k in ("image", "host", "resolver")})
        return g

    def merge(self, part: Scanner) -> None:
        """Add a later segment of the same source (offsets are the source's; lines are not
        counted in segments, see :mod:`.segments`)."""
        for key, pg in part.groups.items():
            g = self.groups.get(key)
            if g is not None:
                g.merge(pg)
            elif len(self.groups) < _MAX_GROUPS:
                self.groups[key] = pg
            else:
                self.other_failures += pg.count
        self.other_failures += part.other_failures
        self.bytes += part.bytes

    def report(self, sources: list[str]) -> Report:
        self.finish_source()
        self._end_source()
        facts: dict[str, object] = {"bytes": self.bytes, "engine": engine()[0]}
        if self.total_lines is not None:
            facts["lines"] = self.total_lines
        report = build_report(list(self.groups.values()), sources, facts, self.other_failures)
        if not report.extra["groups"]:
            size = (f"{self.total_lines} lines" if self.total_lines is not None
                    else f"{self.bytes} bytes")
            report.notes.append(f"no pull failure was recognised in {size}")
        return report


def _with_byte_messages(view: bytes, lo: int, hi: int,
                        spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Add the journal-json lines whose MESSAGE is a byte array (not UTF-8) to ``spans``."""
    extra = []
    for m in _BYTE_MESSAGE.finditer(view, lo, hi):
        s = view.rfind(b"\n", lo, m.start()) + 1 or lo
        e = view.find(b"\n", m.start(), hi)
        extra.append((s, hi if e == -1 else e))
    merged = sorted(set(spans) | set(extra))
    out: list[tuple[int, int]] = []
    for s, e in merged:
        if out and s < out[-1][1]:
            continue
        out.append((s, e))
    return out


def scan_streams(named: Iterable[tuple[str, Iterable[bytes]]]) -> Report:
    """Scan already-open byte streams (name, chunks), each in the format its first bytes show."""
    scanner = Scanner()
    names: list[str] = []
    for name, chunks in named:
        names.append(name)
        first, it = head(chunks)
        fmt = sniff(first)
        scanner.start(name, fmt)
        if fmt in (Format.LINES, Format.JOURNAL_JSON):
            scanner.feed(first)
            for chunk in it:
                scanner.feed(chunk)
        else:
            scanner.read_document(_prepend(first, it))
    return scanner.report(names)


_SNIFF = 8192
"""Bytes a source's format is told from (however small its chunks are)."""


def head(chunks: Iterable[bytes]) -> tuple[bytes, Iterator[bytes]]:
    """The first ``_SNIFF`` bytes (or all, if fewer) and an iterator over the rest."""
    it = iter(chunks)
    parts: list[bytes] = []
    size = 0
    while size < _SNIFF:
        chunk = next(it, None)
        if chunk is None:
            break
        parts.append(chunk)
        size += len(chunk)
    return b"".join(parts), it


def _prepend(first: bytes, rest: Iterable[bytes]) -> Iterator[bytes]:
    yield first
    yield from rest
