"""The ``kedro mlops`` click group and the options its commands share."""

from __future__ import annotations

import logging
import sys
from typing import TYPE_CHECKING

import click

from kedro_mlops import __version__
from kedro_mlops.hooks.cli import COMMAND_GROUP, click_errors

if TYPE_CHECKING:
    from collections.abc import Callable


@click.group(name="kedro-mlops")
def commands() -> None:
    """kedro-mlops project commands."""


class _MlopsGroup(click.Group):
    """The ``kedro mlops`` group: a domain error of any command ends it as click reports errors
    ("Error: <message>", the error's exit code)."""

    def invoke(self, ctx: click.Context) -> object:
        with click_errors():
            return super().invoke(ctx)


@commands.group(name=COMMAND_GROUP, cls=_MlopsGroup)
@click.version_option(__version__, prog_name="kedro-mlops")
@click.option(
    "--verbose",
    "-v",
    is_flag=True,
    help="Also show Kedro's and kedro-mlflow's INFO logs (on stderr), such as each dataset a "
    "command loads from the catalog.",
)
def mlops(verbose: bool) -> None:
    """Production ML for this Kedro project: tracking, registry, monitoring, images, serving."""
    # the process may go on (tests, a notebook): its log handlers as they were, after the command
    click.get_current_context().call_on_close(_console_logs_to_stderr(verbose=verbose))


# Loggers whose INFO lines say how the project loads (resolvers, each catalog load), not what a
# command does: the console shows their warnings only, unless --verbose (log files keep all).
_LOADING_LOGGERS = ("kedro", "kedro_mlflow")


def _keep_record(record: logging.LogRecord) -> bool:
    """False for a loading logger's INFO (or DEBUG) record: the console drops it."""
    return record.levelno >= logging.WARNING or record.name.split(".")[0] not in _LOADING_LOGGERS


def _console_handlers() -> list[logging.Handler]:
    """The log handlers that print to the console (rich's, streams on stdout or stderr)."""
    handlers = list(logging.getLogger().handlers)
    for logger in list(logging.Logger.manager.loggerDict.values()):
        handlers.extend(getattr(logger, "handlers", []))
    return [
        handler
        for handler in handlers
        if getattr(handler, "console", None) is not None  # rich prints through a Console
        or (
            isinstance(handler, logging.StreamHandler)
            and not isinstance(handler, logging.FileHandler)
            and handler.stream in (sys.stdout, sys.stderr)
        )
    ]


def _console_logs_to_stderr(*, verbose: bool) -> Callable[[], None]:
    """Kedro's console log handlers write to stdout; for these commands they write to stderr,
    so the answer is alone on stdout (``kedro mlops status > status.txt`` holds the status
    only), and, unless ``verbose``, without the ``_LOADING_LOGGERS``' INFO records.

    Returns:
        What puts the handlers back as they were.
    """
    undo: list[Callable[[], object]] = []
    for handler in _console_handlers():
        console = getattr(handler, "console", None)
        if console is not None and console.file is sys.stdout:
            console.file = sys.stderr
            undo.append(lambda console=console: setattr(console, "file", None))  # stdout again
        elif isinstance(handler, logging.StreamHandler) and handler.stream is sys.stdout:
            stream = handler.setStream(sys.stderr)
            undo.append(lambda handler=handler, stream=stream: handler.setStream(stream))
        if not verbose:
            handler.addFilter(_keep_record)
            undo.append(lambda handler=handler: handler.removeFilter(_keep_record))

    def restore() -> None:
        for step in reversed(undo):
            step()

    return restore


ENV_OPTION = click.option("--env", "-e", default=None, help="Kedro configuration environment.")


def split(values: tuple[str, ...]) -> list[str]:
    """Repeatable options that also take comma-separated values, as one list."""
    return [item.strip() for value in values for item in value.split(",") if item.strip()]


def echo_lines(lines: list[str], *, err: bool = False) -> None:
    """Print a report's lines."""
    for line in lines:
        click.echo(line, err=err)
