"""Text that is always valid UTF-8, wherever it entered.

Arguments reach Python with undecodable bytes as lone surrogates (``surrogateescape``), and a lone
surrogate cannot be encoded: JSON with one is not UTF-8, and writing it raises. Every place input
enters (arguments, stdin, file names shown in reports) and every renderer's final text goes through
:func:`valid_utf8`, which turns each undecodable byte into U+FFFD.
"""

from __future__ import annotations


def valid_utf8(text: str) -> str:
    """``text`` with every lone surrogate (an undecodable byte) replaced by U+FFFD."""
    try:
        text.encode("utf-8")
        return text
    except UnicodeEncodeError:
        pass
    try:
        raw = text.encode("utf-8", "surrogateescape")  # the original bytes, where they came from
    except UnicodeEncodeError:
        raw = text.encode("utf-8", "replace")  # surrogates that were never bytes
    return raw.decode("utf-8", "replace")
