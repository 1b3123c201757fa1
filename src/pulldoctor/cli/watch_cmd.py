"""``pulldoctor watch``: follow the runtime logs, store each pull failure, diagnose it at once."""

from __future__ import annotations

import os
import signal
import socket
import sys
import threading
from pathlib import Path
from typing import Any

import click

from pulldoctor.errors import UsageError


def _journal_available() -> bool:
    import shutil

    if shutil.which("journalctl") is None:
        return False
    for d in ("/run/log/journal", "/var/log/journal"):
        try:
            if any(os.scandir(d)):
                return True
        except OSError:
            continue
    return False


def _in_pod() -> bool:
    from pulldoctor.watch.k8s import SA_DIR

    return bool(os.environ.get("KUBERNETES_SERVICE_HOST")) and (SA_DIR / "token").exists()


@click.command(name="watch")
@click.option("--journal", "journal", is_flag=True,
              help="Follow the journal (journalctl -f -o json) of the runtime and kubelet units.")
@click.option("--journal-unit", "units", multiple=True, metavar="UNIT",
              help="Unit to follow instead of docker, containerd, crio and kubelet (repeatable).")
@click.option("--journal-dir", metavar="DIR",
              help="Read the journal files in DIR (a host's /var/log/journal mounted in a pod).")
@click.option("--file", "files", multiple=True, metavar="PATH",
              type=click.Path(dir_okay=False, path_type=Path),
              help="Follow a log file through rotation (repeatable).")
@click.option("--from-start", is_flag=True,
              help="Read --file logs from their start the first time (default: new lines only).")
@click.option("--k8s", "k8s", is_flag=True,
              help="Watch the Kubernetes API's kubelet events about pulls on this node.")
@click.option("--k8s-api", metavar="URL", help="API server URL (default: in-cluster).")
@click.option("--k8s-token-file", metavar="FILE", help="Bearer token file (default: in-cluster).")
@click.option("--k8s-ca", metavar="FILE", help="CA bundle of the API server (default: in-cluster).")
@click.option("--db", "db", metavar="PATH", type=click.Path(dir_okay=False, path_type=Path),
              help="History database (default: $PULLDOCTOR_DB, /var/lib/pulldoctor/history.db "
                   "as root, else ~/.local/state/pulldoctor/history.db).")
@click.option("--node", metavar="NAME",
              help="This node's name (default: $NODE_NAME, else the host name).")
@click.option("--listen", metavar="ADDR:PORT", help="Serve Prometheus /metrics here (:9890).")
@click.option("--textfile", metavar="PATH", type=click.Path(dir_okay=False, path_type=Path),
              help="Also write the metrics to PATH for node_exporter's textfile collector.")
@click.option("--diagnose", "diagnose_mode", type=click.Choice(["auto", "off"]), default="auto",
              show_default=True, help="Diagnose each new (image, cause) in the background.")
@click.option("--concurrency", type=click.IntRange(1, 8), default=2, show_default=True,
              help="Diagnoses running at once.")
@click.option("--rate", type=click.FloatRange(0.1, 600), default=6.0, show_default=True,
              metavar="PER_MIN", help="Diagnoses started per minute (burst of 3).")
@click.option("--budget", type=click.IntRange(0, 10000), default=30, show_default=True,
              metavar="PER_HOUR", help="Diagnoses in any hour; more failures are stored only.")
@click.option("--dedup", type=click.FloatRange(0, 86400), default=600.0, show_default=True,
              metavar="SECONDS", help="Diagnose one (image, cause) at most once per this window.")
@click.option("--backoff-wait", type=click.FloatRange(0, 600), default=10.0, show_default=True,
              metavar="SECONDS",
              help="Wait this long before probing a first Kubernetes ErrImagePull (often "
                   "transient); its text is stored at once.")
@click.option("--root", default="/", show_default=True, metavar="DIR",
              type=click.Path(file_okay=False, exists=True),
              help="Where the node's files are (a pod's /host): runtime configuration, "
                   "resolv.conf and credentials that capture diagnoses read.")
@click.option("--diagnose-timeout", type=click.FloatRange(1, 120), default=15.0,
              show_default=True, metavar="SECONDS", help="Deadline of each diagnosis.")
@click.option("--exit-idle", type=float, default=None, hidden=True,
              help="Stop after this many seconds without input and with no capture pending "
                   "(benchmarks, tests).")
