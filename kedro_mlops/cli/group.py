"""The ``kedro mlops`` click group and the options its commands share."""

from __future__ import annotations

import logging
import sys

import click

from kedro_mlops import __version__
from kedro_mlops.hooks.cli import COMMAND_GROUP, click_errors


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
    _console_logs_to_stderr(verbose=verbose)


# Loggers whose INFO lines say how the project loads (resolvers, each catalog load), not what a
# command does: the console shows their warnings only, unless --verbose (log files keep all).
_LOADING_LOGGERS = ("kedro", "kedro_mlflow")


def _loading_info(record: logging.LogRecord) -> bool:
    """Whether a log record is a loading logger's INFO (or DEBUG) line."""
    quiet = record.levelno < logging.WARNING and record.name.split(".")[0] in _LOADING_LOGGERS
    return not quiet


def _console_logs_to_stderr(*, verbose: bool) -> None:
    """Kedro's log handlers write to stdout; for these commands they write to stderr, so the
    answer is alone on stdout (``kedro mlops status > status.txt`` holds the status only)."""
    handlers = list(logging.getLogger().handlers)
    for logger in list(logging.Logger.manager.loggerDict.values()):
        handlers.extend(getattr(logger, "handlers", []))
    for handler in handlers:
        console = getattr(handler, "console", None)  # rich's handler prints through a Console
        if console is not None and console.file is sys.stdout:
            console.file = sys.stderr
        elif isinstance(handler, logging.StreamHandler) and handler.stream is sys.stdout:
            handler.setStream(sys.stderr)
        if isinstance(handler, logging.FileHandler):  # a log file keeps everything
            continue
        if verbose:  # (a process may run several commands: tests, a notebook)
            handler.removeFilter(_loading_info)
        else:
            handler.addFilter(_loading_info)


ENV_OPTION = click.option("--env", "-e", default=None, help="Kedro configuration environment.")


def split(values: tuple[str, ...]) -> list[str]:
    """Repeatable options that also take comma-separated values, as one list."""
    return [item.strip() for value in values for item in value.split(",") if item.strip()]


def echo_lines(lines: list[str], *, err: bool = False) -> None:
    """Print a report's lines."""
    for line in lines:
        click.echo(line, err=err)
