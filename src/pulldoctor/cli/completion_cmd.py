"""``pulldoctor completion SHELL``: print the shell completion script (click's machinery).

The script calls pulldoctor back with ``_PULLDOCTOR_COMPLETE=<shell>_complete`` set; click answers
those calls inside :func:`pulldoctor.cli.main` before any command runs, so completion needs no code
here beyond printing the script.
"""

from __future__ import annotations

import click

SHELLS = ("bash", "zsh", "fish")
_COMPLETE_VAR = "_PULLDOCTOR_COMPLETE"


def _completion_script(shell: str, prog_name: str = "pulldoctor") -> str:
    """The completion script ``shell`` sources, for the top-level pulldoctor group."""
    from click.shell_completion import get_completion_class

    from pulldoctor.cli import cli

    cls = get_completion_class(shell)
    if cls is None:  # click.Choice below makes this unreachable from the command line
        raise click.UsageError(f"unsupported shell {shell!r} (choose from: {', '.join(SHELLS)})")
    return cls(cli, {}, prog_name, _COMPLETE_VAR).source()


@click.command(name="completion")
@click.argument("shell", type=click.Choice(SHELLS))
def command(shell: str) -> int:
    """Print the completion script for SHELL (bash, zsh or fish).

    \b
    Examples:
      # bash: this session, then for good
      source <(pulldoctor completion bash)
      pulldoctor completion bash > /etc/bash_completion.d/pulldoctor
      # zsh
      pulldoctor completion zsh > "${fpath[1]}/_pulldoctor"
      # fish
      pulldoctor completion fish > ~/.config/fish/completions/pulldoctor.fish
    """
    click.echo(_completion_script(shell), nl=False)
    return 0