def command(journal: bool, units: tuple[str, ...], journal_dir: str | None,
            files: tuple[Path, ...], from_start: bool, k8s: bool, k8s_api: str | None,
            k8s_token_file: str | None, k8s_ca: str | None, db: Path | None, node: str | None,
            listen: str | None, textfile: Path | None, diagnose_mode: str, concurrency: int,
            rate: float, budget: int, dedup: float, backoff_wait: float, root: str,
            diagnose_timeout: float, exit_idle: float | None) -> int:
    """Follow the container runtime's logs, store every image pull failure as it happens, and
    diagnose it in the background while the fault is still there.

    Sources (several at once): the journal of the docker, containerd, crio and kubelet units
    (--journal), log files followed through rotation (--file), the Kubernetes API's kubelet
    events for this node (--k8s). With none named, the journal is used when there is one, and
    the API when running in a pod. Each failure is read with `explain`, stored (redacted) in the
    history with the source's position, so a killed watcher loses nothing, and each new (image,
    cause) is diagnosed within seconds, rate-limited and bounded per hour.

    Exit codes: 0 stopped (SIGTERM, Ctrl-C); 2 usage error (no source, bad option, --listen
    address in use); 3 the history database cannot be opened or written at start (read-only,
    full, newer schema). Once running, a database that refuses writes is retried and a source
    that disappears is waited for; neither stops the watcher.

    \b
    Examples:
      sudo pulldoctor watch --listen 127.0.0.1:9890
      pulldoctor watch --file /var/log/docker.log --textfile /var/lib/node_exporter/pulldoctor.prom
      pulldoctor watch --k8s --node "$NODE_NAME" --listen :9890
    """
    from pulldoctor.watch.capture import Capture, Limits, diagnose_on
    from pulldoctor.watch.files import FileSource
    from pulldoctor.watch.journal import UNITS, JournalSource
    from pulldoctor.watch.k8s import ApiConfig, K8sEventsSource
    from pulldoctor.watch.runner import Writer
    from pulldoctor.watch.sources import Source
    from pulldoctor.watch.store import Store, StoreError, default_path

    node = node or os.environ.get("NODE_NAME") or socket.gethostname()
    if not (journal or files or k8s):
        journal = _journal_available()
        k8s = _in_pod()
        if not (journal or k8s):
            raise UsageError("no source to watch: give --file PATH, --journal or --k8s (no "
                             "journal was found here and this is not a pod)")
    api: ApiConfig | None = None
    if k8s:
        api = ApiConfig(k8s_api, k8s_token_file, k8s_ca) if k8s_api else ApiConfig.in_cluster()
        api.check()
    metrics = None
    if listen or textfile:
        from pulldoctor.watch.metrics import Metrics, parse_listen

        if listen:
            parse_listen(listen)
        metrics = Metrics(node)
    limits = Limits(concurrency=concurrency, rate_per_min=rate, burst=3, per_hour=budget,
                    dedup_s=dedup, backoff_s=backoff_wait, timeout_s=diagnose_timeout)
    path = db or default_path()
    try:
        store = Store(path)
    except StoreError as exc:
        click.echo(f"pulldoctor: {exc}", err=True)
        return 3
    capture = Capture(limits, enabled=diagnose_mode == "auto", diagnose=diagnose_on(root, node))
    writer = Writer(store, capture, node, metrics=metrics, textfile=textfile)
    saved = store.positions()
    sources: list[Source] = []
    if journal:
        sources.append(JournalSource(writer.batches, writer.stop, None,
                                     units=units or UNITS, directory=journal_dir))
    for f in dict.fromkeys(p.absolute() for p in files):
        sources.append(FileSource(f, writer.batches, writer.stop, None, from_start=from_start))
    if api is not None:
        sources.append(K8sEventsSource(writer.batches, writer.stop, None, api=api, node=node))
    for s in sources:
        s.position, context = saved.get(s.id, (None, None))
        s.recogniser.context.load(context)
    server: Any = None
    try:
        writer.restore(sources)
        if metrics is not None and listen:
            server = metrics.serve(listen)
        _on_signals(writer.stop)
        for s in sources:
            s.start()
        names = ", ".join(s.id for s in sources)
        writer.say(sys.stderr, f"watching {names}; history in {path}"
                    + (f"; metrics on {listen}" if listen else ""))
        writer.run(exit_idle_s=exit_idle)
    finally:
        writer.stop.set()
        if server is not None and isinstance(server, tuple):
            server[0].shutdown()
        store.close()
    return 0


def _on_signals(stop: threading.Event) -> None:
    def handler(signum: int, _frame: object) -> None:
        stop.set()

    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(sig, handler)
