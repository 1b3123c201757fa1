"""What pulldoctor reads from Kubernetes, as small typed values (no client library types here).

:mod:`pulldoctor.k8s.api` converts the client's objects into these at the boundary, so scan and
probe logic is pure and testable, and a change of client library touches one module.
"""

from __future__ import annotations

from dataclasses import dataclass, field

_PULL_WAIT_REASONS = ("ErrImagePull", "ImagePullBackOff", "InvalidImageName", "ErrImageNeverPull",
                     "ImageInspectError", "RegistryUnavailable")
"""Waiting reasons that mean a container is stuck on its image (kubelet ``images/types.go``)."""

ZONE_LABELS = ("topology.kubernetes.io/zone", "failure-domain.beta.kubernetes.io/zone")
POOL_LABELS = ("eks.amazonaws.com/nodegroup", "cloud.google.com/gke-nodepool",
               "kubernetes.azure.com/agentpool", "karpenter.sh/nodepool", "node.kubernetes.io/pool",
               "agentpool")


@dataclass(frozen=True, slots=True)
class ContainerWait:
    container: str
    image: str
    reason: str
    message: str
    init: bool = False


@dataclass(frozen=True, slots=True)
class PodView:
    name: str
    namespace: str
    node: str | None
    phase: str
    labels: dict[str, str] = field(default_factory=dict)
    waits: tuple[ContainerWait, ...] = ()
    exit_code: int | None = None
    """The (only) container's exit code once it terminated."""

    @property
    def pull_waits(self) -> tuple[ContainerWait, ...]:
        return tuple(w for w in self.waits if w.reason in _PULL_WAIT_REASONS)


@dataclass(frozen=True, slots=True)
class EventView:
    namespace: str
    pod: str
    reason: str
    message: str
    type: str
    count: int
    first_seen: str | None
    last_seen: str | None
    node: str | None


@dataclass(frozen=True, slots=True)
class NodeView:
    name: str
    labels: dict[str, str] = field(default_factory=dict)
    runtime_version: str | None = None
    kubelet_version: str | None = None
    kernel: str | None = None
    os_image: str | None = None
    internal_ip: str | None = None

    @property
    def zone(self) -> str | None:
        return next((self.labels[k] for k in ZONE_LABELS if self.labels.get(k)), None)

    @property
    def pool(self) -> str | None:
        return next((self.labels[k] for k in POOL_LABELS if self.labels.get(k)), None)

    def attrs(self) -> dict[str, str]:
        """What the API says about this node, as ``fleet merge`` attributes."""
        out = {"runtime_version": self.runtime_version, "kubelet_version": self.kubelet_version,
               "kernel": self.kernel, "os_image": self.os_image, "zone": self.zone,
               "node_pool": self.pool,
               "instance_type": self.labels.get("node.kubernetes.io/instance-type")}
        return {k: v for k, v in out.items() if v}
