"""The shipped systemd unit and DaemonSet run options the watch command really has (no drift),
and the unit passes ``systemd-analyze verify``. (The DaemonSet's schema validation is in
tests/k8s/test_manifests.py, which validates every file in deploy/kubernetes.)"""

from __future__ import annotations

import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import click
import pytest
import yaml

from pulldoctor.cli.watch_cmd import command

ROOT = Path(__file__).resolve().parents[2]
UNIT = ROOT / "contrib/systemd/pulldoctor-watch.service"
DAEMONSET = ROOT / "deploy/kubernetes/watch-daemonset.yaml"


def _parse(args: list[str]) -> dict[str, object]:
    """The raw option values (no type conversion: /host need not exist here); an unknown
    option raises, as the real command line would."""
    ctx = click.Context(command, info_name="watch")
    opts, rest, _ = command.make_parser(ctx).parse_args(list(args))
    assert rest == [], rest
    return opts


def _exec_start() -> list[str]:
    line = next(ln for ln in UNIT.read_text().splitlines() if ln.startswith("ExecStart="))
    return shlex.split(line.removeprefix("ExecStart="))


def test_unit_options_exist() -> None:
    argv = _exec_start()
    assert argv[0].endswith("/pulldoctor") and argv[1] == "watch"
    params = _parse(argv[2:])
    assert params["journal"] is True and params["listen"] == "127.0.0.1:9890"


def test_unknown_options_are_caught_by_this_check() -> None:
    with pytest.raises(click.NoSuchOption):
        _parse(["--no-such-option"])


def test_daemonset_options_exist_and_it_reads_the_node() -> None:
    docs = [d for d in yaml.safe_load_all(DAEMONSET.read_text()) if d]
    ds = next(d for d in docs if d["kind"] == "DaemonSet")
    pod = ds["spec"]["template"]["spec"]
    (c,) = pod["containers"]
    assert c["args"][0] == "watch"
    params = _parse(c["args"][1:])
    assert params["journal"] and params["k8s"] and str(params["root"]) == "/host"
    mounts = {m["mountPath"]: m for m in c["volumeMounts"]}
    assert mounts["/host/var/log/journal"]["readOnly"] and mounts["/host/etc"]["readOnly"]
    assert not mounts["/var/lib/pulldoctor"].get("readOnly")  # the history survives restarts
    assert pod["hostNetwork"] is True
    role = next(d for d in docs if d["kind"] == "ClusterRole")
    assert role["rules"] == [{"apiGroups": [""], "resources": ["events"],
                              "verbs": ["get", "list", "watch"]}]


def test_unit_verifies(tmp_path: Path) -> None:
    if shutil.which("systemd-analyze") is None:
        pytest.fail("needs systemd-analyze (Debian's systemd package)")
    exe = Path(sys.executable).with_name("pulldoctor")
    text = UNIT.read_text().replace("/usr/local/bin/pulldoctor", str(exe))
    unit = tmp_path / UNIT.name
    unit.write_text(text)
    r = subprocess.run(["systemd-analyze", "verify", str(unit)], capture_output=True, text=True,
                       timeout=60)
    problems = [ln for ln in (r.stdout + r.stderr).splitlines()
                if UNIT.name in ln or "Unknown" in ln or "nvalid" in ln]
    assert r.returncode == 0 and problems == [], r.stdout + r.stderr
