"""``pulldoctor host``: what this host's runtime will use to pull an image, and what on the host
(resolver, kernel UDP, firewall, routes, disk, memory, clock) could make it fail."""

from __future__ import annotations

from pathlib import Path

import click

from pulldoctor.report.options import OutputOptions, output_options

RUNTIMES = ("auto", "docker", "containerd", "cri", "kubelet", "podman", "skopeo", "buildah", "crio")


def _check_names() -> list[str]:
    from pulldoctor.host.checks import CHECKS

    return [c.name for c in CHECKS]


@click.command(name="host")
@click.argument("image", required=False)
@click.option("--runtime", type=click.Choice(RUNTIMES), default="auto", show_default=True,
              help="Whose configuration to read (auto: the runtime found on this host).")
@click.option("--root", type=click.Path(exists=True, file_okay=False, path_type=Path), default=Path("/"),
              show_default=True, help="Read configuration files under this root (a mounted node image).")
@click.option("--node", default=None, metavar="NAME",
              help="This host's name in the report (facts.node; default $NODE_NAME, else the "
                   "hostname), for fleet merge.")
@click.option("--check", "only", multiple=True, metavar="NAME",
              help="Run only this check (repeatable): daemon_config, containerd_config, "
                   "containers_config, resolver, kernel_udp, firewall, routes_mtu, disk, memory, cpu, clock.")
@output_options
def command(image: str | None, runtime: str, root: Path, node: str | None, only: tuple[str, ...],
            output: OutputOptions) -> int:
    """Inspect this host for why pulls of IMAGE could fail (read-only; root sees more).

    Shows the answer table (endpoints in the order the runtime tries them, scheme, CA, proxy,
    credential source; never a secret), lints daemon.json / config.toml / hosts.toml /
    registries.conf, and checks the resolver, kernel UDP counters, firewall rules, routes and MTU,
    disk, memory, CPU throttling. Exit code 1 when a check found a problem (or crashed), 0 when
    there are at most warnings.

    \b
    Examples:
      pulldoctor host nginx
      pulldoctor host registry.example.com:5000/team/app:1.2 --runtime containerd --json
      sudo pulldoctor host --check firewall --check kernel_udp
    """
    from pulldoctor.errors import UsageError
    from pulldoctor.host import inspect_host
    from pulldoctor.model import Outcome

    names = _check_names()
    unknown = [n for n in only if n not in names]
    if unknown:
        raise UsageError(f"unknown check {unknown[0]!r}: choose from {', '.join(names)}")
    report = inspect_host(image, runtime, root=root, only=list(only) or None, node=node)
    output.emit(report)
    # warnings (settings that do nothing, drift) are shown but do not fail the command
    return 1 if any(s.outcome in (Outcome.PROBLEM, Outcome.CRASHED) for s in report.steps) else 0
