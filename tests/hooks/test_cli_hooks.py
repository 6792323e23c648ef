"""The CLI hooks: a project name refused before cookiecutter, short failures, known warnings."""

from __future__ import annotations

import json
import logging
import pickle
import warnings
from types import SimpleNamespace

import pytest
from jinja2 import Template

from kedro_mlops.hooks.cli import (
    KNOWN_WARNINGS,
    NODE_ATTRIBUTE,
    RESUME_HINT_RECORDS,
    CliHooks,
    NodeErrorHook,
    filter_known_warnings,
    known_warnings_dropped,
    short_failure,
    user_error_code,
)
from kedro_mlops.names import package_name, project_name_problem
from kedro_mlops.starters import starter_dir


class FixableError(ValueError):
    exit_code = 2


class Flagged(ValueError):
    exit_code = True  # a bool is not an exit code


@pytest.mark.parametrize(
    ("error", "code"),
    [
        (FixableError("bad data"), 2),
        (ValueError("a bug"), None),
        (Flagged("x"), None),
        (KeyError("k"), None),
    ],
)
def test_user_error_code(error, code):
    assert user_error_code(error) == code


def test_short_failure_names_the_node_and_the_log_file():
    error = FixableError("data/01_raw/x.csv: the file has no rows")
    NodeErrorHook().on_node_error(error, SimpleNamespace(name="prepare_batch"))
    assert short_failure(error, ["info.log"]) == (
        "Error: Node 'prepare_batch' failed: data/01_raw/x.csv: the file has no rows\n"
        "The traceback is in info.log."
    )
    assert short_failure(FixableError("plain"), []) == "Error: plain"


def test_the_node_name_survives_the_trip_from_a_worker_process():
    error = FixableError("bad")
    NodeErrorHook().on_node_error(error, SimpleNamespace(name="validate_raw_data"))
    copy = pickle.loads(pickle.dumps(error))  # noqa: S301 - our own object
    assert getattr(copy, NODE_ATTRIBUTE) == "validate_raw_data"


@pytest.fixture
def resume_hint_logger():
    """kedro-mlflow's pipeline-model logger, without the filter a node error leaves on it."""
    named = logging.getLogger(RESUME_HINT_RECORDS[0][0])
    kept = list(named.filters)
    yield named
    named.filters[:] = kept


def test_a_failed_pipeline_model_run_hints_at_resuming_without_kedro_mlflows_warnings(
    resume_hint_logger, caplog
):
    """A real kedro-mlflow pipeline model run by Kedro's runner: the second node fails, the
    runner computes where to resume, kedro-mlflow warns at each question it is asked."""
    from kedro.framework.hooks.manager import _create_hook_manager  # noqa: PLC0415
    from kedro.io import DataCatalog, MemoryDataset  # noqa: PLC0415
    from kedro.pipeline import node, pipeline  # noqa: PLC0415
    from kedro.runner import SequentialRunner  # noqa: PLC0415
    from kedro_mlflow.pipeline import pipeline_ml_factory  # noqa: PLC0415

    def fit(raw: int) -> int:
        return raw

    def check(model: int) -> int:
        raise FixableError(f"model {model} is no good")

    def predict(model: int, batch: int) -> int:
        return model * batch

    training = pipeline(
        [node(fit, "raw", "model", name="fit"), node(check, "model", "report", name="check")]
    )
    inference = pipeline([node(predict, ["model", "batch"], "scores", name="predict")])
    model = pipeline_ml_factory(training, inference, input_name="batch")
    hooks = _create_hook_manager()
    hooks.register(NodeErrorHook())
    catalog = DataCatalog({"raw": MemoryDataset(2), "model": MemoryDataset()})
    with caplog.at_level(logging.WARNING), pytest.raises(FixableError) as raised:
        SequentialRunner().run(model, catalog, hooks)
    assert getattr(raised.value, NODE_ATTRIBUTE) == "check"
    assert [(r.name, r.getMessage()) for r in caplog.records if r.levelno >= logging.WARNING] == [
        (
            "kedro.pipeline.node",
            "Node check: check([model]) -> [report] failed with error: \nmodel 2 is no good",
        ),
        (
            "kedro.runner.sequential_runner",
            "There are 1 nodes that have not run.\nYou can resume the pipeline run from the "
            "nearest nodes with persisted inputs by adding the following argument to your "
            'previous command:\n  --from-nodes "fit"',
        ),
    ]


def test_after_a_fixable_failure_the_run_ends_short_with_its_code(tmp_path, capsys):
    log_file = tmp_path / "info.log"
    handler = logging.FileHandler(log_file)
    logging.getLogger().addHandler(handler)
    try:
        try:
            raise FixableError("data/01_raw/x.csv: missing column(s) ['county']")
        except FixableError:
            with pytest.raises(SystemExit) as stop:
                CliHooks().after_command_run(None, ["run"], 1)
    finally:
        logging.getLogger().removeHandler(handler)
        handler.close()
    assert stop.value.code == 2
    printed = capsys.readouterr().err
    assert printed.startswith("Error: data/01_raw/x.csv: missing column(s) ['county']\n")
    assert printed.rstrip().endswith("info.log.")
    logged = log_file.read_text()
    assert "Traceback (most recent call last)" in logged
    assert "FixableError: data/01_raw/x.csv" in logged


