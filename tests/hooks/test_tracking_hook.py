"""The tracking hook inside a real (tiny) Kedro project and a real SQLite MLflow store."""

from __future__ import annotations

import logging
import os
import sys
import textwrap
from pathlib import Path

import mlflow
import pytest
from kedro.framework.session import KedroSession
from kedro.framework.startup import bootstrap_project

from kedro_mlops.errors import ConfigError
from kedro_mlops.hooks import tracking_hook
from kedro_mlops.scaffold import write_config_files

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

        def register_pipelines():
            return {"__default__": Pipeline([node(double, "params:x", "y", name="double")])}
        """)
    )
    (root / "conf" / "base").mkdir(parents=True)
    (root / "conf" / "local").mkdir()
    (root / "conf" / "base" / "parameters.yml").write_text("x: 21\n")
    (root / "conf" / "base" / "catalog.yml").write_text("{}\n")
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


def run(project_path: Path) -> None:
    bootstrap_project(project_path)
    with KedroSession.create(project_path=project_path) as session:
        session.run()


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
