"""``pulldoctor schema``: the JSON Schema that every ``--json`` output follows."""

from __future__ import annotations

import click


@click.command(name="schema")
@click.option("--causes", "causes", is_flag=True,
              help="Print the schema of `pulldoctor causes --json` (the catalogue) instead.")
def command(causes: bool) -> int:
    """Print the JSON Schema (draft 2020-12) of the --json output of every command.

    The schema is versioned (its "$id" and every report's "schema_version"); cause codes are
    limited to the catalogue (`pulldoctor causes`). `pulldoctor causes --json` is the catalogue
    itself, not a report: `pulldoctor schema --causes` prints its own schema.

    \b
    Examples:
      pulldoctor schema > pulldoctor-report.schema.json
      pulldoctor explain --json 'manifest unknown' | check-jsonschema --schemafile pulldoctor-report.schema.json -
      pulldoctor schema | jq '."$defs".code.enum'
      pulldoctor schema --causes > pulldoctor-causes.schema.json
    """
    from pulldoctor.report.schema import causes_schema_text, schema_text

    click.echo(causes_schema_text() if causes else schema_text(), nl=False)
    return 0