def test_other_failures_keep_their_traceback():
    hooks = CliHooks()
    try:
        raise ValueError("a bug in a node")
    except ValueError:
        assert hooks.after_command_run(None, ["run"], 1) is None  # kedro re-raises it
    try:
        raise FixableError("not a run")
    except FixableError:
        assert hooks.after_command_run(None, ["mlops", "status"], 1) is None
    assert hooks.after_command_run(None, ["run"], 0) is None


@pytest.mark.parametrize(
    ("name", "package", "refused"),
    [
        ("Churn Demo", "churn_demo", False),
        ("my-project_2", "my_project_2", False),
        ("1 churn", "1_churn", True),
        ("class", "class", True),
        ("a.b", "a.b", True),
    ],
)
def test_project_names(name, package, refused):
    assert package_name(name) == package
    problem = project_name_problem(name)
    assert bool(problem) is refused
    if refused:
        assert problem == (
            f"Invalid project name {name!r}: it gives the Python package name {package!r}, "
            "which cannot be imported. Start with a letter; use letters, digits, spaces, '-' and "
            "'_', e.g. 'Churn Demo'."
        )


def test_the_package_rule_is_the_cookiecutter_one():
    expression = json.loads((starter_dir() / "cookiecutter.json").read_text())["python_package"]
    for name in ("Churn Demo", " my-project_2 ", "A-B c"):
        rendered = Template(expression).render(cookiecutter={"project_name": name})
        assert rendered == package_name(name)


@pytest.mark.parametrize(
    "args",
    [
        ["--starter=mlops", "--name", "1 churn"],
        ["--starter", "mlops", "-n", "1 churn"],
        ["-s", "mlops", "--name=1 churn"],
    ],
)
def test_kedro_new_refuses_the_name_before_cookiecutter(args, capsys):
    with pytest.raises(SystemExit) as stop:
        CliHooks().before_command_run(None, ["new", *args])
    assert stop.value.code == 2
    assert capsys.readouterr().err == (
        "Error: Invalid project name '1 churn': it gives the Python package name '1_churn', "
        "which cannot be imported. Start with a letter; use letters, digits, spaces, '-' and "
        "'_', e.g. 'Churn Demo'.\n"
    )


def test_kedro_new_reads_the_name_of_a_config_file(tmp_path, capsys):
    config = tmp_path / "new.yml"
    config.write_text("project_name: 2 churn\noutput_dir: .\n")
    with pytest.raises(SystemExit):
        CliHooks().before_command_run(None, ["new", "--starter=mlops", "--config", str(config)])
    assert "'2_churn', which cannot be imported" in capsys.readouterr().err


@pytest.mark.parametrize(
    "args",
    [
        ["new", "--starter=mlops", "--name", "Churn"],
        ["new", "--starter=spaceflights-pandas", "--name", "1 churn"],  # not ours
        ["new", "--name", "1 churn"],
        ["run", "--pipelines", "x"],
    ],
)
def test_other_commands_pass(args):
    assert CliHooks().before_command_run(None, args) is None


def test_known_warnings_are_dropped_and_others_raised_again():
    def noisy() -> None:
        # under its own "once" filter, as MLflow does
        with warnings.catch_warnings():
            warnings.simplefilter("once", category=UserWarning)
            warnings.warn("\x1b[33mAdd type hints to the `predict` method ...", stacklevel=1)
            warnings.warn("register_new_resolver() is deprecated and will go", stacklevel=1)
            warnings.warn("something the user must see", stacklevel=1)

    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        with known_warnings_dropped():
            noisy()
    assert [str(w.message) for w in seen] == ["something the user must see"]


def test_known_warnings_are_filtered_where_they_are_raised_only():
    message = "register_new_resolver() is deprecated and will be removed in a future release."

    def warn_from(module: str) -> None:
        warnings.warn_explicit(message, UserWarning, f"{module}.py", 1, module=module)

    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        filter_known_warnings()  # in front of "always"
        warn_from("kedro.config.omegaconf_config")
        warn_from("kedro_mlflow.config.kedro_mlflow_config")
        warn_from("my_project.settings")  # the same words from the user's code are shown
        warnings.warn_explicit(
            "something else", UserWarning, "x.py", 1, module="kedro.config.omegaconf_config"
        )
    assert [(str(w.message), w.filename) for w in seen] == [
        (message, "my_project.settings.py"),
        ("something else", "x.py"),
    ]


def test_known_log_records_are_dropped_only_inside(caplog):
    mlflow_logger = logging.getLogger("mlflow.pyfunc")
    with caplog.at_level(logging.WARNING, logger="mlflow.pyfunc"):
        with known_warnings_dropped():
            mlflow_logger.warning("Passing a Python object as `python_model` causes ...")
            mlflow_logger.warning("another warning")
        mlflow_logger.warning("Passing a Python object as `python_model` outside")
    assert [r.getMessage() for r in caplog.records] == [
        "another warning",
        "Passing a Python object as `python_model` outside",
    ]


def test_every_known_warning_names_its_module():
    for message, category, module in KNOWN_WARNINGS:
        assert message and module and issubclass(category, Warning)
