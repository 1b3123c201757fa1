"""``k8s probe``: re-walk a pull on chosen nodes with one short-lived Job each, then merge.

Each Job (:func:`pulldoctor.k8s.jobs.probe_job`) runs ``pulldoctor diagnose IMAGE --root /host
--json --node $NODE_NAME`` on its node; the report is read from the pod's log (stdout JSON, the
kube-bench pattern: no CRD, no aggregator). Every Job created is deleted - with its pods - when
the run ends, on error, on Ctrl-C and on SIGTERM (and ``ttlSecondsAfterFinished`` collects them
even if this process is killed outright). One absolute deadline bounds the whole run.

The probe pod needs pulldoctor's own image, which may not pull exactly where pulls are broken: a
node where the probe pod itself waits in ``ErrImagePull`` is reported as evidence (its message
explained like any other pull failure), never as an error of the run; ``--image`` points the
Jobs at a mirror of pulldoctor's image.
"""

from __future__ import annotations

import contextlib
import json
import secrets
import signal
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from types import FrameType
from typing import Any, Protocol

from pulldoctor.errors import UsageError
from pulldoctor.fleet.correlate import correlate
from pulldoctor.fleet.summary import NodeSummary, NotAReport, Problem, summarise
from pulldoctor.k8s.jobs import DEFAULT_NAMESPACE, DEFAULT_PROBE_IMAGE, RUN_LABEL, probe_job
from pulldoctor.k8s.objects import EventView, NodeView, PodView
from pulldoctor.k8s.scan import explain_code, failures
from pulldoctor.model import Report
from pulldoctor.redact import redact

POLL_S = 0.5
_CONTROLS = 3
"""With ``--nodes failing``, this many healthy nodes are probed too, to compare against."""


class _ProbeApi(Protocol):
    """What the probe needs from :class:`pulldoctor.k8s.api.Api` (a protocol, for tests)."""

    def nodes(self) -> list[NodeView]: ...
    def pods(self, namespace: str | None = None, *, labels: dict[str, str] | None = None,
             node: str | None = None) -> list[PodView]: ...
    def events(self, namespace: str | None = None) -> list[EventView]: ...
    def create(self, manifest: dict[str, Any], namespace: str) -> str: ...
    def delete_job(self, name: str, namespace: str) -> None: ...
    def job_names(self, namespace: str, labels: dict[str, str]) -> list[str]: ...
    def log(self, pod: str, namespace: str) -> str: ...


@dataclass(slots=True)
class ProbeOptions:
    image: str
    nodes: str = "failing"  # failing | all | N1,N2,...
    timeout_s: float = 120.0
    probe_image: str = DEFAULT_PROBE_IMAGE
    namespace: str = DEFAULT_NAMESPACE
    runtime_socket: bool = False
    diagnose_timeout_s: float = 15.0


@dataclass(slots=True)
class _ProbeRun:
    run_id: str
    created: list[tuple[str, str]] = field(default_factory=list)  # (job, node)
    deleted: list[str] = field(default_factory=list)
    delete_errors: list[str] = field(default_factory=list)


def choose_nodes(selection: str, all_nodes: list[str], failing: list[str],
                 controls: int = _CONTROLS) -> list[str]:
    """Which nodes to probe (pure). ``failing`` adds up to ``controls`` healthy nodes to compare."""
    sel = selection.strip()
    if sel == "all":
        return list(all_nodes)
    if sel == "failing":
        bad = [n for n in all_nodes if n in failing]
        if not bad:
            raise UsageError("no node has a pod waiting on a pull: use --nodes all or N1,N2")
        return bad + [n for n in all_nodes if n not in failing][:controls]
    wanted = [n.strip() for n in sel.split(",") if n.strip()]
    unknown = [n for n in wanted if n not in all_nodes]
    if unknown or not wanted:
        raise UsageError(f"--nodes: unknown node {unknown[0] if unknown else sel!r}; the cluster "
                         f"has {', '.join(all_nodes[:10]) or 'no nodes'}")
    return wanted


def report_from_log(log: str, node: str) -> NodeSummary:
    """The node's summary from its probe pod's log (stdout JSON, maybe after stderr lines)."""
    start = log.find("{")
    while start >= 0:
        try:
            doc, _ = json.JSONDecoder().raw_decode(log, start)
            return summarise(doc, node)
        except (ValueError, NotAReport):
            start = log.find("{", start + 1)
    tail = redact(log.strip().splitlines()[-1][:300]) if log.strip() else "(empty log)"
    return NodeSummary(node=node, source="k8s probe", command="diagnose", problems=[Problem(
        code=None, step="probe output", evidence=[f"the probe wrote no report: {tail}"])])


def _cannot_pull_probe(node: str, pod: PodView, probe_image: str) -> NodeSummary:
    """The probe pod could not pull pulldoctor's own image on ``node``: that is evidence too."""
    w = pod.pull_waits[0]
    code, conf = explain_code(w.message, w.reason)
    return NodeSummary(node=node, source="k8s probe", command="diagnose", problems=[Problem(
        code=code, step=f"probe image pull ({probe_image})", confidence=conf,
        evidence=[f"pulldoctor's own probe pod could not pull {probe_image} on {node}: "
                  f"{w.reason}: {redact(w.message)[:400]}"])])


