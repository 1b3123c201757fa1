"""Turn a pasted error text into the plain message the runtime produced.

People paste errors the way they found them: inside JSON (``{"message":"Get \\"https://...\\""}``),
inside logrus ``msg="..."`` fields, behind journalctl or klog prefixes, or as a whole
``kubectl describe`` dump. The rules in :mod:`pulldoctor.explain.rules` are written against the
runtime's own wording, so every layer of quoting and every log prefix is peeled off here first.

Everything here is linear-time string work, and :func:`bounded` caps how much text the heavier
regexes ever see: a 10 MB single line is cut down to windows around the words that matter, so no
input can make a regex backtrack for long.
"""

from __future__ import annotations

import itertools
import re

MAX_TEXT = 64 * 1024
"""Texts longer than this are reduced to windows around trigger words before any rule runs."""

WINDOW = 2048
"""Characters kept on each side of a trigger word when a text is reduced."""

MAX_WINDOWS = 32

# journalctl short format: "Nov 29 09:59:02 host dockerd[812]: "
_JOURNAL = re.compile(
    r"^(?:[A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d(?:\.\d+)?|\d{4}-\d\d-\d\dT[\d:.]+(?:Z|[+-][\d:]+)?)"
    r" \S{1,64} [\w./@-]{1,64}(?:\[\d{1,10}\])?: ",
    re.MULTILINE,
)
# klog: "E1129 09:59:02.123456    1234 kuberuntime_image.go:53] "
_KLOG = re.compile(r"^[IWEF]\d{4} \d\d:\d\d:\d\d\.\d{1,9}\s{1,20}\d{1,10} [\w.-]{1,80}:\d{1,6}\] ", re.MULTILINE)
# a bare ISO timestamp at line start (containerd/CRI-O/docker --log-format=text)
_ISO = re.compile(r"^\d{4}-\d\d-\d\d[T ]\d\d:\d\d:\d\d(?:\.\d{1,9})?(?:Z|[+-]\d\d:?\d\d)? ", re.MULTILINE)

# \x15 etc. are kept literally by Go's %q; only the quoting escapes are undone.
_ESCAPES = {'\\"': '"', "\\n": "\n", "\\t": "\t", "\\\\": "\\", "\\u003c": "<", "\\u003e": ">",
            "\\u0026": "&", "\\/": "/"}
_ESCAPE_RE = re.compile(r'\\\\|\\"|\\n(?![0-9a-fA-F]{2})|\\t|\\u003[ce]|\\u0026|\\/')

_TRIGGERS = (
    "pull", "Pull", "x509", "lookup ", "timeout", "timed out", "refused", "reset by peer", "EOF",
    "toomanyrequests", "denied", "nauthorized", "not found", "unknown", "no space left",
    "invalid reference", "failed to", "proxyconnect", "HTTP response", "deadline", "no route",
    "unreachable", "manifest", "digest", "rror", "misbehaving", "no such host", "certificate",
    "Forbidden", "429", "Status",
)
"""Words around which a huge text is kept; found with ``str.find`` (no regex on huge input)."""
_HITS_PER_WORD = 64

_PLACEHOLDER = re.compile(r"<([A-Za-z][\w .-]{0,38}[\w.])>")
_PLACEHOLDER_WORDS = re.compile(r"(?i)\bip\b|addr|host|port|redact|remov|hidden|mask|server|"
                                r"registry|dns|proxy|domain|node")

_ANSI = re.compile(r"\x1b\[[0-9;?]{0,20}[A-Za-z]")
"""Terminal colour and cursor codes (docker compose, BuildKit and podman colour their errors)."""
_ENTITIES = {"&quot;": '"', "&#34;": '"', "&#39;": "'", "&#x27;": "'", "&lt;": "<", "&gt;": ">",
             "&amp;": "&"}
_ENTITY_RE = re.compile("|".join(_ENTITIES))
"""HTML entities left by a paste from a web page (an issue tracker, a CI system's log view)."""
_QUOTE_MARK = re.compile(r"^[ \t]{0,3}>[ \t]?", re.MULTILINE)
"""Markdown's quote marker at line start (e-mail and issue replies quote the error this way)."""
_CODE_EDGE = re.compile(r"^[ \t]{0,3}`{1,3}|`{1,3}[ \t]*$|\*\*", re.MULTILINE)
"""Markdown code ticks at a line's edges and bold markers around a pasted error."""
_MIN_WRAP = 60


