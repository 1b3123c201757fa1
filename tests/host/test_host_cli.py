"""``pulldoctor host`` end to end as a user runs it: JSON valid against the schema, no secret in any
output, clean one-line errors for bad input, useful output on a machine with no runtime at all."""

from __future__ import annotations

import base64
import json
import subprocess
import sys
from pathlib import Path

import jsonschema

SCHEMA = Path(__file__).resolve().parents[2] / "src/pulldoctor/report/schema.json"


def run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "pulldoctor", "host", *args], capture_output=True,
                          text=True, timeout=60, env=env)


def write(root: Path, path: str, text: str) -> None:
    p = root / path.lstrip("/")
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_text(text)


def test_json_matches_schema_and_hides_secrets(tmp_path: Path) -> None:
    secret = "Sup3r-Secret-Pw"
    auth = base64.b64encode(f"me:{secret}".encode()).decode()
    write(tmp_path, "/etc/docker/daemon.json", json.dumps({"registry-mirrors": ["mirror.corp"]}))
    write(tmp_path, "/etc/resolv.conf", "nameserver 198.18.0.53\n")
    write(tmp_path, "/root/.docker/config.json", json.dumps({"auths": {"https://index.docker.io/v1/":
                                                                        {"auth": auth}}}))
    r = run("nginx", "--runtime", "docker", "--root", str(tmp_path), "--check", "daemon_config",
            "--check", "resolver", "--json", env={"HOME": "/root", "PATH": "/usr/bin:/bin"})
    assert r.returncode == 1, r.stderr
    doc = json.loads(r.stdout)
    jsonschema.validate(doc, json.loads(SCHEMA.read_text()))
    assert doc["causes"][0]["code"] == "daemon.config"
    assert doc["config"]["endpoints"][0]["url"] == "https://mirror.corp"
    assert doc["answer_table"][-1]["credentials"].endswith("auths")
    assert secret not in r.stdout + r.stderr and auth not in r.stdout + r.stderr
    text = run("nginx", "--runtime", "docker", "--root", str(tmp_path), "--check", "daemon_config",
               env={"HOME": "/root", "PATH": "/usr/bin:/bin"})
    assert "https://mirror.corp" in text.stdout and secret not in text.stdout


def test_empty_root_is_healthy_text(tmp_path: Path) -> None:
    write(tmp_path, "/etc/resolv.conf", "nameserver 198.18.0.53\n")
    r = run("--root", str(tmp_path), "--check", "daemon_config", "--check", "containerd_config",
            "--check", "containers_config", "--check", "resolver", env={"PATH": "/usr/bin:/bin"})
    assert r.returncode == 0, r.stdout + r.stderr
    assert "no daemon.json" in r.stdout and "Traceback" not in r.stderr


def test_bad_input_one_line_errors(tmp_path: Path) -> None:
    for args in (["BAD//ref"], ["--check", "nope"], ["--root", str(tmp_path / "missing")],
                 ["--runtime", "rkt"]):
        r = run(*args)
        assert r.returncode == 2, (args, r.stdout, r.stderr)
        assert "Traceback" not in r.stderr and r.stderr.strip()
