"""Skip a regex cheaply when the literal words it needs are not in the text.

Python's ``re`` tries a pattern that starts with ``\\b`` or an alternation at every position, which
costs ~0.2 µs per character: for 60 rules on a 500-character line that is most of ``explain``'s
time, and ``scan`` runs it on thousands of lines. Most rules need one of a few fixed words (``denied:``,
``403 Forbidden``...), and ``word in text`` runs at memory speed. :func:`needles` reads those words
out of the pattern source itself (one per top-level alternative), so a rule can never be gated by a
word it does not require; when any alternative has no safe word, the pattern is not gated at all.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

_META = set(".^$*+?{}[]()|\\")
_ESCAPED_LITERAL = set(".^$*+?{}[]()|\\\"'/-:;,=<>!@#%&~ ")
_MIN_NEEDLE = 3


def _split_top(pattern: str) -> list[str] | None:
    """Top-level ``|`` alternatives of ``pattern``; None if the pattern uses inline flags."""
    if pattern.startswith("(?") and pattern[2:3] in ("i", "m", "s", "x", "a", "u", "L"):
        return None
    parts, depth, cur, i = [], 0, [], 0
    while i < len(pattern):
        c = pattern[i]
        if c == "\\":
            cur.append(pattern[i:i + 2])
            i += 2
            continue
        if c == "[":
            j = _class_end(pattern, i)
            cur.append(pattern[i:j])
            i = j
            continue
        if c == "(":
            depth += 1
        elif c == ")":
            depth -= 1
        elif c == "|" and depth == 0:
            parts.append("".join(cur))
            cur = []
            i += 1
            continue
        cur.append(c)
        i += 1
    parts.append("".join(cur))
    return parts


def _class_end(p: str, i: int) -> int:
    j = i + 1
    if j < len(p) and p[j] == "^":
        j += 1
    if j < len(p) and p[j] == "]":
        j += 1
    while j < len(p) and p[j] != "]":
        j += 2 if p[j] == "\\" else 1
    return j + 1


def _runs(alt: str) -> Iterator[str]:
    """Literal runs that every match of the alternative ``alt`` must contain."""
    run: list[str] = []
    i = 0
    while i < len(alt):
        c = alt[i]
        if c == "\\" and i + 1 < len(alt):
            nxt = alt[i + 1]
            if nxt in _ESCAPED_LITERAL:
                run.append(nxt)
                i += 2
                continue
            yield "".join(run)
            run = []
            i += 2
            continue
        if c in "?*" or (c == "{" and alt[i + 1:i + 2] == "0"):
            if run:
                run.pop()  # the preceding character is optional
            yield "".join(run)
            run = []
            if c == "{":
                i = alt.find("}", i) + 1 or len(alt)
            else:
                i += 1
            continue
        if c == "+" or c == "{":
            yield "".join(run)
            run = []
            i = (alt.find("}", i) + 1 or len(alt)) if c == "{" else i + 1
            continue
        if c == "(":
            yield "".join(run)
            run = []
            depth, j = 0, i
            while j < len(alt):
                if alt[j] == "\\":
                    j += 2
                    continue
                if alt[j] == "[":
                    j = _class_end(alt, j)
                    continue
                depth += alt[j] == "("
                depth -= alt[j] == ")"
                j += 1
                if depth == 0:
                    break
            i = j
            if alt[i:i + 1] in ("?", "*", "+", "{"):
                if alt[i] == "{":
                    i = alt.find("}", i) + 1 or len(alt)
                else:
                    i += 1
            continue
        if c == "[":
            yield "".join(run)
            run = []
            i = _class_end(alt, i)
            continue
        if c in _META:
            yield "".join(run)
            run = []
            i += 1
            continue
        run.append(c)
        i += 1
    yield "".join(run)


def needles(pattern: str) -> tuple[str, ...] | None:
    """One required word per alternative, or None when some alternative has none."""
    alts = _split_top(pattern)
    if alts is None:
        return None
    out: list[str] = []
    for alt in alts:
        best = max(_runs(alt), key=len, default="")
        # a quantifier right after a run may make its last char optional; pop() handled that
        if len(best) < _MIN_NEEDLE:
            return None
        out.append(best)
    return tuple(dict.fromkeys(out))


class Gated:
    """A compiled pattern that is only run when one of its needles is in the text."""

    __slots__ = ("needles", "pattern")

    def __init__(self, pattern: str | re.Pattern[str], flags: int = 0,
                 needles: tuple[str, ...] | None = None) -> None:
        self.pattern = pattern if isinstance(pattern, re.Pattern) else re.compile(pattern, flags)
        if needles is not None:  # given by hand for a pattern the parser cannot read
            self.needles: tuple[str, ...] | None = needles
        elif self.pattern.flags & re.IGNORECASE:
            self.needles = None
        else:
            self.needles = globals()["needles"](self.pattern.pattern)

    def possible(self, text: str) -> bool:
        return self.needles is None or any(n in text for n in self.needles)

    def search(self, text: str) -> re.Match[str] | None:
        return self.pattern.search(text) if self.possible(text) else None

    def finditer(self, text: str) -> Iterator[re.Match[str]]:
        if self.possible(text):
            yield from self.pattern.finditer(text)
