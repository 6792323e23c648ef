"""The tracking hook inside a real (tiny) Kedro project and a real SQLite MLflow store."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import mlflow
import pandas as pd
import pytest
import yaml
from kedro.framework.session import KedroSession
from kedro.framework.startup import bootstrap_project

from kedro_mlops.errors import ConfigError
from kedro_mlops.hooks import tracking_hook
from kedro_mlops.hooks.tracking import TrackingUnavailableError
from kedro_mlops.scaffold import write_config_files
from kedro_mlops.tracking.lineage import frame_digest
from tests.conftest import free_port

PACKAGE = "tiny_hook_project"


def make_project(root: Path) -> Path:
    """A minimal Kedro project with one node and kedro-mlops's configuration."""
    package = root / "src" / PACKAGE
    package.mkdir(parents=True)
    (root / "pyproject.toml").write_text(
        textwrap.dedent(f"""
        [tool.kedro]
        package_name = "{PACKAGE}"
        project_name = "tiny"
        kedro_init_version = "1.7.0"
        source_dir = "src"
        """)
    )
    (package / "__init__.py").write_text("")
    (package / "settings.py").write_text("")
    (package / "pipeline_registry.py").write_text(
        textwrap.dedent("""
        from kedro.pipeline import Pipeline, node

        def double(x):
            return 2 * x

        def total(numbers, factor):
            return float(numbers["n"].sum() * factor)

        def register_pipelines():
            return {"__default__": Pipeline([
                node(double, "params:x", "factor", name="double"),
                node(total, ["numbers", "factor"], "total", name="sum_numbers"),
            ])}
        """)
    )
    (root / "conf" / "base").mkdir(parents=True)
    (root / "conf" / "local").mkdir()
    (root / "conf" / "base" / "parameters.yml").write_text("x: 21\n")
    (root / "conf" / "base" / "catalog.yml").write_text(
        "numbers:\n  type: pandas.CSVDataset\n  filepath: data/numbers.csv\n"
    )
    (root / "data").mkdir()
    (root / "data" / "numbers.csv").write_text("n\n1\n2\n3\n")
    write_config_files(root / "conf" / "base")
    return root


@pytest.fixture
def project(tmp_path, monkeypatch):
    root = make_project(tmp_path / "tiny")
    monkeypatch.syspath_prepend(str(root / "src"))
    (root / "sub").mkdir()
    monkeypatch.chdir(root / "sub")  # a run from a sub-directory still records at the root
    yield root
    for name in [m for m in sys.modules if m.startswith(PACKAGE)]:
        del sys.modules[name]


def run(project_path: Path) -> dict:
    bootstrap_project(project_path)
    with KedroSession.create(project_path=project_path) as session:
        return session.run()


def only_run(project_path: Path):
    client = mlflow.MlflowClient(f"sqlite:///{project_path / 'mlflow.db'}")
    experiment = client.get_experiment_by_name(PACKAGE)
    (the_run,) = client.search_runs([experiment.experiment_id])
    return client, the_run


