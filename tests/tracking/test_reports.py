"""`kedro mlops status | models | promote` from Python: the reports and their lines."""

from __future__ import annotations

import pytest

from kedro_mlops.config import GateConfig
from kedro_mlops.tracking.registry import RegistryError, register_and_gate
from kedro_mlops.tracking.reports import model_versions, project_status, promote_by_hand
from tests.tracking.test_registry import client, train  # noqa: F401 - a fixture

GATE = GateConfig()


def registered(client, *scores):  # noqa: F811
    for score in scores:
        model_uri, run_id = train(score)
        register_and_gate(client, model_uri, run_id, "churn", GATE)


def test_status_of_an_experiment_without_runs(client):  # noqa: F811
    report = project_status(client.tracking_uri, "nothing-here")
    assert report.lines() == [
        f"Tracking URI: {client.tracking_uri}",
        "Experiment:   nothing-here",
        "No run yet: `kedro run` records one.",
    ]


def test_status_names_the_latest_run_its_metrics_and_model(client):  # noqa: F811
    model_uri, run_id = train(0.81)
    lines = project_status(client.tracking_uri, "Default").lines()
    assert lines[2].startswith(f"Latest run:   {run_id} (")
    assert "  roc_auc              0.8100" in lines
    assert lines[-1] == f"Model URI:    {model_uri}"


def test_models_lists_versions_newest_first(client):  # noqa: F811
    registered(client, 0.7, 0.6)
    lines = model_versions(client, "churn", GATE).lines()
    assert lines[0] == "Registered model 'churn' (gate: roc_auc, maximize)"
    assert lines[1].split() == ["VERSION", "ALIASES", "ROC_AUC", "RUN", "ID"]
    assert [line.split()[:3] for line in lines[2:]] == [
        ["2", "challenger", "0.6000"],
        ["1", "champion", "0.7000"],
    ]


def test_models_of_an_unknown_model(client):  # noqa: F811
    with pytest.raises(RegistryError, match="No registered model 'nope'"):
        model_versions(client, "nope", GATE)


def test_promote_unlock_move_and_lock_in_that_order(client):  # noqa: F811
    registered(client, 0.7, 0.6)
    report = promote_by_hand(
        client, "churn", version="2", alias="champion", reason="canary ok", lock=True, unlock=True
    )
    assert report.lines() == [
        "churn@champion was not locked",
        "churn@champion -> version 2 (was version 1). Reason: canary ok",
        "churn@champion locked at version 2: training runs register challengers only until "
        "`kedro mlops promote --unlock`.",
    ]
    lines = model_versions(client, "churn", GATE).lines()
    assert lines[1] == "Champion locked by hand (v2: canary ok): the gate adds challengers only."
