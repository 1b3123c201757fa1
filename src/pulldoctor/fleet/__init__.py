"""Many machines: merge per-node reports and say what the failing nodes share.

``pulldoctor fleet merge`` reads ``diagnose --json`` / ``host --json`` reports from many hosts
(:mod:`.inputs`), cuts each down to a typed :class:`~.summary.NodeSummary`, and correlates them
(:mod:`.correlate`, pure). :mod:`.node_facts` is the per-node side: the attributes every
``diagnose`` and ``host`` report carries so that nodes can be compared. Distribution is left to
engines people already run (Ansible, Kubernetes Jobs); there is no agent protocol here.
"""

from __future__ import annotations

from pulldoctor.fleet.correlate import correlate
from pulldoctor.fleet.inputs import FleetInputError, read_summaries
from pulldoctor.fleet.summary import NodeSummary, Problem, summarise

__all__ = ["FleetInputError", "NodeSummary", "Problem", "correlate", "read_summaries", "summarise"]
