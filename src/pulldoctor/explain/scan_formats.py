"""The log formats ``scan`` reads, told apart from their first bytes, and read as what they are.

* Plain log lines (journalctl ``short``/``short-iso``, klog, logrus, containerd/CRI-O/dockerd
  files): read line by line on scan's fast path; the journal prefix gives the node (the host
  field) and the source (the unit's syslog identifier).
* ``journalctl -o json``: one JSON object per line; ``MESSAGE`` (a byte array when it is not
  UTF-8), ``_HOSTNAME``, ``_SYSTEMD_UNIT``, ``__REALTIME_TIMESTAMP``.
* ``kubectl get events -o json`` / ``-o yaml``: *documents*, indented by default, so a message is
  not one line and its count, times, node and pod are sibling fields. Each event is parsed whole,
  one at a time (memory stays one event), and gives one counted sighting: ``series.count`` or
  ``count``; ``firstTimestamp``/``lastTimestamp`` (``eventTime``, ``series.lastObservedTime`` for
  newer events); ``source.host`` or ``reportingInstance`` as the node; ``involvedObject`` as the pod.
* ``kubectl get events [-A] [-o wide]`` tables: columns found from the header (kubectl's
  tabwriter aligns every row to it); ``LAST SEEN`` reads ``5m (x4 over 20m)``.
"""

from __future__ import annotations

import codecs
import datetime
import json
import re
from collections.abc import Iterable, Iterator
from enum import StrEnum
from typing import Any

from pulldoctor.explain.scan_groups import Sighting

_MAX_DOCUMENT_ITEM = 16 * 1024 * 1024
"""An event larger than this is not an event: the document reader stops there."""


class Format(StrEnum):
    LINES = "lines"
    JOURNAL_JSON = "journal-json"
    EVENTS_JSON = "events-json"
    EVENTS_YAML = "events-yaml"
    EVENTS_TABLE = "events-table"


_YAML_TOP = re.compile(rb"^(?:apiVersion|items|kind|metadata):|^- [a-zA-Z]\w*:", re.MULTILINE)
_TABLE_HEADER = re.compile(r"^(?:NAMESPACE\s{2,})?LAST SEEN\s{2,}TYPE\s{2,}REASON\s{2,}OBJECT\s")


def sniff(head: bytes) -> Format:
    """Which format a source is in, from its first bytes."""
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    first = text.split(b"\n", 1)[0]
    if text.startswith(b"{"):
        if first.rstrip().endswith(b"}") and (b'"MESSAGE"' in first or b"__REALTIME_TIMESTAMP" in first):
            return Format.JOURNAL_JSON
        return Format.EVENTS_JSON
    if _TABLE_HEADER.match(first.decode("utf-8", "replace")):
        return Format.EVENTS_TABLE
    if _YAML_TOP.match(text) and (b"involvedObject" in text or b"kind: Event" in text
                                  or b"reportingComponent" in text or b"regarding:" in text):
        return Format.EVENTS_YAML
    return Format.LINES


def _texts(chunks: Iterable[bytes]) -> Iterator[str]:
    """Chunks decoded as UTF-8, invalid bytes replaced (never split inside a character)."""
    dec = codecs.getincrementaldecoder("utf-8")("replace")
    for chunk in chunks:
        yield dec.decode(chunk)
    yield dec.decode(b"", final=True)


def _lines(chunks: Iterable[bytes]) -> Iterator[str]:
    carry = ""
    for text in _texts(chunks):
        carry += text
        *whole, carry = carry.split("\n")
        yield from whole
    if carry:
        yield carry


# -- kubectl get events -o json ------------------------------------------------------------------

_ITEMS = re.compile(r'"items"\s*:\s*\[')
_DECODER = json.JSONDecoder()


