"""Redaction: no secret ever reaches output, logs or exceptions.

Used by every renderer on the final text *and* by probes on anything they record, so a secret is
stopped twice. Secrets are recognised by shape (userinfo in URLs, Authorization headers, token and
password fields in JSON or query strings, config.json ``auth`` blobs) and by value: code that knows a
secret (a password read from config.json, a token just fetched) registers it with
:func:`register_secret`, and every later redaction removes that exact string wherever it appears.
"""

from __future__ import annotations

import re
import threading

MASK = "***"

_known: set[str] = set()
_lock = threading.Lock()

_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    # scheme://user:password@host  ->  scheme://***@host
    (re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://)[^/\s:@\"']+(?::[^/\s@\"']*)?@"), r"\1" + MASK + "@"),
    # Authorization: Bearer xyz / Proxy-Authorization: Basic xyz
    (
        re.compile(r"(?i)\b((?:proxy-)?authorization\"?\s*[:=]\s*\"?)(?:(bearer|basic)\s+)?[^\s\",]+"),
        r"\1\2 " + MASK,
    ),
    # "token": "...", "access_token": "...", "refresh_token", "password", "auth", "identitytoken"
    (
        re.compile(
            r"(?i)(\"(?:token|access_token|refresh_token|password|auth|identitytoken|"
            r"registrytoken|secret)\"\s*:\s*\")[^\"]*(\")"
        ),
        r"\1" + MASK + r"\2",
    ),
    # query strings / form fields: password=..., token=...
    (re.compile(r"(?i)\b((?:password|passwd|token|access_token|refresh_token)=)[^&\s\"']+"),
     r"\1" + MASK),
)


def register_secret(value: str | None) -> None:
    """Remember a secret so every later redaction removes it by value (ignored if < 4 chars)."""
    if value and len(value) >= 4:
        with _lock:
            _known.add(value)


def redact(text: str) -> str:
    """Return ``text`` with every known secret and every secret-shaped field masked."""
    with _lock:
        known = sorted(_known, key=len, reverse=True)
    for secret in known:
        if secret in text:
            text = text.replace(secret, MASK)
    for pattern, repl in _PATTERNS:
        text = pattern.sub(repl, text)
    return text.replace("  " + MASK, " " + MASK)


def redact_url(url: str) -> str:
    """A URL safe to show: userinfo removed, secret query parameters masked."""
    return redact(url)
