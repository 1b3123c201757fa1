"""The JSON Schema: valid draft 2020-12, in sync with the catalogue, and true of real reports."""

from __future__ import annotations

import copy
import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import report_samples as samples

from pulldoctor.causes import CODES, Area, Code
from pulldoctor.model import SCHEMA_VERSION, Outcome
from pulldoctor.report.render import render_json
from pulldoctor.report.schema import generate, generated_text, load_schema, schema_text

DEV_ERRORS = Path("/work/shared/real-errors/dev.jsonl")


@pytest.fixture(scope="module")
def validator() -> jsonschema.protocols.Validator:
    schema = load_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


def _errors(validator: jsonschema.protocols.Validator, doc: Any) -> list[str]:
    return [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(doc)]


def test_schema_is_draft_2020_12_and_versioned() -> None:
    schema = load_schema()
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["$id"].endswith(SCHEMA_VERSION)
    assert schema["properties"]["schema_version"] == {"const": SCHEMA_VERSION}


def test_shipped_schema_is_generated_from_its_sources() -> None:
    """Fails when a cause, outcome, severity or command is added without regenerating the
    schema (``python -m pulldoctor.report.schema --write``), or when the file is edited by hand."""
    assert schema_text() == generated_text()
    schema = load_schema()
    assert schema["$defs"]["code"]["enum"] == [str(c) for c in Code]
    assert set(schema["$defs"]["cause"]["properties"]["area"]["enum"]) == {str(a) for a in Area}
    assert set(schema["$defs"]["step"]["properties"]["outcome"]["enum"]) == {str(o) for o in Outcome}


def test_stale_schema_is_detected(tmp_path: Path) -> None:
    """The check itself can fail: a schema missing a code is not what generate() gives."""
    doc = load_schema()
    doc["$defs"]["code"]["enum"] = doc["$defs"]["code"]["enum"][:-1]
    assert generate(doc) != doc
    assert generate(doc)["$defs"]["code"]["enum"] == [str(c) for c in Code]


@pytest.mark.parametrize("name", sorted(samples.ALL))
def test_model_built_reports_validate(validator: jsonschema.protocols.Validator, name: str) -> None:
    doc = json.loads(render_json(samples.ALL[name]()))
    assert _errors(validator, doc) == []


def test_schema_rejects_what_the_contract_forbids(validator: jsonschema.protocols.Validator) -> None:
    good = json.loads(render_json(samples.diagnose_report()))
    bad_code = copy.deepcopy(good)
    bad_code["causes"][0]["code"] = "dns.udp-timeout"
    bad_outcome = copy.deepcopy(good)
    bad_outcome["steps"][0]["outcome"] = "failed"
    no_steps = copy.deepcopy(good)
    del no_steps["steps"]
    bad_conf = copy.deepcopy(good)
    bad_conf["causes"][0]["confidence"] = 1.5
    scan_no_groups = json.loads(render_json(samples.scan_report()))
    del scan_no_groups["groups"]
    host = json.loads(render_json(samples.host_report()))
    host["config"]["credentials"][0]["password"] = "x"
    for doc in (bad_code, bad_outcome, no_steps, bad_conf, scan_no_groups, host):
        assert _errors(validator, doc), doc


def test_real_explain_reports_validate(validator: jsonschema.protocols.Validator) -> None:
    """Every real labelled error text, explained by the real explainer, gives a valid report."""
    from pulldoctor.explain import explain

    texts = [json.loads(line)["text"] for line in DEV_ERRORS.read_text().splitlines() if line.strip()]
    assert len(texts) > 50
    texts += ["", "hello world", "\x00\xff binary junk"]
    problems = {t[:80]: e for t in texts if (e := _errors(validator, explain(t).to_dict()))}
    assert problems == {}


def test_real_scan_report_validates(validator: jsonschema.protocols.Validator, tmp_path: Path) -> None:
    from pulldoctor.explain.scan_files import scan

    log = tmp_path / "kubelet.log"
    lines = [json.loads(line)["text"].replace("\n", " ")
             for line in DEV_ERRORS.read_text().splitlines()[:40] if line.strip()]
    log.write_text("\n".join(f"Nov 29 08:0{i % 10}:00 node1 kubelet[1]: {t}"
                             for i, t in enumerate(lines)) + "\n")
    report = scan([str(log)])
    doc = report.to_dict()
    assert "groups" in doc
    assert _errors(validator, doc) == []
    assert _errors(validator, json.loads(render_json(report))) == []


@pytest.mark.parametrize("command", ["explain", "scan", "host"])
def test_cli_json_output_validates(validator: jsonschema.protocols.Validator, command: str,
                                   tmp_path: Path) -> None:
    """The real command's --json output, where the command exists and runs offline here.

    (``diagnose`` is not run here: against a real name it would use this machine's resolver; its
    real reports are validated by the lab-backed diagnose tests and here through its model.)
    """
    from pulldoctor.cli import COMMANDS

    module = COMMANDS[command][0]
    import importlib.util

    if importlib.util.find_spec(module) is None:
        pytest.skip(f"{module} not written yet")
    text = json.loads(DEV_ERRORS.read_text().splitlines()[0])["text"]
    log = tmp_path / "x.log"
    log.write_text(text + "\n")
    argv = {
        "explain": ["explain", "--json", text],
        "scan": ["scan", "--json", str(log)],
        "host": ["host", "--json"],
    }[command]
    proc = subprocess.run([sys.executable, "-m", "pulldoctor", *argv], capture_output=True,
                          text=True, timeout=60, check=False)
    assert proc.returncode in (0, 1), proc.stderr
    assert _errors(validator, json.loads(proc.stdout)) == []


def test_schema_command_prints_the_shipped_schema() -> None:
    exe = shutil.which("pulldoctor", path=str(Path(sys.executable).parent))
    argv = [exe] if exe else [sys.executable, "-m", "pulldoctor"]
    proc = subprocess.run([*argv, "schema"], capture_output=True, text=True, timeout=30, check=False)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == schema_text()
    assert json.loads(proc.stdout)["$defs"]["code"]["enum"] == list(CODES)


def test_causes_json_validates_against_its_own_shipped_schema() -> None:
    from pulldoctor.report.schema import causes_schema_text, generated_causes_text

    assert causes_schema_text() == generated_causes_text(), "run python -m pulldoctor.report.schema --write"
    schema = json.loads(causes_schema_text())
    jsonschema.Draft202012Validator.check_schema(schema)
    proc = subprocess.run([sys.executable, "-m", "pulldoctor", "causes", "--json"],
                          capture_output=True, text=True, timeout=60, check=False)
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    jsonschema.Draft202012Validator(schema).validate(doc)
    assert {c["code"] for c in doc} == set(load_schema()["$defs"]["code"]["enum"])
    printed = subprocess.run([sys.executable, "-m", "pulldoctor", "schema", "--causes"],
                             capture_output=True, text=True, timeout=60, check=False)
    assert printed.stdout == causes_schema_text()
    broken = [dict(doc[0], code="not.a.code")]
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.Draft202012Validator(schema).validate(broken)
