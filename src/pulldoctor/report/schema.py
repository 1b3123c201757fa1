"""The JSON Schema of every command's JSON output, shipped as ``report/schema.json``.

The schema is a data file (not generated at run time) so it can be published and diffed; a test
keeps its ``code`` enum identical to the cause catalogue and its version equal to
:data:`pulldoctor.report.model.SCHEMA_VERSION`.
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