class Records(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


@pytest.fixture
def plugin_log():
    """What kedro-mlops logs (Kedro replaces the root handlers, so pytest's caplog misses it)."""
    logger = logging.getLogger("kedro_mlops")
    handler, level = Records(), logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    yield handler.messages
    logger.removeHandler(handler)
    logger.setLevel(level)


def test_default_store_is_sqlite_at_the_project_root(project, plugin_log):
    run(project)
    uri = f"sqlite:///{project / 'mlflow.db'}"
    assert os.environ["MLFLOW_TRACKING_URI"] == uri
    client = mlflow.MlflowClient(uri)
    experiment = client.get_experiment_by_name(PACKAGE)
    assert experiment.artifact_location == (project / "mlruns").as_uri()
    (only_run,) = client.search_runs([experiment.experiment_id])
    assert only_run.info.status == "FINISHED"
    assert only_run.data.params["x"] == "21"
    assert f"kedro-mlops: MLflow run {only_run.info.run_id} recorded in {uri}" in plugin_log
    assert not (project / "sub" / "mlruns").exists()


def test_environment_variable_wins(project, tmp_path, monkeypatch):
    uri = f"sqlite:///{tmp_path / 'elsewhere.db'}"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
    run(project)
    assert not (project / "mlflow.db").exists()
    experiment = mlflow.MlflowClient(uri).get_experiment_by_name(PACKAGE)
    assert len(mlflow.MlflowClient(uri).search_runs([experiment.experiment_id])) == 1


def test_uri_exported_by_an_earlier_session_is_not_taken_for_the_users(project, tmp_path):
    run(project)
    other = make_project(tmp_path / "other")
    run(other)
    assert os.environ["MLFLOW_TRACKING_URI"] == f"sqlite:///{other / 'mlflow.db'}"
    assert (other / "mlflow.db").exists()


def test_invalid_mlops_yml_stops_the_session(project):
    (project / "conf" / "local" / "mlops.yml").write_text("tracking:\n  uri: mlruns\n")
    with pytest.raises(ConfigError, match=r"conf/local/mlops.yml:\n  - 'tracking.uri'"):
        run(project)


def test_hook_is_a_registered_instance():
    from importlib.metadata import entry_points  # noqa: PLC0415

    (entry,) = [e for e in entry_points(group="kedro.hooks") if e.name == "mlops_tracking"]
    assert entry.load() is tracking_hook


def test_lineage_lands_in_the_one_run(project):
    subprocess.run(["git", "init", "-q"], cwd=project, check=True)
    subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@e", "commit", "-q", "--allow-empty",
         "-m", "x"],
        cwd=project,
        check=True,
    )  # fmt: skip
    run(project)
    _client, the_run = only_run(project)
    tags, metrics = the_run.data.tags, the_run.data.metrics
    assert len(tags["mlops.git.sha"]) == 40
    assert tags["mlops.pipeline"] == "__default__"
    assert tags["mlops.runner"] == "SequentialRunner"
    assert tags["mlops.version.kedro-mlflow"]
    assert {"node_time_s.double", "node_time_s.sum_numbers", "run_time_s"} <= set(metrics)
    assert metrics["run_time_s"] >= metrics["node_time_s.sum_numbers"]
    (dataset_input,) = the_run.inputs.dataset_inputs
    assert dataset_input.dataset.name == "numbers"
    assert dataset_input.dataset.digest == frame_digest(
        pd.read_csv(project / "data" / "numbers.csv")
    )
    assert dataset_input.dataset.source.endswith('data/numbers.csv"}')
    config = yaml.safe_load(
        mlflow.artifacts.load_text(f"{the_run.info.artifact_uri}/kedro_mlops/resolved_config.yml")
    )
    assert config["parameters"] == {"x": 21}
    assert config["mlops"]["registry"]["gate"]["metric"] == "roc_auc"


def test_lineage_can_be_switched_off(project):
    (project / "conf" / "local" / "mlops.yml").write_text(
        "tracking:\n  lineage:\n    git: false\n    environment: false\n"
        "    node_timings: false\n    datasets: false\n    config: false\n"
    )
    run(project)
    client, the_run = only_run(project)
    assert not [tag for tag in the_run.data.tags if tag.startswith("mlops.")]
    assert not [key for key in the_run.data.metrics if "time_s" in key]
    assert not the_run.inputs.dataset_inputs
    assert not client.list_artifacts(the_run.info.run_id)


def test_dead_server_fails_fast_with_the_uri_and_the_fix(project, monkeypatch):
    uri = f"http://127.0.0.1:{free_port()}"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
    started = time.monotonic()
    with pytest.raises(TrackingUnavailableError) as excinfo:
        run(project)
    assert time.monotonic() - started < 15
    message = excinfo.value.format_message()
    assert f"MLflow tracking server {uri} is unreachable" in message
    assert "tracking.on_error: warn" in message


def test_dead_server_with_warn_runs_untracked(project, monkeypatch, plugin_log):
    (project / "conf" / "local" / "mlops.yml").write_text("tracking:\n  on_error: warn\n")
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"http://127.0.0.1:{free_port()}")
    outputs = run(project)
    assert outputs["total"].load() == 252.0
    assert any("This run is NOT tracked" in message for message in plugin_log)
    assert not (project / "mlflow.db").exists()
    assert mlflow.active_run() is None
