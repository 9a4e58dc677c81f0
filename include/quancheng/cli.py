"""The ``quancheng`` command line: one entry point, subcommands loaded lazily.

Each area keeps its commands beside its code (``quancheng/<area>/commands.py``); this module only
lists them, so ``quancheng --help`` stays fast. Errors that are the input's fault
(:class:`quancheng.errors.QuanchengError`) are printed as one clear message with exit code 2.
"""

from __future__ import annotations

import importlib
import sys
from typing import Any

import click

from quancheng.errors import QuanchengError

# command name -> ("module", "attribute", "one-line help")
COMMANDS: dict[str, tuple[str, str, str]] = {
    "catalog": ("quancheng.catalog.commands", "catalog", "Check, count and document the catalog."),
    "ids": ("quancheng.ids.commands", "ids", "Check and normalise Chinese identifiers."),
    "demo": ("quancheng.demo.commands", "demo", "Seed, change and run the demo world of departmental systems."),
    "run": ("quancheng.pipeline_commands", "run", "Run one system's sync (extract, normalize, validate, publish)."),
    "datasets": ("quancheng.publish.commands", "datasets", "List the shared datasets."),
    "status": ("quancheng.ops.commands", "status", "Show the latest state of every system."),
    "sharing": ("quancheng.sharing.commands", "sharing", "Roles, schemas and grants from the catalog; clear-ID scan."),
    "onboard": ("quancheng.onboard.commands", "onboard", "Onboard a new system: introspect, suggest mappings, accept."),
    "serve": ("quancheng.serve.commands", "serve", "Serve shared datasets and the stage-form prefill as a JSON API."),
}


class LazyGroup(click.Group):
    """A group whose subcommands are imported only when used."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name not in COMMANDS:
            return None
        mod, attr, _ = COMMANDS[name]
        try:
            cmd: click.Command = getattr(importlib.import_module(mod), attr)
        except ModuleNotFoundError as exc:
            if exc.name != mod:
                raise

            @click.command(name=name, help=COMMANDS[name][2] + " (not available in this build)")
            def missing() -> None:
                raise click.ClickException(f"'quancheng {name}' is not built yet")

            return missing
        return cmd

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        with formatter.section("Commands"):
            formatter.write_dl([(n, COMMANDS[n][2]) for n in self.list_commands(ctx)])


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(package_name="quancheng")
def cli() -> None:
    """Quancheng Exchange (泉城共享交换): departmental systems -> one canonical schema -> shared datasets."""


def main(argv: list[str] | None = None) -> Any:
    """Console entry point: run the CLI, turning input errors into a clean message."""
    try:
        rv = cli.main(args=argv, standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("Aborted.", err=True)
        sys.exit(130)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except QuanchengError as exc:
        click.secho(f"error: {exc}", fg="red", err=True)
        sys.exit(2)
    except OSError as exc:  # a folder that cannot be written (read-only, full, no permission): name it
        where = f" {exc.filename}" if exc.filename else ""
        click.secho(f"error: cannot use{where}: {exc.strerror or exc} (fix: point --dir or QUANCHENG_HOME at a "
                    "writable folder with free space)", fg="red", err=True)
        sys.exit(2)
    if isinstance(rv, int) and rv:
        sys.exit(rv)
    return rv


if __name__ == "__main__":
    main()
