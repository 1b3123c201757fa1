"""``pulldoctor schema``: the JSON Schema that every ``--json`` output follows."""

from __future__ import annotations

import click


@click.command(name="schema")
def command() -> int:
    """Print the JSON Schema (draft 2020-12) of the --json output of every command.

    The schema is versioned (its "$id" and every report's "schema_version"); cause codes are
    limited to the catalogue (`pulldoctor causes`).

    \b
    Examples:
      pulldoctor schema > pulldoctor-report.schema.json
      pulldoctor explain --json 'manifest unknown' | check-jsonschema --schemafile pulldoctor-report.schema.json -
      pulldoctor schema | jq '."$defs".code.enum'
    """
    from pulldoctor.report.schema import schema_text

    click.echo(schema_text(), nl=False)
    return 0
