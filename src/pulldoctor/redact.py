"""Redaction: no secret ever reaches output, logs or exceptions.

Used by every renderer on the report data *and* on the final text, and by probes on anything they
record, so a secret is stopped more than once. Secrets are recognised three ways:

* by value: code that knows a secret (a password read from config.json, a token just fetched)
  registers it with :func:`register_secret`; every later redaction removes that exact string (and
  its URL-encoded, JSON-escaped and ``user:password`` base64 forms) wherever it appears;
* by shape: userinfo in URLs, proxy variables, ``Authorization`` / ``Proxy-Authorization`` headers,
  bare ``Bearer``/``Basic`` credentials, JWTs, signed-URL signatures, private-key blocks, quoted
  ``password``/``token``/``auth`` fields (JSON, TOML, Python repr) and ``key=value`` query fields,
  and base64 blobs that decode to ``user:password`` (config.json ``auth``);
* by key, for structured data (:func:`redact_obj`): any string under a key such as ``password``,
  ``token``, ``auth`` or ``authorization`` is masked whatever it looks like.

Over-masking a harmless word is acceptable; leaking a secret is not. But error text is evidence, so
the shapes are chosen not to eat ordinary messages such as ``failed to fetch anonymous token:
unexpected status`` or a ``WWW-Authenticate: Bearer realm=...`` challenge.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import threading
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # logging and urllib are imported only when used: start-up time matters
    import logging

MASK = "***"

_known: set[str] = set()
_lock = threading.Lock()

_SECRET_KEYS = frozenset({
    "password", "passwd", "pass", "pwd", "token", "access_token", "refresh_token",
    "identitytoken", "identity_token", "registrytoken", "registry_token", "secret",
    "client_secret", "auth", "authorization", "proxy-authorization", "proxy_authorization",
    "api_key", "apikey", "private_key", "cookie", "set-cookie", "x-registry-auth",
    "x-registry-config",
})
"""Keys whose string values are secrets whatever they look like (compared lower-case)."""

_KEYS = (
    "password", "passwd", "pwd", "token", "access_token", "refresh_token", "identitytoken",
    "identity_token", "registrytoken", "registry_token", "secret", "client_secret", "auth",
    "api_key", "apikey", "private_key",
)
"""Field names whose quoted values are masked in text (JSON, TOML, Python repr)."""

_QUERY_KEYS = (
    "password", "passwd", "pwd", "token", "access_token", "refresh_token", "identitytoken",
    "identity_token", "registrytoken", "registry_token", "client_secret", "api_key", "apikey",
    "x-amz-signature", "x-amz-security-token", "x-amz-credential", "x-goog-signature",
    "x-goog-credential", "signature", "sig",
)
"""``key=value`` names (query strings, form bodies, env lines) whose values are masked."""


def _b64_userpass(m: re.Match[str]) -> str:
    """Mask a base64 blob when it decodes to ``user:password`` (a docker config.json ``auth``)."""
    blob = m.group(0)
    try:
        raw = base64.b64decode(blob, validate=True)
    except (binascii.Error, ValueError):
        return blob
    try:
        text = raw.decode("ascii")
    except UnicodeDecodeError:
        return blob
    user, sep, pw = text.partition(":")
    if sep and user and pw and text.isprintable() and " " not in user:
        return MASK
    return blob


_DIGEST_AFTER = re.compile(r"sha(?:256|384|512):")
_AUTHORITY = re.compile(r"[^/\s\"'<>]*@")
_STOP = frozenset(" \t\r\n\f\v/@\"'<>")
_USER = re.compile(r"[\w.%+-]+:[^\s/@\"'<>]+")
_HOST_START = re.compile(r"[\w\[]")


def _url_userinfo(text: str) -> str:
    """scheme://user:password@host -> scheme://***@host (up to the last @ of the authority).

    Found from each ``://`` rather than by a regex tried at every position: ~20x faster on logs.
    """
    out: list[str] = []
    pos = 0
    while (i := text.find("://", pos)) >= 0:
        start = i + 3
        m = _AUTHORITY.match(text, start)
        if m is None or _DIGEST_AFTER.match(text, m.end()) or not text[max(0, i - 1):i].isalnum():
            out.append(text[pos:start])
            pos = start
            continue
        out.append(text[pos:start] + MASK + "@")
        pos = m.end()
    out.append(text[pos:])
    return "".join(out)


def _bare_userinfo(text: str) -> str:
    """user:password@host without a scheme (but not an image's ``name:tag@sha256:digest``)."""
    out: list[str] = []
    pos = 0
    while (at := text.find("@", pos)) >= 0:
        begin = at
        while begin > pos and text[begin - 1] not in _STOP:
            begin -= 1
        token = text[begin:at]
        before = text[begin - 1] if begin > 0 else " "
        if (before != "/" and _USER.fullmatch(token) and _HOST_START.match(text, at + 1)
                and not _DIGEST_AFTER.match(text, at + 1)):
            out.append(text[pos:begin] + MASK + "@")
        else:
            out.append(text[pos:at + 1])
        pos = at + 1
    out.append(text[pos:])
    return "".join(out)


_B64 = re.compile(r"(?<![A-Za-z0-9+/=])(?:[A-Za-z0-9+/]{4}){2,128}(?:[A-Za-z0-9+/]{2}==|"
                  r"[A-Za-z0-9+/]{3}=)?(?![A-Za-z0-9+/=])")


def _base64_blobs(text: str) -> str:
    """Base64 blobs that decode to ``user:password`` (config.json ``auth`` out of its field)."""
    return _B64.sub(_b64_userpass, text)


class _Masker:
    """One shape: a regex whose group ``s`` is the secret; the rest of the match is kept.

    Every pattern starts with a literal (``authorization``, ``Bearer``, ``password=``...) so the
    regex engine jumps between candidates instead of trying every position, and the word boundary
    is a look-behind placed *after* the literal. Case-insensitive shapes are written in lower case
    and matched against the lower-cased text (same offsets when lower-casing keeps the length;
    otherwise their ``re.I`` twin runs on the original). ``gate`` is a literal the text must
    contain for the shape to be tried at all.
    """

    __slots__ = ("ci", "fold", "gate", "regex")

    def __init__(self, gate: str, pattern: str, *, ci: bool = False) -> None:
        self.gate = gate
        self.ci = ci
        self.regex = re.compile(pattern)
        self.fold = re.compile(pattern, re.I) if ci else self.regex

    def __call__(self, text: str, low: str) -> str:
        if self.ci:
            regex, src = (self.regex, low) if len(low) == len(text) else (self.fold, text)
        else:
            regex, src = self.regex, text
        out: list[str] = []
        pos = 0
        for m in regex.finditer(src):
            start, end = m.span("s")
            if start < pos:
                continue
            out += [text[pos:start], MASK]
            pos = end
        if not out:
            return text
        out.append(text[pos:])
        return "".join(out)


def _word(word: str) -> str:
    """``word`` not preceded by a word character (the look-behind sits after the literal)."""
    w = re.escape(word)
    return f"{w}(?<![a-z0-9_]{w})"


_QUOTED = r"""["']?\s*[:=]\s*(["'])(?P<s>(?:\\.|(?!\1).)*)\1"""

_SHAPES: tuple[_Masker, ...] = (
    # PEM private keys (never across a quote, so JSON text stays valid when the END is missing)
    _Masker("PRIVATE KEY", r'(?P<s>-----BEGIN [A-Z ]*PRIVATE KEY-----[^"]*?'
                           r'(?:-----END [A-Z ]*PRIVATE KEY-----|(?="|\Z)))'),
    # docker login -p SECRET / --password SECRET / --password=SECRET
    _Masker("login", r"login(?<!\wlogin)\b[^\n]*?\s-p[ =]?(?!-)(?P<s>\S+)"),
    # (not docker's own warning "Using --password via the CLI is insecure": no value follows)
    _Masker("--password", r"--password[ =](?!-|via the CLI\b)(?P<s>\S+)"),
    # HTTPS_PROXY=user:pass@host:3128 (Go accepts proxies without a scheme)
    _Masker("_proxy", r"""_proxy\s*[=:]\s*["']?(?P<s>[^\s"'@/]+)@""", ci=True),
    # Authorization: Bearer xyz / "Proxy-Authorization": ["Basic xyz"] (the scheme is kept)
    _Masker("authorization", _word("authorization") + r"""["']?\s*[:=]\s*\[?\s*["']?"""
            r"""(?:bearer|basic|token|negotiate|digest|aws4-hmac-sha256)\s+(?P<s>[^\s"',\]}]+)""",
            ci=True),
    # "authorization": "anything" (a JSON / repr key: the whole value)
    _Masker("authorization", r"""authorization["']\s*:\s*\[?\s*(["'])(?P<s>(?:\\.|(?!\1).)*)""",
            ci=True),
    # authorization=<token-shaped value>; not prose like "may require authorization: server message"
    _Masker("authorization", _word("authorization")
            + r"""\s*[:=]\s*(?=[a-z0-9+/._~=-]{16,})(?P<s>[^\s"',\]}]+)""", ci=True),
    # docker's X-Registry-Auth / X-Registry-Config headers: base64 JSON holding credentials
    _Masker("x-registry-", r"""x-registry-(?:auth|config)["']?\s*[:=]\s*\[?\s*["']?(?P<s>[^\s"',\]}]+)""",
            ci=True),
    # quoted fields: "password": "x", 'token': 'x', password = "x" (JSON, Python repr, TOML)
    *(_Masker(k, _word(k) + _QUOTED, ci=True) for k in _KEYS),
    # query strings / form fields / env lines: password=..., token=..., X-Amz-Signature=...
    *(_Masker(k + "=", f"{re.escape(k)}=(?<![a-z0-9_-]{re.escape(k)}=)"
              + r"""(?P<s>[^&\s"'<>]+)""", ci=True) for k in _QUERY_KEYS),
    # JWTs (header.payload.signature, signature possibly empty)
    _Masker("eyJ", r"(?P<s>eyJ(?<!\weyJ)[A-Za-z0-9_-]{6,}\.[A-Za-z0-9_-]{6,}\.[A-Za-z0-9_-]*)"),
    # bare credentials outside a header name: "Bearer <token68>", "Basic <base64>"
    _Masker("Bearer", r"Bearer(?<!\wBearer)\s+(?!realm\b)(?P<s>[A-Za-z0-9._~+/-]{16,}=*)"),
    _Masker("Basic", r"Basic(?<!\wBasic)\s+(?!realm\b)(?P<s>[A-Za-z0-9+/]{8,}=*)"),
)


def _forms(value: str) -> set[str]:
    """The spellings a secret takes in URLs, JSON and basic-auth headers."""
    from urllib.parse import quote

    forms = {value, quote(value, safe=""), json.dumps(value)[1:-1]}
    return {f for f in forms if len(f) >= 4}


def register_secret(value: str | None, *, username: str | None = None) -> None:
    """Remember a secret so every later redaction removes it by value (ignored if < 4 chars).

    With ``username``, the ``user:secret`` base64 blob (config.json ``auth``, Basic header) is
    registered too.
    """
    if not value or len(value) < 4:
        return
    new = _forms(value)
    if username:
        pair = f"{username}:{value}".encode()
        new.add(base64.b64encode(pair).decode("ascii"))
    with _lock:
        _known.update(new)


def forget_secrets() -> None:
    """Drop every registered secret (tests; a long-lived process between unrelated runs)."""
    with _lock:
        _known.clear()


def redact(text: str) -> str:
    """Return ``text`` with every known secret and every secret-shaped field masked."""
    if not text:
        return text
    with _lock:
        known = sorted(_known, key=len, reverse=True)
    for secret in known:
        if secret in text:
            text = text.replace(secret, MASK)
    if "@" in text:
        text = _bare_userinfo(_url_userinfo(text))
    low = text.lower()
    for shape in _SHAPES:
        if shape.gate in (low if shape.ci else text):
            masked = shape(text, low)
            if masked is not text:
                text, low = masked, masked.lower()
    return _base64_blobs(text)


def redact_url(url: str) -> str:
    """A URL safe to show: userinfo removed, secret query parameters masked."""
    return redact(url)


def _is_secret_key(key: str) -> bool:
    """True when a mapping key names a secret (``password``, ``token``, ``auth``...)."""
    return key.strip().lower() in _SECRET_KEYS


def redact_obj(value: Any) -> Any:
    """A deep copy of JSON-like data with secret-keyed strings masked and every string redacted.

    Dict keys are redacted too (a URL with userinfo can be a key). Non-JSON leaves are kept as
    they are: renderers turn them into text later, and that text is redacted again.
    """
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, dict):
        out: dict[Any, Any] = {}
        for k, v in value.items():
            key = redact(k) if isinstance(k, str) else k
            if isinstance(k, str) and _is_secret_key(k) and isinstance(v, str) and v:
                out[key] = MASK
            elif (isinstance(k, str) and _is_secret_key(k) and isinstance(v, list)
                  and all(isinstance(x, str) for x in v)):
                out[key] = [MASK if x else x for x in v]  # Go header maps: {"Authorization": [...]}
            else:
                out[key] = redact_obj(v)
        return out
    if isinstance(value, (list, tuple)):
        return [redact_obj(v) for v in value]
    return value


class RedactingFilter:
    """A logging filter that redacts the formatted message (and drops args) before any handler.

    (Not a ``logging.Filter`` subclass, which would import logging at start-up; logging accepts any
    object with a ``filter(record)`` method.)

    Attach it to a *handler* (logger filters do not see records propagated from child loggers),
    or call :func:`install_log_redaction` once to cover every record created in the process.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        _scrub(record)
        return True


def _scrub(record: logging.LogRecord) -> None:
    try:
        message = record.getMessage()
    except Exception:  # a bad format string must not hide the record
        message = str(record.msg)
    record.msg = redact(message)
    record.args = None
    if record.exc_info and record.exc_info[1] is not None:
        import traceback

        record.exc_text = redact("".join(traceback.format_exception(*record.exc_info)))
        record.exc_info = None


_installed = False


def install_log_redaction() -> None:
    """Make every log record in this process redacted at creation (idempotent)."""
    import logging

    global _installed
    with _lock:
        if _installed:
            return
        _installed = True
    base = logging.getLogRecordFactory()

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = base(*args, **kwargs)
        _scrub(record)
        return record

    logging.setLogRecordFactory(factory)


