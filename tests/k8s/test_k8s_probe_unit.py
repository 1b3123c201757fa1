"""``k8s probe`` logic without HTTP: node choice, reading a pod log, cleanup after an interrupted create."""

from __future__ import annotations

import json
from typing import Any

import pytest

from fakes.node_reports import node_report
from pulldoctor.causes import Code
from pulldoctor.errors import UsageError
from pulldoctor.k8s.jobs import RUN_LABEL
from pulldoctor.k8s.objects import EventView, NodeView, PodView
from pulldoctor.k8s.probe import ProbeOptions, choose_nodes, probe, report_from_log


def test_choose_nodes() -> None:
    nodes = ["a", "b", "c", "d", "e"]
    assert choose_nodes("failing", nodes, ["c"], controls=2) == ["c", "a", "b"]
    assert choose_nodes("all", nodes, []) == nodes
    assert choose_nodes(" b , d ", nodes, []) == ["b", "d"]
    with pytest.raises(UsageError, match="no node has a pod waiting"):
        choose_nodes("failing", nodes, [])
    with pytest.raises(UsageError, match="unknown node 'x'"):
        choose_nodes("a,x", nodes, [])


def test_report_from_log_skips_stderr_lines_and_says_when_there_is_none() -> None:
    doc = node_report("n1", code=Code.NET_REFUSED)
    s = report_from_log("warning: something {odd}\n" + json.dumps(doc, indent=2), "n1")
    assert s.node == "n1" and s.problems[0].code == Code.NET_REFUSED
    empty = report_from_log("pulldoctor: error: bad reference\n", "n2")
    assert empty.problems[0].code is None
    assert "bad reference" in empty.problems[0].evidence[0]


class InterruptedApi:
    """The server creates the second Job, but Ctrl-C arrives before the client hears back."""

    def __init__(self) -> None:
        self.jobs: dict[str, dict[str, str]] = {}
        self.deleted: list[str] = []

    def nodes(self) -> list[NodeView]:
        return [NodeView("n1"), NodeView("n2")]

    def pods(self, namespace: str | None = None, *, labels: dict[str, str] | None = None,
             node: str | None = None) -> list[PodView]:
        return []

    def events(self, namespace: str | None = None) -> list[EventView]:
        return []

    def create(self, manifest: dict[str, Any], namespace: str) -> str:
        name = manifest["metadata"]["name"]
        self.jobs[name] = manifest["metadata"]["labels"]
        if len(self.jobs) == 2:
            raise KeyboardInterrupt
        return str(name)

    def job_names(self, namespace: str, labels: dict[str, str]) -> list[str]:
        return [n for n, lab in self.jobs.items() if lab.get(RUN_LABEL) == labels[RUN_LABEL]]

    def delete_job(self, name: str, namespace: str) -> None:
        self.deleted.append(name)
        self.jobs.pop(name)

    def log(self, pod: str, namespace: str) -> str:
        return ""


def test_a_job_created_as_ctrl_c_arrives_is_deleted_too() -> None:
    api = InterruptedApi()
    with pytest.raises(KeyboardInterrupt):
        probe(api, ProbeOptions(image="x/y:1", nodes="all"))
    assert len(api.deleted) == 2 and api.jobs == {}
