"""The stages of one endpoint's walk, registered by hand in the order the runtime goes.

Each module holds one stage: its probe, its ``STAGE = Stage(name, after=..., run)`` declaration,
and the ``infer.classify_*`` it names its outcome with. What a stage needs is its ``after``; the
walk derives from it what runs and what is blocked (:func:`pulldoctor.diagnose.stage.run_stages`).
Reaching one host (DNS, TCP, proxy, TLS) is a walk of its own: ``stages/host.py``.

To add a stage: write ``stages/<name>.py`` (probe + ``STAGE``), add it to :data:`ENDPOINT_STAGES`
below (or to ``host.HOST_STAGES``), and add its ``classify_<name>`` to ``diagnose/infer/`` (named
in ``infer/__init__.py``) with a unit test in ``tests/diagnose/test_diagnose_infer.py``.
"""

from __future__ import annotations

from pulldoctor.diagnose.session import EndpointWalk
from pulldoctor.diagnose.stage import Stage, check_stages
from pulldoctor.diagnose.stages import (
    blob,
    layers,
    manifest,
    ping,
    platform,
    policy,
    registry_host,
    token,
)

ENDPOINT_STAGES: tuple[Stage[EndpointWalk], ...] = (
    registry_host.STAGE,  # DNS, TCP, proxy, TLS of the endpoint's host
    ping.STAGE,
    token.STAGE,
    manifest.STAGE,
    policy.STAGE,  # containers/image's trust policy, on the top-level manifest
    platform.STAGE,
    manifest.PLATFORM_STAGE,
    blob.STAGE,  # the config blob
    layers.STAGE,
)

if problems := check_stages(ENDPOINT_STAGES):  # pragma: no cover - caught at import
    raise RuntimeError("; ".join(problems))
