"""The JSON Schema of every command's JSON output, shipped as ``report/schema.json``.

The schema is a data file (not generated at run time) so it can be published and diffed. Its
enumerations are not written by hand: :func:`generate` fills them from their one source (cause
codes and areas from :mod:`pulldoctor.causes`, outcomes, severities, commands and the version from
:mod:`pulldoctor.model`), and ``python -m pulldoctor.report.schema --write`` rewrites the shipped
file; a test fails while the shipped file differs from what :func:`generate` gives.
"""

from __future__ import annotations

import json
from importlib import resources
from typing import Any

SCHEMA_RESOURCE = "schema.json"


def schema_text() -> str:
    """The schema exactly as shipped."""
    return resources.files("pulldoctor.report").joinpath(SCHEMA_RESOURCE).read_text(encoding="utf-8")


def load_schema() -> dict[str, Any]:
    """The schema as a dict."""
    data: dict[str, Any] = json.loads(schema_text())
    return data


def generate(template: dict[str, Any] | None = None) -> dict[str, Any]:
    """The schema with every enumeration taken from its source of truth (see the module doc)."""
    import copy

    from pulldoctor.causes import CODES, Area
    from pulldoctor.model import (
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
    defs["cause"]["properties"]["scope"]["enum"] = list(SCOPES)
    defs["finding"]["properties"]["severity"]["enum"] = list(SEVERITIES)
    defs["step"]["properties"]["outcome"]["enum"] = [str(o) for o in Outcome]
    return doc


def generated_text() -> str:
    """What ``schema.json`` must hold, byte for byte."""
    return json.dumps(generate(), indent=2, ensure_ascii=False) + "\n"


def _main(argv: list[str]) -> int:
    """``python -m pulldoctor.report.schema [--write]``: check (exit 1 when stale) or rewrite."""
    from pathlib import Path

    path = Path(__file__).with_name(SCHEMA_RESOURCE)
    want = generated_text()
    if "--write" in argv:
        path.write_text(want, encoding="utf-8")
        return 0
    return 0 if path.read_text(encoding="utf-8") == want else 1


if __name__ == "__main__":
    import sys

    raise SystemExit(_main(sys.argv[1:]))