def json_events(chunks: Iterable[bytes]) -> Iterator[dict[str, Any]]:
    """Every event object in a JSON document (a List's items, a single Event, or a stream of
    them as ``--watch`` prints), decoded one at a time."""
    texts = _texts(chunks)
    buf, pos = "", 0

    def more() -> bool:
        nonlocal buf, pos
        nxt = next(texts, None)
        if nxt is None:
            return False
        buf, pos = buf[pos:] + nxt, 0
        return True

    def skip(chars: str) -> bool:
        """Move past ``chars``; False at the end of input."""
        nonlocal pos
        while True:
            while pos < len(buf) and buf[pos] in chars:
                pos += 1
            if pos < len(buf) or not more():
                return pos < len(buf)

    in_items = False
    while skip(" \t\r\n," if in_items else " \t\r\n"):
        if in_items and buf[pos] == "]":
            for _ in texts:  # the List's own fields (kind, metadata) follow: read, not kept
                pass
            return
        if not in_items and buf[pos] == "{":
            while len(buf) - pos < 65536 and more():
                pass
            m = _ITEMS.search(buf, pos, pos + 65536)
            if m and buf.count("{", pos, m.start()) == 1:  # a top-level key: a List
                in_items, pos = True, m.end()
                continue
        try:
            obj, end = _DECODER.raw_decode(buf, pos)
        except json.JSONDecodeError:
            if len(buf) - pos > _MAX_DOCUMENT_ITEM or not more():
                return  # truncated or not JSON: stop, what was read stays read
            continue
        pos = end
        if isinstance(obj, dict) and isinstance(obj.get("items"), list):
            yield from (i for i in obj["items"] if isinstance(i, dict))
        elif isinstance(obj, dict):
            yield obj


# -- kubectl get events -o yaml ------------------------------------------------------------------


def yaml_events(chunks: Iterable[bytes]) -> Iterator[dict[str, Any]]:
    """Every event of a YAML document: the items of a List one by one, or a single Event."""
    import yaml

    loader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    item: list[str] = []
    whole: list[str] = []
    size = 0
    in_items = False

    def load(lines: list[str]) -> Iterator[dict[str, Any]]:
        try:
            doc = yaml.load("\n".join(lines), Loader=loader)
        except yaml.YAMLError:
            return
        for obj in doc if isinstance(doc, list) else [doc]:
            if isinstance(obj, dict):
                yield from (i for i in obj.get("items") or [] if isinstance(i, dict)) \
                    if isinstance(obj.get("items"), list) else [obj]

    for line in _lines(chunks):
        top = bool(line) and not line[0].isspace()
        if in_items and (line.startswith("- ") or line == "-"):
            yield from load(item)
            item = [line]
        elif in_items and not top:
            item.append(line)
            size += len(line)
            if size > _MAX_DOCUMENT_ITEM:
                return
        else:
            if item:
                yield from load(item)
                item, size = [], 0
            if line.startswith("---"):
                yield from load(whole)
                whole = []
            in_items = line.rstrip() == "items:"
            if not in_items and not line.startswith("---") and len(whole) < 100_000:
                whole.append(line)
    yield from load(item)
    if any(w.startswith("kind: Event") for w in whole):
        yield from load(whole)


# -- events -> sightings -------------------------------------------------------------------------


def _time(value: Any) -> str | None:
    if isinstance(value, datetime.datetime):
        return value.isoformat().replace("+00:00", "Z")
    return value if isinstance(value, str) and value else None


def event_sighting(ev: dict[str, Any]) -> Sighting | None:
    """One event (core/v1 or events.k8s.io/v1 shape) as a counted sighting."""
    message = ev.get("message") or ev.get("note")
    if not isinstance(message, str) or not message.strip():
        return None
    series: dict[str, Any] = ev["series"] if isinstance(ev.get("series"), dict) else {}
    count = series.get("count") or ev.get("count") or ev.get("deprecatedCount") or 1
    first = _time(ev.get("firstTimestamp") or ev.get("deprecatedFirstTimestamp")
                  or ev.get("eventTime"))
    last = _time(series.get("lastObservedTime") or ev.get("lastTimestamp")
                 or ev.get("deprecatedLastTimestamp") or ev.get("eventTime")) or first
    first = first or last
    src_v = ev.get("source") or ev.get("deprecatedSource")
    src: dict[str, Any] = src_v if isinstance(src_v, dict) else {}
    obj_v = ev.get("involvedObject") or ev.get("regarding")
    obj: dict[str, Any] = obj_v if isinstance(obj_v, dict) else {}
    meta: dict[str, Any] = ev["metadata"] if isinstance(ev.get("metadata"), dict) else {}
    name, kind = obj.get("name"), obj.get("kind")
    pod = None if not isinstance(name, str) else (name if kind in (None, "Pod") else f"{kind}/{name}")
    node = src.get("host") or ev.get("reportingInstance")
    return Sighting(
        message=message, count=count if isinstance(count, int) and count > 0 else 1,
        first=first, last=last, node=node if isinstance(node, str) and node else None, pod=pod,
        namespace=obj.get("namespace") or meta.get("namespace"),
        source=src.get("component") or ev.get("reportingComponent") or ev.get("reportingController")
        or "events")


