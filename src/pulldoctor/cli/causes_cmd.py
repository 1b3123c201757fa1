"""``pulldoctor causes``: the cause catalogue, for people and for scripts."""

from __future__ import annotations

import json

import click

from pulldoctor.causes import CATALOGUE, Advice


def _item(a: Advice) -> dict[str, object]:
    return {"text": a.text, "command": a.command, "runtimes": list(a.runtimes),
            "unless": list(a.unless), "when": list(a.when)}


@click.command(name="causes")
@click.option("--json", "as_json", is_flag=True, help="Print the catalogue as JSON.")
def command(as_json: bool) -> int:
    """List every cause code pulldoctor can name, with its area and title.

    --json prints the catalogue as a JSON array; its schema is `pulldoctor schema --causes`.

    \b
    Examples:
      pulldoctor causes
      pulldoctor causes --json | jq -r '.[].code'
    """
    if as_json:
        click.echo(json.dumps([
            {"code": c.code, "area": str(c.area), "title": c.title, "meaning": c.meaning,
             "confirm": [_item(a) for a in c.confirm], "fix": [_item(a) for a in c.fix]}
            for c in CATALOGUE.values()
        ], indent=2))
    else:
        width = max(len(c) for c in CATALOGUE)
        for c in CATALOGUE.values():
            click.echo(f"{c.code:<{width}}  {c.area:<9}  {c.title}")
    return 0
