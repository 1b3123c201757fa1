"""Prometheus metrics for ``watch``: on ``--listen`` (``/metrics``) and as a node_exporter textfile.

Names follow the issue's contract and Prometheus conventions (``_total`` counters, base units).
Every label is bounded: ``cause`` is a catalogue code or ``unrecognised``, ``registry`` a host
(never a repository, tag or digest; at most :data:`_MAX_REGISTRIES` distinct, then ``other``),
``source`` one of journal/file/k8s, ``outcome`` and ``reason`` small enums; the watcher's health
metrics are labelled by the source ids given on the command line. Counters start from the
history's totals, so a restart does not make them drop (Prometheus would read that as a reset).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from pulldoctor.errors import UsageError
from pulldoctor.watch.model import Outcome, SkipReason

_MAX_REGISTRIES = 50
_HOST = re.compile(r"^(?:[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?)(?:\.[a-z0-9](?:[a-z0-9-]{0,62}"
                   r"[a-z0-9])?)*(?::\d{1,5})?$|^\[[0-9a-f:]+\](?::\d{1,5})?$")
_DURATION_BUCKETS = (0.25, 0.5, 1.0, 2.0, 3.0, 5.0, 10.0, 15.0, 30.0, 60.0)


def _require() -> Any:
    try:
        import prometheus_client
    except ImportError:
        raise UsageError("metrics need the prometheus-client package: pip install "
                         "'pulldoctor[watch]'") from None
    return prometheus_client


def parse_listen(value: str) -> tuple[str, int]:
    """``ADDR:PORT``, ``[V6]:PORT`` or ``:PORT`` (all addresses) -> (address, port)."""
    m = re.fullmatch(r"(?:\[(?P<v6>[0-9a-fA-F:]+)\]|(?P<host>[^:\[\]]*)):(?P<port>\d{1,5})",
                     value.strip())
    if not m or not 0 < int(m.group("port")) < 65536:
        raise UsageError(f"--listen must be ADDR:PORT (e.g. 127.0.0.1:9890 or :9890), not {value!r}")
    addr = m.group("v6") or m.group("host") or "0.0.0.0"
    return addr, int(m.group("port"))


class Metrics:
    """The watcher's metrics in their own registry (no process/GC collectors mixed in)."""

    def __init__(self, node: str) -> None:
        pc = _require()
        pc.disable_created_metrics()  # no *_created series: half the output, no use here
        self.node = node
        self.registry = pc.CollectorRegistry(auto_describe=True)
        r = self.registry
        self.failures = pc.Counter(
            "pulldoctor_pull_failures", "Image pull failures read, by cause.",
            ["cause", "registry", "node", "source"], registry=r)
        self.diagnoses = pc.Counter(
            "pulldoctor_diagnoses", "Capture diagnoses run, by the failure's cause and outcome.",
            ["cause", "outcome"], registry=r)
        self.duration = pc.Histogram(
            "pulldoctor_diagnosis_duration_seconds", "Wall time of capture diagnoses.",
            buckets=_DURATION_BUCKETS, registry=r)
        self.last_failure = pc.Gauge(
            "pulldoctor_last_failure_timestamp_seconds", "When the last failure was seen.",
            ["cause", "registry"], registry=r)
        self.lines = pc.Counter(
            "pulldoctor_watch_lines_read", "Log lines (journal entries, events) read.",
            ["source"], registry=r)
        self.parse_errors = pc.Counter(
            "pulldoctor_watch_parse_errors", "Records that could not be decoded.",
            ["source"], registry=r)
        self.lag = pc.Gauge(
            "pulldoctor_watch_source_lag_seconds",
            "Delay between the newest record's own time and when it was read.",
            ["source"], registry=r)
        self.up = pc.Gauge(
            "pulldoctor_watch_source_up", "1 while a source is being followed, 0 while it is "
            "missing or failing.", ["source"], registry=r)
        self.skipped = pc.Counter(
            "pulldoctor_watch_captures_skipped", "Failures not diagnosed, by reason.",
            ["reason"], registry=r)
        self.db_errors = pc.Counter(
            "pulldoctor_watch_db_errors", "Failed writes to the history database.", registry=r)
        self.db_pending = pc.Gauge(
            "pulldoctor_watch_db_pending", "Changes waiting for the database to accept them.",
            registry=r)
        for reason in SkipReason:  # present from the start, so rate() works on the first one
            self.skipped.labels(str(reason))
        self._registries: set[str] = set()
        self._last: dict[tuple[str, str], float] = {}

    def registry_label(self, host: str | None) -> str:
        if not host:
            return "none"
        host = host.lower()
        if not _HOST.match(host):
            return "other"
        if host not in self._registries:
            if len(self._registries) >= _MAX_REGISTRIES:
                return "other"
            self._registries.add(host)
        return host

    def failure(self, cause: str, registry: str | None, source: str, at: float, n: int = 1
                ) -> None:
        reg = self.registry_label(registry)
        self.failures.labels(cause, reg, self.node, source).inc(n)
        if at > self._last.get((cause, reg), 0.0):
            self._last[(cause, reg)] = at
            self.last_failure.labels(cause, reg).set(at)

    def diagnosis(self, cause: str, outcome: Outcome, duration_s: float) -> None:
        self.diagnoses.labels(cause, str(outcome)).inc()
        self.duration.observe(duration_s)

    def serve(self, listen: str) -> Any:
        addr, port = parse_listen(listen)
        pc = _require()
        try:
            return pc.start_http_server(port, addr=addr, registry=self.registry)
        except OSError as exc:
            raise UsageError(f"--listen {listen}: {exc.strerror or exc}") from None

    def write_textfile(self, path: Path) -> None:
        """Write the node_exporter textfile atomically (a temporary file, then rename)."""
        _require().write_to_textfile(str(path), self.registry)

    def text(self) -> str:
        return str(_require().generate_latest(self.registry).decode("utf-8"))
