"""The command line: one module per command, loaded lazily, no diagnosis logic here.

Each command module under ``pulldoctor.cli`` defines one click command. They are registered in
:data:`COMMANDS` explicitly (not discovered), and imported only when invoked, so
``pulldoctor explain`` never pays for importing httpx or the lab.

Exit codes are :class:`ExitCode`; only :func:`main` turns them into a process exit.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
from enum import IntEnum
from typing import Any

import click


class ExitCode(IntEnum):
    """Process exit codes, documented in the README."""

    HEALTHY = 0  #: nothing wrong found
    PROBLEM = 1  #: a problem (a cause) was found
    USAGE = 2  #: bad arguments or input
    INTERNAL = 3  #: pulldoctor itself failed (a bug, or it could not run its checks)
    INTERRUPTED = 130  #: Ctrl-C (128 + SIGINT, as shells report it); stderr says what it stopped


COMMANDS: dict[str, tuple[str, str]] = {
    # name: (module, short help) - the help is here so `pulldoctor --help` imports nothing else
    "explain": ("pulldoctor.cli.explain_cmd", "Name the root cause of a pull error text."),
    "scan": ("pulldoctor.cli.scan_cmd", "Find and group every pull failure in log files."),
    "diagnose": ("pulldoctor.cli.diagnose_cmd", "Re-walk a pull from this host and prove the cause."),
    "host": ("pulldoctor.cli.host_cmd", "Inspect this host: effective pull config, kernel, firewall."),
    "watch": ("pulldoctor.cli.watch_cmd", "Catch each pull failure as it happens; history, metrics."),
    "history": ("pulldoctor.cli.history_cmd", "List the failures watch recorded; show a report."),
    "npd-check": ("pulldoctor.cli.npd_cmd", "node-problem-detector plugin: recent pull failures?"),
    "fleet": ("pulldoctor.cli.fleet_cmd", "Merge many hosts' reports: what the failing nodes share."),
    "k8s": ("pulldoctor.cli.k8s_cmd", "Kubernetes: failing pulls per node (scan), probe nodes (probe)."),
    "lab": ("pulldoctor.cli.lab_cmd", "Reproduce pull failures with real parts (root)."),
    "demo": ("pulldoctor.cli.demo_cmd", "See a misleading docker error, then the proven cause (root)."),
    "causes": ("pulldoctor.cli.causes_cmd", "List every cause code pulldoctor can name."),
    "schema": ("pulldoctor.cli.schema_cmd", "Print the JSON Schema of --json output."),
    "completion": ("pulldoctor.cli.completion_cmd", "Print a shell completion script."),
}


class _LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return [n for n, (mod, _) in COMMANDS.items() if importlib.util.find_spec(mod) is not None]

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        entry = COMMANDS.get(cmd_name)
        if entry is None:
            return None
        try:
            module = importlib.import_module(entry[0])
        except ModuleNotFoundError as exc:
            if exc.name == entry[0]:
                return None
            raise
        cmd: click.Command = module.command
        return cmd

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = [(n, COMMANDS[n][1]) for n in self.list_commands(ctx)]
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)


@click.group(cls=_LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="pulldoctor", prog_name="pulldoctor")
def cli() -> None:
    """pulldoctor: find out why a container image pull failed, with evidence.

    \b
    Examples:
      pulldoctor explain 'error pulling image configuration: download failed after attempts=6: ...'
      kubectl get events -o json | pulldoctor scan -
      pulldoctor diagnose nginx:latest
      pulldoctor host nginx --json
      sudo pulldoctor demo
    """


def _without_trio() -> None:
    """Make ``import trio`` fail for the rest of this process, unless something already loaded it.

    Why: pulldoctor runs on asyncio only, but httpcore and dnspython import trio at module import
    when it is installed (to support it), and on a machine that has it that import costs about
    0.1 s, half of the time ``diagnose`` takes to name an instant failure. The CLI is the only
    entry point that does this; code that imports pulldoctor as a library is left alone.
    """
    sys.modules.setdefault("trio", None)  # type: ignore[arg-type]


def main(argv: list[str] | None = None) -> int:
    """Run the CLI and return an exit code; the only place that maps errors to exits."""
    from pulldoctor.errors import PulldoctorError, UsageError
    from pulldoctor.redact import install_log_redaction

    # Libraries log URLs and errors (httpx, lightkube, prometheus_client); Python prints WARNING
    # records to stderr even unconfigured. Every record is redacted as it is created.
    install_log_redaction()
    _without_trio()
    try:
        rv: Any = cli.main(args=argv, prog_name="pulldoctor", standalone_mode=False)
    except click.exceptions.Exit as exc:
        return int(exc.exit_code)
    except click.ClickException as exc:
        exc.show()
        return ExitCode.USAGE
    except click.exceptions.Abort as exc:  # click turns Ctrl-C into Abort (after a newline)
        cause = exc.__cause__ or exc.__context__
        what = str(cause) if isinstance(cause, KeyboardInterrupt) and str(cause) else "interrupted"
        click.echo(f"pulldoctor: {what}", err=True)
        return ExitCode.INTERRUPTED
    except UsageError as exc:  # messages quote the input, which may carry user:password@
        from pulldoctor.redact import redact

        click.echo(f"pulldoctor: error: {redact(str(exc))}", err=True)
        return ExitCode.USAGE
    except PulldoctorError as exc:
        from pulldoctor.redact import redact

        click.echo(f"pulldoctor: {redact(str(exc))}", err=True)
        return ExitCode.INTERNAL
    except KeyboardInterrupt as exc:
        click.echo(f"pulldoctor: {exc or 'interrupted'}", err=True)
        return ExitCode.INTERRUPTED
    except BrokenPipeError:
        sys.stderr.close()
        return ExitCode.HEALTHY
    except Exception as exc:
        from pulldoctor.redact import redact

        click.echo(
            f"pulldoctor: internal error ({type(exc).__name__}): {redact(str(exc))} "
            "(set PULLDOCTOR_DEBUG=1 for a traceback)",
            err=True,
        )
        import os

        if os.environ.get("PULLDOCTOR_DEBUG"):
            raise
        return ExitCode.INTERNAL
    return int(rv) if isinstance(rv, int) else ExitCode.HEALTHY
