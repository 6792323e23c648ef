from __future__ import annotations

import mlflow
import pytest

from kedro_mlops.tracking.registry import GateDecision
from kedro_mlops.tracking.runs import RunDecision, RunNotFoundError, gate_decision, latest_run


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


def _gated_run(client, experiment_id, start, tags):
    run = client.create_run(experiment_id, start_time=start, tags=tags)
    client.set_terminated(run.info.run_id)
    return run.info.run_id


def test_gate_decision_of_the_latest_or_a_given_run(tmp_path):
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    client = mlflow.MlflowClient(uri)
    assert gate_decision(uri, "churn") == RunDecision(
        None, "none", f"no run in experiment 'churn' at {uri}"
    )
    experiment_id = client.create_experiment("churn")
    decision = GateDecision("churn", "1", "champion", "roc_auc", 0.8, None, None, "first")
    first = _gated_run(client, experiment_id, 1_000, decision.tags())
    worse = GateDecision("churn", "2", "challenger", "roc_auc", 0.7, "1", 0.8, "not better")
    second = _gated_run(client, experiment_id, 2_000, worse.tags())
    latest = gate_decision(uri, "churn")
    assert latest.run_id == second
    assert latest.decision == "challenger"
    assert latest.detail.endswith(f"({second}): churn v2 -> challenger: not better")
    assert gate_decision(uri, "churn", first).decision == "champion"
    untracked = _gated_run(client, experiment_id, 3_000, {})
    assert gate_decision(uri, "churn").decision == "none"
    assert f"({untracked}, FINISHED) registered no model" in gate_decision(uri, "churn").detail


def test_gate_decision_of_a_missing_run(tmp_path):
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    mlflow.MlflowClient(uri).create_experiment("churn")
    with pytest.raises(RunNotFoundError) as error:
        gate_decision(uri, "churn", "nope")
    assert error.value.exit_code == 2
    assert error.value.message == (
        f"No run 'nope' at {uri}; `kedro mlops status` shows the latest."
    )