# -- kubectl get events (table) ------------------------------------------------------------------

_COLUMN = re.compile(r"\S+(?: \S+)*")
_LAST_SEEN = re.compile(r"^(?P<last>\S+)(?: \(x(?P<n>\d{1,9}) over (?P<first>\S+)\))?$")


def table_sightings(chunks: Iterable[bytes]) -> Iterator[tuple[Sighting, int]]:
    """(sighting, line number) for every row of ``kubectl get events`` tables."""
    columns: list[tuple[str, int]] = []
    for n, line in enumerate(_lines(chunks), 1):
        if _TABLE_HEADER.match(line):
            columns = [(m.group(0), m.start()) for m in _COLUMN.finditer(line)]
            continue
        if not columns or not line.strip():
            continue
        cells = {name: line[start:(columns[i + 1][1] if i + 1 < len(columns) else None)].strip()
                 for i, (name, start) in enumerate(columns)}
        message = cells.get("MESSAGE", "")
        if not message:
            continue
        seen = _LAST_SEEN.match(cells.get("LAST SEEN", ""))
        count = int(seen.group("n")) if seen and seen.group("n") else 1
        if cells.get("COUNT", "").isdigit():
            count = int(cells["COUNT"])
        first = cells.get("FIRST SEEN") or (seen.group("first") if seen else None)
        last = seen.group("last") if seen else None
        source = cells.get("SOURCE", "")
        obj = cells.get("OBJECT", "")
        yield (Sighting(
            message=message, count=max(1, count),
            first=f"{first} ago" if first else None, last=f"{last} ago" if last else None,
            node=source.split(", ", 1)[1] if ", " in source else None,
            pod=obj.split("/", 1)[1] if obj.startswith("pod/") else (obj or None),
            namespace=cells.get("NAMESPACE") or None,
            source=source.split(", ", 1)[0] if source else "events"), n)


# -- journal lines -------------------------------------------------------------------------------

_PREFIX = re.compile(
    r"^(?:[A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d(?:\.\d+)?|\d{4}-\d\d-\d\dT[\d:.,]+(?:Z|[+-][\d:]+)?)"
    r" (?P<host>[^\s\[\]]{1,64}) (?P<unit>[\w./@-]{1,64}?)(?:\[\d{1,10}\])?: "
)


def journal_prefix(line: str) -> tuple[str | None, str | None]:
    """(node, unit) from a journalctl ``short``/``short-iso`` prefix; (None, None) without one."""
    m = _PREFIX.match(line)
    return (m.group("host"), m.group("unit")) if m else (None, None)


def journal_json(line: str) -> tuple[str, str | None, str | None, str | None] | None:
    """(message, timestamp, node, unit) of one ``journalctl -o json`` line."""
    try:
        rec = json.loads(line)
    except ValueError:
        return None
    if not isinstance(rec, dict):
        return None
    msg = rec.get("MESSAGE")
    if isinstance(msg, list):  # journald stores non-UTF-8 messages as byte arrays
        msg = bytes(b for b in msg if isinstance(b, int) and 0 <= b < 256).decode("utf-8", "replace")
    if not isinstance(msg, str):
        return None
    ts = None
    us = rec.get("__REALTIME_TIMESTAMP")
    if isinstance(us, str) and us.isdigit():
        ts = datetime.datetime.fromtimestamp(int(us) / 1e6, datetime.UTC).isoformat(
            timespec="seconds").replace("+00:00", "Z")
    unit = rec.get("_SYSTEMD_UNIT") or rec.get("SYSLOG_IDENTIFIER")
    host = rec.get("_HOSTNAME")
    return (msg, ts, host if isinstance(host, str) else None,
            unit.removesuffix(".service") if isinstance(unit, str) else None)