@contextlib.contextmanager
def _sigterm_as_interrupt() -> Iterator[None]:
    def handler(signum: int, frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    try:
        old = signal.signal(signal.SIGTERM, handler)
    except ValueError:  # not the main thread: nothing to install
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, old)


def _cleanup(api: _ProbeApi, run: _ProbeRun, namespace: str) -> None:
    """Delete every Job created (and its pods); a second Ctrl-C cannot interrupt this.

    Jobs are also found by this run's label, so one whose create request was answered just as
    Ctrl-C arrived (created on the server, never recorded here) is deleted too.
    """
    try:
        old = signal.signal(signal.SIGINT, signal.SIG_IGN)
    except ValueError:
        old = None
    try:
        try:
            known = {j for j, _ in run.created}
            extra = [j for j in api.job_names(namespace, {RUN_LABEL: run.run_id}) if j not in known]
        except Exception as exc:
            extra = []
            run.delete_errors.append(f"(listing this run's jobs): {exc}")
        for job in [j for j, _ in run.created] + extra:
            try:
                api.delete_job(job, namespace)
                run.deleted.append(job)
            except Exception as exc:  # keep deleting the others; say which one is left
                run.delete_errors.append(f"{job}: {exc}")
    finally:
        if old is not None:
            signal.signal(signal.SIGINT, old)


def probe(api: _ProbeApi, opts: ProbeOptions, *, clock: Callable[[], float] = time.monotonic,
          sleep: Callable[[float], None] = time.sleep) -> Report:
    """Run the probe Jobs, collect their reports, delete the Jobs, and merge (see module doc)."""
    t0 = clock()
    deadline = t0 + opts.timeout_s
    views = {n.name: n for n in api.nodes()}
    failing: list[str] = []
    if opts.nodes.strip() == "failing":
        failing = sorted({f.node for f in failures(api.pods(None), api.events(None))
                          if f.node})
    chosen = choose_nodes(opts.nodes, sorted(views), failing)
    run = _ProbeRun(run_id=secrets.token_hex(3))
    results: dict[str, NodeSummary] = {}
    with _sigterm_as_interrupt():
        try:
            for node in chosen:
                v = views[node]
                labels = {k: val for k, val in (("topology.kubernetes.io/zone", v.zone),
                                                ("node.kubernetes.io/pool", v.pool)) if val}
                manifest = probe_job(node, opts.image, run_id=run.run_id,
                                     probe_image=opts.probe_image, timeout_s=int(opts.timeout_s),
                                     diagnose_timeout_s=opts.diagnose_timeout_s,
                                     runtime_version=v.runtime_version, node_labels=labels,
                                     runtime_socket=opts.runtime_socket)
                run.created.append((api.create(manifest, opts.namespace), node))
            _collect(api, opts, run, results, deadline, clock, sleep)
        finally:
            _cleanup(api, run, opts.namespace)
    for _job, node in run.created:
        if node not in results:
            results[node] = NodeSummary(node=node, source="k8s probe", command="diagnose",
                                        problems=[Problem(code=None, step="probe (no result)",
                                                          evidence=["no report before --timeout"])])
        for k, val in views[node].attrs().items():
            results[node].attrs.setdefault(k, val)
    rep = correlate([results[n] for n in chosen if n in results],
                    subject=f"k8s probe {opts.image} on {len(chosen)} nodes")
    rep.facts.update({"image": opts.image, "probe_image": opts.probe_image,
                      "namespace": opts.namespace, "run_id": run.run_id,
                      "jobs_created": len(run.created), "jobs_deleted": len(run.deleted)})
    own = [n for n, s in results.items() if any(p.step.startswith("probe image pull")
                                                 for p in s.problems)]
    if own:
        rep.notes.append(f"the probe pod itself could not pull {opts.probe_image} on "
                         f"{', '.join(sorted(own))}: that is evidence of the same breakage; "
                         "mirror pulldoctor's image where those nodes can pull and pass --image")
    rep.notes += [f"could not delete job {e}" for e in run.delete_errors]
    rep.duration_s = clock() - t0
    return rep


def _collect(api: _ProbeApi, opts: ProbeOptions, run: _ProbeRun, results: dict[str, NodeSummary],
             deadline: float, clock: Callable[[], float], sleep: Callable[[float], None]) -> None:
    pending = {job: node for job, node in run.created}
    while pending and clock() < deadline:
        for pod in api.pods(opts.namespace, labels={RUN_LABEL: run.run_id}):
            job = pod.labels.get("job-name") or pod.labels.get("batch.kubernetes.io/job-name")
            node = pending.get(job or "")
            if node is None:
                continue
            if pod.phase in ("Succeeded", "Failed"):
                try:
                    log = api.log(pod.name, opts.namespace)
                except Exception as exc:  # the pod is gone or the log unreadable: say so
                    log = f"log unavailable: {exc}"
                results[node] = report_from_log(log, node)
                del pending[job or ""]
            elif pod.pull_waits:
                results[node] = _cannot_pull_probe(node, pod, opts.probe_image)
                del pending[job or ""]
        if pending:
            sleep(min(POLL_S, max(0.0, deadline - clock())))