def _unwrap(text: str) -> str:
    """Join lines a terminal or a mailer hard-wrapped at a fixed width.

    Such a paste has several lines of exactly the same length (the width), none longer, each
    continued on the next line -- somewhere in the middle of a word or a URL (with only two such
    lines, both breaks must fall inside a word); a line of that length is joined to the next one as
    it was printed. Other texts are left alone.
    """
    lines = text.split("\n")
    if len(lines) < 3:
        return text
    width = max(len(line) for line in lines)
    full = [i for i, line in enumerate(lines[:-1]) if len(line) == width]
    mid_word = [i for i in full if lines[i][-1:].isalnum() and lines[i + 1][:1].isalnum()]
    if width < _MIN_WRAP or len(full) < 2 or not mid_word or (
            len(full) < 3 and any(lines[i][-1:].isspace() or lines[i + 1][:1].isspace()
                                  for i in full)):
        return text
    out = [lines[0]]
    for prev, line in itertools.pairwise(lines):
        if len(prev) == width:
            out[-1] += line
        else:
            out.append(line)
    return "\n".join(out)


def _plain(text: str) -> str:
    """What a paste added around the runtime's words: colours, entities, markdown, hard wraps."""
    if "\x1b" in text:
        text = _ANSI.sub("", text)
    if "&" in text:
        text = _ENTITY_RE.sub(lambda m: _ENTITIES[m.group(0)], text)
    if "\u00a0" in text or "\u202f" in text:
        text = text.replace("\u00a0", " ").replace("\u202f", " ")
    if ">" in text:
        text = _QUOTE_MARK.sub("", text)
    if "`" in text or "**" in text:
        text = _CODE_EDGE.sub("", text)
    return _unwrap(text)


def _unescape(text: str) -> str:
    """Undo JSON / Go ``%q`` quoting, repeatedly (texts are often quoted twice)."""
    for _ in range(3):
        if "\\" not in text:
            break
        new = _ESCAPE_RE.sub(lambda m: _ESCAPES.get(m.group(0), m.group(0)), text)
        if new == text:
            break
        text = new
    return text


def _join_placeholders(text: str) -> str:
    """``<IP ADDRESS REMOVED>`` -> ``<IP_ADDRESS_REMOVED>``: one token where Go printed an address.

    People redact addresses with words in angle brackets before pasting; joined, the placeholder
    reads as the address it replaced (the rules accept it where an address goes).
    """
    if "<" not in text:
        return text

    def join(m: re.Match[str]) -> str:
        inner = m.group(1)
        if " " not in inner or not _PLACEHOLDER_WORDS.search(inner):
            return m.group(0)
        return "<" + inner.replace(" ", "_") + ">"

    return _PLACEHOLDER.sub(join, text)


def strip_prefixes(text: str) -> str:
    """Remove journalctl, klog and timestamp prefixes at the start of each line."""
    text = _JOURNAL.sub("", text)
    text = _KLOG.sub("", text)
    return _ISO.sub("", text)


def bounded(text: str) -> str:
    """Return ``text``, or for a huge text only the windows around its trigger words.

    This is the backtracking guard: rules never see more than about ``MAX_WINDOWS * 4 * WINDOW``
    characters, whatever was pasted.
    """
    if len(text) <= MAX_TEXT:
        return text
    hits: list[tuple[int, int]] = []
    for word in _TRIGGERS:
        i, n = text.find(word), 0
        while i != -1 and n < _HITS_PER_WORD:
            hits.append((i, i + len(word)))
            i, n = text.find(word, i + len(word)), n + 1
    spans: list[tuple[int, int]] = []
    for hs, he in sorted(hits):
        start, end = max(0, hs - WINDOW), min(len(text), he + WINDOW)
        if spans and start <= spans[-1][1]:
            spans[-1] = (spans[-1][0], min(end, spans[-1][0] + 4 * WINDOW))
        else:
            if len(spans) >= MAX_WINDOWS:
                break
            spans.append((start, end))
    return "\n".join(text[a:b] for a, b in spans)


def normalize(text: str) -> str:
    """The message as the runtime printed it: bounded, unquoted, without log prefixes."""
    text = bounded(text.replace("\r\n", "\n").replace("\x00", ""))
    return _join_placeholders(strip_prefixes(_unescape(_plain(text))))
