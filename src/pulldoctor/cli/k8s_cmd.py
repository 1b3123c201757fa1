"""``pulldoctor k8s scan|probe``: pull failures per node from the API, and probes on the nodes."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import click

from pulldoctor.report.options import OutputOptions, output_options

F = TypeVar("F", bound=Callable[..., Any])


def _cluster_options(func: F) -> F:
    func = click.option("--kubeconfig", metavar="FILE", default=None,
                        help="kubeconfig file (default: in-cluster, $KUBECONFIG, ~/.kube/config).")(func)
    func = click.option("--context", metavar="NAME", default=None,
                        help="kubeconfig context (default: the current one).")(func)
    return func


def _api(context: str | None, kubeconfig: str | None) -> Any:
    from pulldoctor.errors import UsageError

    try:
        from pulldoctor.k8s.api import Api
    except ImportError as exc:
        raise UsageError("pulldoctor k8s needs its Kubernetes client: "
                         "pip install 'pulldoctor[k8s]'") from exc
    try:
        return Api(context=context, kubeconfig=kubeconfig)
    except ImportError as exc:
        raise UsageError(f"pulldoctor k8s needs its Kubernetes client ({exc.name}): "
                         "pip install 'pulldoctor[k8s]'") from exc


@click.group(name="k8s")
def command() -> None:
    """Kubernetes: which nodes fail to pull and why (read-only scan), and probes on the nodes.

    \b
    Examples:
      pulldoctor k8s scan -A
      pulldoctor k8s probe docker.io/library/nginx:1.27 --nodes failing
      pulldoctor k8s probe ghcr.io/org/app:v1 --nodes all --image registry.local/pulldoctor:0.1.0
    Manifests (RBAC, the probe Job) are in deploy/kubernetes/.
    """


@command.command(name="scan")
@_cluster_options
@click.option("-n", "--namespace", default=None, metavar="NS",
              help="Namespace to scan (default: the context's).")
@click.option("-A", "--all-namespaces", "all_ns", is_flag=True, help="Scan every namespace.")
@output_options
def scan(context: str | None, kubeconfig: str | None, namespace: str | None, all_ns: bool,
         output: OutputOptions) -> int:
    """Pods waiting on a pull (ErrImagePull, ImagePullBackOff, InvalidImageName...), explained.

    Reads pods, their kubelet events (count, first/last seen, node) and nodes; groups failures by
    cause x node x registry, and compares failing nodes with healthy ones (zone, node pool,
    runtime and kubelet versions). Needs get/list on pods, events and nodes (deploy/kubernetes/
    rbac.yaml, ClusterRole pulldoctor-scan). Exit 0 when no pod waits on a pull, 1 when some
    do, 2 on usage errors (no kubeconfig), 3 when the API server refused or was unreachable.
    """
    from pulldoctor.k8s.scan import scan_report

    if namespace and all_ns:
        raise click.UsageError("-n and -A contradict each other; use one.")
    api = _api(context, kubeconfig)
    try:
        ns = None if all_ns else (namespace or api.namespace)
        report = scan_report(api.pods(ns), api.events(ns), api.nodes(),
                             subject=f"context {api.context}, "
                                     + ("all namespaces" if ns is None else f"namespace {ns}"))
    finally:
        api.close()
    output.emit(report)
    return 1 if report.facts["nodes_failing"] else 0


@command.command(name="probe")
@click.argument("image")
@_cluster_options
@click.option("--nodes", default="failing", show_default=True, metavar="failing|all|N1,N2",
              help="Which nodes: those with pods waiting on a pull (plus up to 3 healthy ones to "
                   "compare), all nodes, or a list.")
@click.option("--timeout", type=click.FloatRange(min=10.0, max=3600.0), default=120.0,
              show_default=True, help="Deadline for the whole probe, in seconds.")
@click.option("--image", "probe_image", default=None, metavar="REF",
              help="pulldoctor's own image for the probe pods (a mirror your nodes can pull).")
@click.option("--namespace", default="pulldoctor", show_default=True,
              help="Namespace the probe Jobs run in (deploy/kubernetes/rbac.yaml creates it).")
@click.option("--runtime-socket", is_flag=True,
              help="Also mount the runtime's socket (read-only; it is root on the node).")
@output_options
def probe(image: str, context: str | None, kubeconfig: str | None, nodes: str, timeout: float,
          probe_image: str | None, namespace: str, runtime_socket: bool,
          output: OutputOptions) -> int:
    """Re-walk the pull of IMAGE on chosen nodes, one short-lived Job each, and merge.

    Each Job runs `pulldoctor diagnose IMAGE --root /host --json --node $NODE_NAME` pinned to its
    node (nodeName, hostNetwork, read-only hostPath mounts of /etc, /run/systemd/resolve and the
    runtime's data root, tolerating every taint). Reports are read from the pod logs; every Job
    is deleted with its pods when the run ends, also on Ctrl-C. A node where the probe pod
    cannot pull pulldoctor's own image is reported as evidence. Exit 0 when every node is
    healthy, 1 when any has a problem, 2 on usage errors, 3 on API errors, 130 on Ctrl-C.
    """
    from pulldoctor.k8s.jobs import DEFAULT_PROBE_IMAGE
    from pulldoctor.k8s.probe import ProbeOptions
    from pulldoctor.k8s.probe import probe as run_probe
    from pulldoctor.reference import parse_reference

    parse_reference(image)
    opts = ProbeOptions(image=image, nodes=nodes, timeout_s=timeout,
                        probe_image=probe_image or DEFAULT_PROBE_IMAGE, namespace=namespace,
                        runtime_socket=runtime_socket,
                        diagnose_timeout_s=min(15.0, max(5.0, timeout / 4)))
    api = _api(context, kubeconfig)
    try:
        report = run_probe(api, opts)
    finally:
        api.close()
    output.emit(report)
    return 1 if report.facts["nodes_failing"] else 0
