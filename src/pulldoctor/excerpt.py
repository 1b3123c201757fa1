"""Cutting long texts for display without breaking what a reader copies: never inside a URL.

Shared by ``scan`` (the sample line of a group) and the renderers (the table's short sample).
"""

from __future__ import annotations

import re

_URL = re.compile(r"https?://[^\s\"'<>\\]{1,2048}")


def excerpt(text: str, limit: int, around: str = "") -> str:
    """``text`` on one line, cut to about ``limit`` characters around ``around`` (the evidence),
    with ``…`` where it was cut. A cut that would fall inside a URL moves to the URL's edge, so
    an excerpt carries whole URLs or none of one."""
    flat = " ".join(text.split())
    if len(flat) <= limit:
        return flat
    at = flat.find(around) if around else -1
    start = 0 if at < 0 else max(0, min(at - limit // 3, len(flat) - limit))
    end = min(len(flat), start + limit)
    for m in _URL.finditer(flat):
        if m.start() < start < m.end():
            start = m.start()
        if m.start() < end < m.end():
            end = m.end() if m.end() - start <= limit * 2 else m.start()
    end = max(end, start)
    return ("…" if start else "") + flat[start:end].strip() + ("…" if end < len(flat) else "")
