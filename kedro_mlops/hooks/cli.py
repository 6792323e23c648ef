"""Around every ``kedro`` command: what the user sees when something is wrong, and nothing else.

- ``on_kedro_start`` (entry point ``kedro.init``, before the plugins load),
  ``filter_known_warnings`` (the same filters, for the starter's post-generation hook, a process
  of its own) and ``known_warnings_dropped`` (around kedro-mlflow's model logging): warnings of
  the pinned stack that no user can act on are filtered where they are raised (message, category
  and module named), never all warnings. ``configure_pytest`` installs them in a project's tests
  (the starter's ``conftest.py``, kedro-mlops' own) and ignores the DeprecationWarnings a few
  libraries raise about their own code (``LIBRARY_DEPRECATIONS``), which only pytest shows.
- ``CliHooks`` (entry point ``kedro.cli_hooks``): ``kedro new --starter=mlops`` refuses a name that
  gives no importable package before cookiecutter runs; ``kedro run`` starts the drift worker
  (``monitoring.background``) at once; a ``kedro run`` stopped by an error the
  user can fix (an exception with an ``exit_code``, e.g. the starter's ``DataValidationError``)
  ends with the message and the node in a few lines, the traceback going to the log file.
- ``NodeErrorHook`` (entry point ``kedro.hooks``): remembers which node raised, in any process;
  kedro-mlflow's warnings while Kedro computes the resume hint are dropped.
- ``click_error`` / ``click_errors``: the one place a domain error (``KedroMlopsError``, a plain
  exception with an ``exit_code``) becomes click's output, for ``kedro mlops ...`` (``cli.py``)
  and for the hooks of any command (``kedro run``, ``python -m <package>`` in an image).
"""

from __future__ import annotations

import contextlib
import functools
import importlib
import logging
import re
import sys
import warnings
from pathlib import Path
from typing import TYPE_CHECKING

import click
from kedro.framework.cli.hooks import cli_hook_impl
from kedro.framework.hooks import hook_impl

from kedro_mlops.errors import EXIT_INPUT, KedroMlopsError
from kedro_mlops.names import project_name_problem
from kedro_mlops.starters import ALIAS

if TYPE_CHECKING:
    from collections.abc import Iterator

    import pytest
    from kedro.framework.startup import ProjectMetadata
    from kedro.pipeline.node import Node

logger = logging.getLogger(__name__)

# (message regex, category, module regex of the code that warns): raised by the pinned stack, on
# every command or every training run, about nothing a project can change
KNOWN_WARNINGS: tuple[tuple[str, type[Warning], str], ...] = (
    # kedro 1.7's OmegaConfigLoader and kedro-mlflow 2.0 call OmegaConf's deprecated name
    (
        r"register_new_resolver\(\) is deprecated",
        UserWarning,
        r"kedro\.config\.omegaconf_config|kedro_mlflow\.",
    ),
    # kedro-mlflow's KedroPipelineModel has no type hints on `predict`; MLflow checks the class
    # when it is defined, under its own "once" filter (only a quiet import avoids it)
    (r".*Add type hints to the `predict` method", UserWarning, r"mlflow\.pyfunc\.utils"),
    # kedro-mlflow logs the pipeline model with a signature inferred from the batch and no input
    # example: hints about how to log models, which kedro-mlflow decides
    (r"\s*Hint: Inferred schema contains integer column", UserWarning, r"mlflow\.types"),
    (r".*An input example was not provided when logging", UserWarning, r"mlflow\.pyfunc"),
)
# (logger, message start): MLflow's advice to kedro-mlflow, logged when it logs the model
KNOWN_LOG_RECORDS: tuple[tuple[str, str], ...] = (
    ("mlflow.pyfunc", "Passing a Python object as `python_model`"),
)
# (logger, message start): after a node failed, Kedro's runner asks the pipeline which nodes to
# resume from; kedro-mlflow's pipeline model warns at each question (once per method, 7 times for
# the starter) although resume hints are what it says those methods are for
RESUME_HINT_RECORDS: tuple[tuple[str, str], ...] = (
    ("kedro_mlflow.pipeline.pipeline_ml", "BEWARE - This 'Pipeline' is no longer a 'PipelineML'"),
)
# packages of the stack whose DeprecationWarnings are about their own code and raised there:
# kedro-mlflow's pydantic 1-style models, a SQLAlchemy loader option of MLflow's SQL store, the
# distutils and pandas 3 calls of pyspark 3.5, Evidently's `numpy.core` patch and the litestar
# names it imports. Python's default filters hide them, pytest shows them: tests ignore them
LIBRARY_DEPRECATIONS = ("kedro_mlflow", "mlflow.store", "pyspark", "evidently", "litestar")
# imported quietly at start in a project, where kedro loads them anyway (kedro-mlflow's commands)
QUIET_IMPORTS = ("kedro_mlflow.mlflow",)
# `kedro mlops ...`: the group of kedro-mlops' commands
COMMAND_GROUP = "mlops"
# the node that raised, recorded on the exception (it survives the trip from a worker process)
NODE_ATTRIBUTE = "_kedro_mlops_node"


