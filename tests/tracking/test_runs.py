from __future__ import annotations

import mlflow

from kedro_mlops.tracking.runs import latest_run


def test_no_experiment_and_no_run(tmp_path):
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    assert latest_run(uri, "missing") is None
    mlflow.MlflowClient(uri).create_experiment("empty")
    assert latest_run(uri, "empty") is None


def test_latest_run_with_metrics(tmp_path):
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    client = mlflow.MlflowClient(uri)
    experiment_id = client.create_experiment("churn")
    older = client.create_run(experiment_id, run_name="old", start_time=1_000)
    newer = client.create_run(experiment_id, run_name="new", start_time=2_000)
    client.log_metric(newer.info.run_id, "roc_auc", 0.8)
    client.set_terminated(older.info.run_id)
    summary = latest_run(uri, "churn")
    assert summary.run_id == newer.info.run_id
    assert summary.run_name == "new"
    assert summary.metrics == {"roc_auc": 0.8}
    assert summary.model_uris == []
