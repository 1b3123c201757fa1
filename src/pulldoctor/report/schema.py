"""The JSON Schema of every command's JSON output, shipped as ``report/schema.json``.

The schema is a data file (not generated at run time) so it can be published and diffed. Its
enumerations are not written by hand: :func:`generate` fills them from their one source (cause
codes and areas from :mod:`pulldoctor.causes`, outcomes, severities, commands and the version from
:mod:`pulldoctor.model`, credential helper statuses from :mod:`pulldoctor.config.model`), and ``python -m pulldoctor.report.schema --write`` rewrites the shipped
file; a test fails while the shipped file differs from what :func:`generate` gives.
"""

from __future__ import annotations

import json
from importlib import resources
from typing import Any

_SCHEMA_RESOURCE = "schema.json"
_CAUSES_SCHEMA_RESOURCE = "causes.schema.json"
"""``pulldoctor causes --json`` is a catalogue, not a report: it has a schema of its own."""


def schema_text() -> str:
    """The schema exactly as shipped."""
    return resources.files("pulldoctor.report").joinpath(_SCHEMA_RESOURCE).read_text(encoding="utf-8")


def load_schema() -> dict[str, Any]:
    """The schema as a dict."""
    data: dict[str, Any] = json.loads(schema_text())
    return data


def generate(template: dict[str, Any] | None = None) -> dict[str, Any]:
    """The schema with every enumeration taken from its source of truth (see the module doc)."""
    import copy

    from pulldoctor.causes import CODES, RUNTIMES, Area
    from pulldoctor.config.model import HelperStatus
    from pulldoctor.model import (
        ENDPOINT_OUTCOMES,
        FLEET_COMMANDS,
        REPORT_COMMANDS,
        SCHEMA_VERSION,
        SCOPES,
        SEVERITIES,
        STEP_COMMANDS,
        Outcome,
    )

    doc = copy.deepcopy(template if template is not None else load_schema())
    doc["$id"] = "urn:pulldoctor:report:" + SCHEMA_VERSION
    doc["properties"]["schema_version"] = {"const": SCHEMA_VERSION}
    doc["properties"]["command"]["enum"] = list(REPORT_COMMANDS)
    doc["allOf"][1]["if"]["properties"]["command"]["enum"] = list(STEP_COMMANDS)
    doc["allOf"][3]["if"]["properties"]["command"]["enum"] = list(FLEET_COMMANDS)
    defs = doc["$defs"]
    defs["code"]["enum"] = [str(c) for c in CODES]
    defs["cause"]["properties"]["area"]["enum"] = [str(a) for a in Area]
    defs["cause"]["properties"]["runtime"]["enum"] = [*RUNTIMES, None]
    defs["cause"]["properties"]["scope"]["enum"] = list(SCOPES)
    defs["finding"]["properties"]["severity"]["enum"] = list(SEVERITIES)
    defs["step"]["properties"]["outcome"]["enum"] = [str(o) for o in Outcome]
    defs["credential_helper"]["properties"]["status"]["enum"] = [str(s) for s in HelperStatus]
    endpoint = doc["properties"]["endpoints"]["items"]["properties"]
    endpoint["outcome"]["enum"] = list(ENDPOINT_OUTCOMES)
    return doc


def generated_text() -> str:
    """What ``schema.json`` must hold, byte for byte."""
    return json.dumps(generate(), indent=2, ensure_ascii=False) + "\n"


def causes_schema_text() -> str:
    """The schema of ``pulldoctor causes --json``, exactly as shipped."""
    return resources.files("pulldoctor.report").joinpath(_CAUSES_SCHEMA_RESOURCE).read_text(
        encoding="utf-8")


def _generate_causes() -> dict[str, Any]:
    """The catalogue's schema, its enumerations taken from :mod:`pulldoctor.causes`."""
    from pulldoctor.causes import CODES, RUNTIMES, Area
    from pulldoctor.model import SCHEMA_VERSION

    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "urn:pulldoctor:causes:" + SCHEMA_VERSION,
        "title": "pulldoctor causes --json: the cause catalogue",
        "description": "Every cause code pulldoctor can name, with its area, title, meaning, and "
                       "the items to confirm and fix it (commands with {image}, {host}... "
                       "placeholders, or sentences; per runtime where they differ). "
                       "The codes are the same as the report schema's $defs.code.",
        "type": "array",
        "items": {
            "type": "object",
            "additionalProperties": False,
            "required": ["code", "area", "title", "meaning", "confirm", "fix"],
            "properties": {
                "code": {"enum": [str(c) for c in CODES]},
                "area": {"enum": [str(a) for a in Area]},
                "title": {"type": "string", "minLength": 1},
                "meaning": {"type": "string", "minLength": 1},
                "confirm": {"type": "array", "items": {"$ref": "#/$defs/advice"}},
                "fix": {"type": "array", "items": {"$ref": "#/$defs/advice"}},
            },
        },
        "$defs": {"advice": {
            "type": "object",
            "additionalProperties": False,
            "required": ["text", "command", "runtimes", "unless", "when"],
            "description": "one confirm or fix item: a shell command (command true; runnable once "
                           "its {placeholders} are filled) or a sentence for a person",
            "properties": {
                "text": {"type": "string", "minLength": 1},
                "command": {"type": "boolean"},
                "runtimes": {"type": "array", "items": {"enum": list(RUNTIMES)},
                             "description": "only for these runtimes; empty for all"},
                "unless": {"type": "array", "items": {"type": "string"},
                           "description": "left out of a report that says any of these"},
                "when": {"type": "array", "items": {"type": "string"},
                         "description": "only in a report that says one of these; empty: "
                                        "always"},
            },
        }},
    }


def generated_causes_text() -> str:
    """What ``causes.schema.json`` must hold, byte for byte."""
    return json.dumps(_generate_causes(), indent=2, ensure_ascii=False) + "\n"


def _main(argv: list[str]) -> int:
    """``python -m pulldoctor.report.schema [--write]``: check (exit 1 when stale) or rewrite both
    shipped schemas (the report's and the catalogue's)."""
    from pathlib import Path

    files = ((Path(__file__).with_name(_SCHEMA_RESOURCE), generated_text()),
             (Path(__file__).with_name(_CAUSES_SCHEMA_RESOURCE), generated_causes_text()))
    if "--write" in argv:
        for path, want in files:
            path.write_text(want, encoding="utf-8")
        return 0
    return 0 if all(p.exists() and p.read_text(encoding="utf-8") == w for p, w in files) else 1


if __name__ == "__main__":
    import sys

    raise SystemExit(_main(sys.argv[1:]))