def on_kedro_start() -> None:
    """The ``kedro.init`` entry point: filter ``KNOWN_WARNINGS`` where they are raised."""
    filter_known_warnings()
    from kedro.utils import find_kedro_project  # noqa: PLC0415

    if find_kedro_project(Path.cwd()) is not None:
        import_quietly()


def configure_pytest(config: pytest.Config) -> None:
    """A project's ``pytest_configure`` (the starter's ``tests/conftest.py``, kedro-mlops' own):
    the filters ``kedro`` commands install, and the ``LIBRARY_DEPRECATIONS`` ignored, so a test
    run prints the project's own warnings only."""
    filter_known_warnings()
    import_quietly()
    for package in LIBRARY_DEPRECATIONS:
        config.addinivalue_line("filterwarnings", f"ignore::DeprecationWarning:{package}.*")


def import_quietly() -> None:
    """Import ``QUIET_IMPORTS`` (those installed) with ``KNOWN_WARNINGS`` dropped: some warn
    under a "once" filter of their own at import, which no later filter reaches."""
    for name in QUIET_IMPORTS:
        with known_warnings_dropped():
            try:
                importlib.import_module(name)
            except ImportError:
                continue


def filter_known_warnings() -> None:
    """Ignore ``KNOWN_WARNINGS`` in this process, each by message, category and module.

    ``kedro.init`` does it for every ``kedro`` command; a process Kedro does not start calls it
    itself (the starter's post-generation hook, which cookiecutter runs in a Python of its own).
    """
    for message, category, module in KNOWN_WARNINGS:
        warnings.filterwarnings("ignore", message=message, category=category, module=module)


@contextlib.contextmanager
def known_warnings_dropped() -> Iterator[None]:
    """Around a call of the pinned stack: drop ``KNOWN_WARNINGS`` and ``KNOWN_LOG_RECORDS`` it
    raises (even under the library's own warning filters) and raise every other warning again."""
    record_filter = _KnownRecords(KNOWN_LOG_RECORDS)
    loggers = [logging.getLogger(name) for name in dict.fromkeys(n for n, _ in KNOWN_LOG_RECORDS)]
    for named in loggers:
        named.addFilter(record_filter)
    try:
        with warnings.catch_warnings(record=True) as caught:
            yield
    finally:
        for named in loggers:
            named.removeFilter(record_filter)
    for item in caught:
        if not known_warning(item):
            warnings.warn_explicit(item.message, item.category, item.filename, item.lineno)


def known_warning(item: warnings.WarningMessage) -> bool:
    """Whether a recorded warning is one of ``KNOWN_WARNINGS``."""
    text = str(item.message)
    return any(
        issubclass(item.category, category) and re.match(message, text)
        for message, category, _module in KNOWN_WARNINGS
    )


class _KnownRecords(logging.Filter):
    """Drops the log records of ``known`` ((logger name, message start) pairs)."""

    def __init__(self, known: tuple[tuple[str, str], ...]) -> None:
        super().__init__()
        self.known = known

    def filter(self, record: logging.LogRecord) -> bool:
        text = record.getMessage()
        return not any(record.name == name and text.startswith(start) for name, start in self.known)


_RESUME_HINT_FILTER = _KnownRecords(RESUME_HINT_RECORDS)


def user_error_code(error: BaseException) -> int | None:
    """The exit code an error says it deserves (its class's integer ``exit_code``), if any.

    Errors the user fixes in ``conf/`` or ``data/`` carry one (the starter's
    ``DataValidationError``: 2); a bug in a node does not, and keeps its traceback.
    """
    code = getattr(type(error), "exit_code", None)
    return code if isinstance(code, int) and not isinstance(code, bool) and code > 0 else None


def short_failure(error: BaseException, log_files: list[str]) -> str:
    """The lines printed for a run stopped by ``error`` (its message, the node, the log file)."""
    node = getattr(error, NODE_ATTRIBUTE, None)
    where = f"Node {node!r} failed: " if node else ""
    trace = f"\nThe traceback is in {', '.join(log_files)}." if log_files else ""
    return f"Error: {where}{error}{trace}"


@functools.cache
def _click_class(error_class: type[KedroMlopsError]) -> type[click.ClickException]:
    """``error_class`` and ``click.ClickException`` at once: click prints it ("Error: <message>"
    on stderr) and exits with its ``exit_code``; ``except error_class`` still catches it."""
    return type(error_class.__name__, (error_class, click.ClickException), {})


