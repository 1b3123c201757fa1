"""Properties that hold for *any* input: no crash, bounded work, sound prefilters, sane reports.

No timing assertions: catastrophic backtracking shows up as a test that never finishes (pytest's
own timeout / CI's), not as a flaky threshold. The inputs that used to be dangerous for regex
engines (huge single lines, long runs of almost-matching text, deep nesting) are generated on
purpose.
"""

from __future__ import annotations

import json
import re

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pulldoctor.causes import CODES
from pulldoctor.explain import NOTHING_RECOGNISED, explain, rules
from pulldoctor.explain.normalize import MAX_WINDOWS, WINDOW, bounded, normalize
from pulldoctor.explain.prefilter import Gated, needles
from pulldoctor.explain.scan import scan_streams

FRAGMENTS = [
    "lookup ", "registry-1.docker.io", " on 127.0.0.53:53", ": ", "read udp ", "127.0.0.1:4000",
    "->", "i/o timeout", "dial tcp ", "dial tcp: ", "connection refused", "no such host",
    "server misbehaving", "x509: ", "certificate signed by unknown authority", "toomanyrequests",
    "denied: ", "unauthorized: ", "authentication required", "manifest unknown", "not found",
    "Error response from daemon: ", 'Get "https://r.io/v2/": ', "error pulling image configuration: ",
    "download failed after attempts=6: ", "failed to pull and unpack image \"a:b\": ",
    "proxyconnect tcp: ", "no space left on device", "invalid reference format", "EOF", "\\\"",
    "\n", "429", "500 Internal Server Error", "403 Forbidden", "HTTP 403 response", "schema 1",
    "unexpected commit digest sha256:", "a" * 64, "no matching manifest for linux/arm64",
    "TLS handshake timeout", "context deadline exceeded", "Nov 29 09:00:00 h dockerd[1]: ",
]
pulltexts = st.lists(st.sampled_from(FRAGMENTS) | st.text(max_size=8), max_size=25).map("".join)


def check_report(text: str) -> None:
    report = explain(text)
    assert report.command == "explain"
    for cause in report.causes:
        assert cause.code in CODES
        assert 0.0 <= cause.confidence <= 1.0
        assert cause.evidence
    confidences = [c.confidence for c in report.causes]
    assert confidences == sorted(confidences, reverse=True)
    if not report.causes:
        assert NOTHING_RECOGNISED in report.notes
    json.dumps(report.to_dict(), default=str)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=2000))
def test_binary_junk_never_crashes(data: bytes) -> None:
    check_report(data.decode("utf-8", errors="replace"))


@settings(max_examples=300, deadline=None)
@given(pulltexts)
def test_error_like_text_never_crashes(text: str) -> None:
    check_report(text)


@settings(max_examples=150, deadline=None)
@given(pulltexts)
def test_prefilters_never_change_a_match(text: str) -> None:
    """A gated rule matches exactly when its bare regex does (the needles are truly required)."""
    norm = normalize(text)
    for rule, gate in zip(rules.RULES, rules._GATES, strict=True):
        assert (gate.search(norm) is None) == (rule.pattern.search(norm) is None), rule.name


def test_needles_are_read_conservatively() -> None:
    assert needles(r"abc(?:def)?ghij|xyz") == ("ghij", "xyz")
    assert needles(r"status(?: code)?:? 403\b") == ("status",)
    assert needles(r"ab|cdef") is None  # an alternative with no 3-letter word: never gate
    assert needles(r"(?i)denied") is None
    assert needles(r"Client\.Timeout exceeded") == ("Client.Timeout exceeded",)
    assert needles(r"colou?r") == ("colo",)
    g = Gated(r"x509: [a-z]+")
    assert g.needles == ("x509: ",)
    assert g.search("no") is None and g.search("x509: bad") is not None


def test_ten_megabyte_single_line() -> None:
    line = ("dial tcp: lookup a.b on 1.1.1.1:53: " + "i/o " * 10 + "x") * 300_000
    assert len(line) > 10_000_000
    reduced = bounded(line)
    assert len(reduced) <= MAX_WINDOWS * (4 * WINDOW + 1) < len(line) // 30
    check_report(line)


def test_ten_megabytes_of_near_misses() -> None:
    # "lookup " everywhere but never completed: the windows must stay bounded
    check_report("lookup " * 1_500_000)
    check_report("a" * 10_000_000)
    check_report("x509: " + ":" * 5_000_000)


def test_deeply_nested_json() -> None:
    inner = '"message": "Failed to pull image \\"a:b\\": toomanyrequests: slow down"'
    text = "{" * 50_000 + inner + "}" * 50_000
    report = explain(text)
    assert report.causes and report.causes[0].code == "registry.rate_limited"
    nested = json.dumps(json.loads('{"a":' * 500 + '"x509: certificate signed by unknown authority"'
                                   + "}" * 500))
    assert explain(nested).causes[0].code == "tls.unknown_authority"


@settings(max_examples=60, deadline=None)
@given(st.binary(max_size=5000), st.integers(min_value=1, max_value=700))
def test_scan_survives_junk_in_any_chunking(data: bytes, chunk: int) -> None:
    report = scan_streams([("t", [data[i:i + chunk] for i in range(0, len(data), chunk)])])
    whole = scan_streams([("t", [data])])
    assert report.extra["groups"] == whole.extra["groups"]
    assert report.facts.get("lines") == whole.facts.get("lines")  # none for a document
    assert report.facts["bytes"] == len(data)


def test_scan_ten_megabyte_line() -> None:
    line = (b"y" * 4_000_000 + b" x509: certificate signed by unknown authority " + b"z" * 6_000_000)
    report = scan_streams([("t", [line[i:i + 1_000_000] for i in range(0, len(line), 1_000_000)])])
    assert [g["code"] for g in report.extra["groups"]] == ["tls.unknown_authority"]
    assert report.facts["lines"] == 1


def test_evidence_is_from_the_normalized_text() -> None:
    text = '{"message":"Get \\"https://r.io/v2/\\": dial tcp: lookup r.io on 10.0.0.2:53: no such host"}'
    cause = explain(text).causes[0]
    assert cause.code == "dns.nxdomain"
    assert all(e in normalize(text) for e in cause.evidence)
    assert re.search(r"no such host", cause.evidence[0])
