"""The live progress view diagnose drives: spinner while running, steps as they finish."""

from __future__ import annotations

import io
import re
import threading

import pytest
import report_samples as samples
from rich.console import Console

from pulldoctor.model import Outcome, Step
from pulldoctor.report.terminal import LiveProgress

SPINNER = re.compile("[⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏]")
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


class FakeTTY(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.mark.parametrize("no_color", ["", "1"])
def test_live_view_shows_spinner_then_finished_steps(no_color: str,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NO_COLOR", no_color)
    monkeypatch.setenv("TERM", "xterm")
    out = FakeTTY()
    progress = LiveProgress(out)
    assert progress.live  # NO_COLOR removes colour, not the live view
    with progress:
        progress.on_start("dns")
        progress.on_start("tcp")
        frame = ANSI.sub("", out.getvalue())
        assert "dns" in frame and "tcp" in frame and SPINNER.search(frame)
        mark = len(out.getvalue())
        progress.on_step(Step("dns", Outcome.OK, 0.012, "resolved"))
        after = ANSI.sub("", out.getvalue()[mark:])
        assert "resolved" in after and "12 ms" in after
        colours = re.findall(r"\x1b\[[0-9;]*m", out.getvalue())
        assert bool([c for c in colours if c not in ("\x1b[0m", "\x1b[1m", "\x1b[2m", "\x1b[3m")]) \
            == (no_color == "")
    assert progress.running == ["tcp"]
    assert [s["name"] for s in progress.done] == ["dns"]


def test_plain_mode_prints_one_line_per_step() -> None:
    out = io.StringIO()  # not a terminal
    progress = LiveProgress(out)
    assert not progress.live
    with progress:
        for step in samples.diagnose_report().steps:
            progress.on_start(step.name)
            progress.on_step(step)
    lines = out.getvalue().splitlines()
    assert lines[0] == "pulldoctor: ok       dns (12 ms) registry.lab.test -> 198.18.2.2 (udp and tcp)"
    assert lines[2].startswith("pulldoctor: PROBLEM  tls (31 ms)")
    assert lines[3] == "pulldoctor: blocked  ping (-)"
    assert "\x1b[" not in out.getvalue() and len(lines) == 6


def test_callbacks_from_many_threads_lose_nothing() -> None:
    progress = LiveProgress(FakeTTY())
    names = [f"layer-{i}" for i in range(40)]

    def work(name: str) -> None:
        progress.on_start(name)
        progress.on_step(Step(name, Outcome.OK, 0.001))

    with progress:
        threads = [threading.Thread(target=work, args=(n,)) for n in names]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=30)
    assert sorted(s["name"] for s in progress.done) == sorted(names)
    assert progress.running == []
    rendered = io.StringIO()
    Console(file=rendered, width=100, force_terminal=False).print(progress)
    assert all(n in rendered.getvalue() for n in names)