def click_error(error: KedroMlopsError) -> click.ClickException:
    """``error`` as an exception click reports: same class, message, attributes and exit code."""
    click_class = _click_class(type(error))
    converted = click_class.__new__(click_class)
    click.ClickException.__init__(converted, error.message)  # click's own attributes
    converted.__dict__.update(error.__dict__)
    converted.args = error.args
    converted.__traceback__ = error.__traceback__
    return converted


@contextlib.contextmanager
def click_errors() -> Iterator[None]:
    """Around a command or a hook's work: a ``KedroMlopsError`` raised inside ends the command as
    click reports errors (kedro's ``run`` command and ours both run under click)."""
    try:
        yield
    except click.ClickException:
        raise
    except KedroMlopsError as exc:
        raise click_error(exc) from None


class CliHooks:
    """kedro-mlops' CLI hooks (one instance, registered by entry point)."""

    @cli_hook_impl
    def before_command_run(
        self, project_metadata: ProjectMetadata | None, command_args: list[str]
    ) -> None:
        if command_args[:1] == ["new"]:
            _check_new_project_name(command_args[1:])
        elif command_args[:1] == ["run"] and project_metadata is not None:
            # the drift worker imports Evidently while Kedro starts (single-threaded)
            from kedro_mlops.monitoring.background import prestart  # noqa: PLC0415

            prestart()

    @cli_hook_impl
    def after_command_run(
        self, project_metadata: ProjectMetadata | None, command_args: list[str], exit_code: int
    ) -> None:
        """Kedro calls this while handling the exception that ended the command, then re-raises
        it: for an error the user can fix, end here instead, without the traceback."""
        if command_args[:1] == ["run"]:
            from kedro_mlops.monitoring.background import discard  # noqa: PLC0415

            discard()  # a run that ended before its pipeline started
        error = sys.exc_info()[1]
        if command_args[:1] != ["run"] or not isinstance(error, Exception):
            return
        code = user_error_code(error)
        if code is None:
            return
        files = _log_to_files(error)
        click.echo(short_failure(error, files), err=True)
        raise SystemExit(code)


class NodeErrorHook:
    """Records the failing node's name on the exception (a project hook), and drops
    ``RESUME_HINT_RECORDS`` from then on in this process: the run has failed, what follows is
    Kedro's resume hint."""

    @hook_impl
    def on_node_error(self, error: Exception, node: Node) -> None:
        try:
            setattr(error, NODE_ATTRIBUTE, node.name)
        except AttributeError:  # an exception type without a __dict__: no name then
            pass
        for name in dict.fromkeys(name for name, _ in RESUME_HINT_RECORDS):
            logging.getLogger(name).addFilter(_RESUME_HINT_FILTER)  # added once at most


def _check_new_project_name(args: list[str]) -> None:
    """``kedro new --starter=mlops``: the same name check as the starter's pre-generation hook,
    before cookiecutter runs (whose failure would end in a long traceback)."""
    from kedro.framework.cli.starters import new  # noqa: PLC0415 - only for `kedro new`

    try:
        context = new.make_context("new", list(args), resilient_parsing=True)
    except click.ClickException:
        return  # kedro reports its own usage errors
    params = context.params
    if params.get("starter_alias") != ALIAS:
        return
    name = params.get("project_name") or _config_project_name(params.get("config_path"))
    problem = project_name_problem(name) if name else None
    if problem:
        click.echo(f"Error: {problem}", err=True)
        raise SystemExit(EXIT_INPUT)


def _config_project_name(path: str | None) -> str | None:
    if not path:
        return None
    import yaml  # noqa: PLC0415

    try:
        with open(path, encoding="utf-8") as file:
            config = yaml.safe_load(file)
    except (OSError, yaml.YAMLError):
        return None  # kedro reports an unreadable config file itself
    name = config.get("project_name") if isinstance(config, dict) else None
    return str(name) if name else None


def _log_to_files(error: Exception) -> list[str]:
    """Write ``error`` with its traceback to the file handlers of the logging configuration
    (the console shows the short form); returns their file names."""
    handlers = [
        handler
        for handler in _all_handlers()
        if isinstance(handler, logging.FileHandler) and handler.level <= logging.ERROR
    ]
    if not handlers:
        return []
    record = logger.makeRecord(
        logger.name,
        logging.ERROR,
        __file__,
        0,
        "kedro run failed: %s",
        (error,),
        (type(error), error, error.__traceback__),
    )
    for handler in handlers:
        handler.handle(record)
    return sorted({_short_path(handler.baseFilename) for handler in handlers})


def _all_handlers() -> list[logging.Handler]:
    found: list[logging.Handler] = list(logging.getLogger().handlers)
    for item in list(logging.Logger.manager.loggerDict.values()):
        found.extend(getattr(item, "handlers", []))
    return list(dict.fromkeys(found))


def _short_path(path: str) -> str:
    import os  # noqa: PLC0415

    relative = os.path.relpath(path)
    return path if relative.startswith("..") else relative


cli_hooks = CliHooks()
node_error_hook = NodeErrorHook()
