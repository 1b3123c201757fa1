"""``diagnose`` and ``host`` with real credential-helper programs on PATH, end to end through the
CLI (no lab: the registry is a refused port on this machine's loopback, nothing leaves the host).

A helper that stops containers/image is its cause, ranked before the walk's own failure; docker
is never blamed for a helper ``docker pull`` ignores; and what a helper answers (a secret planted
in its JSON and its stderr) appears in no output format.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from pulldoctor.host import inspect_host
from pulldoctor.report.html_page import render_html
from pulldoctor.report.render import render
from pulldoctor.report.terminal import render_rich
from pulldoctor.report.view import report_data

SECRET = "planted-in-the-helper-4b1d7e"


def _refused_port() -> int:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = int(s.getsockname()[1])
    s.close()  # nothing listens there now: connections are refused
    return port


def _write(path: Path, text: str, mode: int | None = None) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    if mode is not None:
        path.chmod(mode)


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    home = tmp_path / "home"
    (home / ".config/containers/registries.d").mkdir(parents=True)
    _write(home / ".config/containers/policy.json",
           json.dumps({"default": [{"type": "insecureAcceptAnything"}]}))
    _write(tmp_path / "registries.conf", "")
    return {"HOME": str(home), "PATH": f"{tmp_path / 'bin'}:{os.environ['PATH']}",
            "XDG_RUNTIME_DIR": str(tmp_path / "run"), "LANG": "C.UTF-8",
            "CONTAINERS_REGISTRIES_CONF": str(tmp_path / "registries.conf"),
            **({"PYTHONPATH": os.environ["PYTHONPATH"]} if "PYTHONPATH" in os.environ else {})}


def run(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "pulldoctor", *args], capture_output=True,
                          text=True, timeout=60, env=env)


def test_containers_image_stops_at_the_helper_before_the_network(tmp_path: Path,
                                                                 env: dict[str, str]) -> None:
    _write(tmp_path / "registries.conf", 'credential-helpers = ["nonexistent-pd"]\n')
    image = f"127.0.0.1:{_refused_port()}/lab/hello"
    r = run(env, "diagnose", image, "--runtime", "podman", "--timeout", "5", "--json")
    assert r.returncode == 1, r.stderr
    rep = json.loads(r.stdout)
    assert [c["code"] for c in rep["causes"]][:2] == ["registry.credential_helper", "net.refused"]
    assert [s["name"] for s in rep["steps"]][:2] == ["config", "credential helper"]
    helper = rep["steps"][1]
    assert helper["outcome"] == "problem" and helper["data"]["helpers"][0]["status"] == "missing"
    assert any("before any network step" in e for e in rep["causes"][0]["evidence"])


def test_docker_pull_is_not_blamed_on_a_helper_it_ignores(tmp_path: Path,
                                                          env: dict[str, str]) -> None:
    _write(Path(env["HOME"]) / ".docker/config.json", json.dumps({"credsStore": "desktop-pd"}))
    image = f"127.0.0.1:{_refused_port()}/lab/hello"
    rep = json.loads(run(env, "diagnose", image, "--runtime", "docker", "--timeout", "5",
                         "--json").stdout)
    assert "registry.credential_helper" not in [c["code"] for c in rep["causes"]]
    assert rep["causes"][0]["code"] == "net.refused"
    helper = next(s for s in rep["steps"] if s["name"] == "credential helper")
    assert helper["outcome"] == "warning"
    assert any("docker pull ignores the helper's error" in e for e in helper["evidence"])


def test_what_a_helper_answers_reaches_no_output(tmp_path: Path, env: dict[str, str],
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    _write(tmp_path / "bin/docker-credential-pdsecret",
           "#!/bin/sh\nread -r server\n"
           f'echo "debug: token {SECRET} for $server" >&2\n'
           f'printf \'{{"ServerURL":"%s","Username":"bob","Secret":"{SECRET}"}}\' "$server"\n',
           0o755)
    _write(Path(env["HOME"]) / ".docker/config.json", json.dumps({"credsStore": "pdsecret"}))
    _write(tmp_path / "registries.conf", 'credential-helpers = ["pdsecret"]\n')
    image = f"127.0.0.1:{_refused_port()}/lab/hello"
    outputs: list[str] = []
    for runtime in ("docker", "podman"):
        for cmd in (["host", image], ["diagnose", image, "--timeout", "5"]):
            for fmt in ([], ["--json"], ["--format", "markdown"], ["-v"]):
                html = tmp_path / f"{runtime}-{cmd[0]}-{len(fmt)}.html"
                r = run(env, *cmd, "--runtime", runtime, *fmt, "--html", str(html))
                assert r.returncode in (0, 1), r.stderr
                outputs += [r.stdout, r.stderr, html.read_text()]
        # the helper did answer, and said so without the answer
        rep = json.loads(run(env, "host", image, "--runtime", runtime, "--json").stdout)
        helpers = rep["config"]["credential_helpers"]
        assert helpers[0]["status"] == "answered" and "debug: token ***" in helpers[0]["stderr"]
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    rep = inspect_host(image, "docker", env=env)
    outputs += [render_rich(report_data(rep), width=100, colour=True), render_html(rep),
                *(render(rep, f) for f in ("text", "json", "markdown"))]
    assert all(SECRET not in o for o in outputs)
    assert len(outputs) == 16 * 3 + 5
