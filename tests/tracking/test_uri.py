from __future__ import annotations

from pathlib import Path

import mlflow
import pytest

from kedro_mlops.tracking.uri import ensure_experiment, resolve_tracking_uri, sqlite_artifact_root

PROJECT = Path("/srv/project")


@pytest.mark.parametrize(
    ("configured", "environ", "expected"),
    [
        ("sqlite:///mlflow.db", {}, "sqlite:////srv/project/mlflow.db"),
        ("sqlite:///stores/runs.db", {}, "sqlite:////srv/project/stores/runs.db"),
        ("sqlite:////var/mlflow.db", {}, "sqlite:////var/mlflow.db"),
        ("http://mlflow:5000", {}, "http://mlflow:5000"),
        ("sqlite:///mlflow.db", {"MLFLOW_TRACKING_URI": "http://h:1"}, "http://h:1"),
        ("sqlite:///mlflow.db", {"MLFLOW_TRACKING_URI": "  "}, "sqlite:////srv/project/mlflow.db"),
    ],
)
def test_resolve_tracking_uri(configured, environ, expected):
    assert resolve_tracking_uri(configured, PROJECT, environ) == expected


@pytest.mark.parametrize(
    ("uri", "expected"),
    [
        ("sqlite:////srv/project/mlflow.db", Path("/srv/project/mlruns")),
        ("sqlite:///:memory:", None),
        ("http://mlflow:5000", None),
        ("databricks", None),
    ],
)
def test_sqlite_artifact_root(uri, expected):
    assert sqlite_artifact_root(uri) == expected


def test_ensure_experiment_puts_artifacts_beside_the_database(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # MLflow's default would be ./mlruns of the current directory
    (tmp_path / "elsewhere").mkdir()
    monkeypatch.chdir(tmp_path / "elsewhere")
    uri = f"sqlite:///{tmp_path / 'store' / 'mlflow.db'}"
    (tmp_path / "store").mkdir()
    ensure_experiment(uri, "churn")
    ensure_experiment(uri, "churn")  # idempotent
    experiment = mlflow.MlflowClient(uri).get_experiment_by_name("churn")
    assert experiment.artifact_location == (tmp_path / "store" / "mlruns").as_uri()
