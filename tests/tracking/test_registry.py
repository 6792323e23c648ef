from __future__ import annotations

import mlflow
import pandas as pd
import pytest

from kedro_mlops.config import GateConfig
from kedro_mlops.tracking.registry import (
    RegistryError,
    champion_lock,
    decide,
    list_versions,
    lock_champion,
    promote,
    register_and_gate,
    unlock_champion,
)


@pytest.mark.parametrize(
    ("direction", "minimum", "challenger", "champion", "promoted", "reason"),
    [
        ("maximize", 0.0, 0.8, None, True, "no champion to beat"),
        ("maximize", 0.0, 0.8, 0.7, True, "+0.1 better"),
        ("maximize", 0.0, 0.7, 0.7, False, "not better by more than 0"),
        ("maximize", 0.05, 0.74, 0.7, False, "not better by more than 0.05"),
        ("minimize", 0.0, 0.3, 0.4, True, "lower is better"),
        ("minimize", 0.0, 0.5, 0.4, False, "lower is better"),
        ("maximize", 0.0, None, 0.7, False, "did not log 'roc_auc'"),
        ("maximize", 0.0, float("nan"), None, False, "cannot be compared"),
    ],
)
def test_decide(direction, minimum, challenger, champion, promoted, reason):
    decision, why = decide("roc_auc", direction, minimum, challenger, champion)
    assert decision is promoted
    assert reason in why


class Constant(mlflow.pyfunc.PythonModel):
    def predict(self, context, model_input: pd.DataFrame, params=None) -> pd.DataFrame:
        return model_input


@pytest.fixture
def client(tmp_path, monkeypatch):
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
    mlflow.set_tracking_uri(uri)
    yield mlflow.MlflowClient(uri)
    mlflow.set_tracking_uri(None)


def train(roc_auc: float | None) -> tuple[str, str]:
    """A finished run with a logged model and (optionally) the gate metric."""
    with mlflow.start_run() as run:
        if roc_auc is not None:
            mlflow.log_metric("roc_auc", roc_auc)
        info = mlflow.pyfunc.log_model(name="model", python_model=Constant(), pip_requirements=[])
    return info.model_uri, run.info.run_id


def test_gate_moves_aliases_and_tags_the_decision(client):
    gate = GateConfig()
    first = register_and_gate(client, *train(0.80), "churn", gate)
    assert (first.version, first.alias) == ("1", "champion")
    worse_uri, worse_run = train(0.70)
    second = register_and_gate(client, worse_uri, worse_run, "churn", gate)
    assert (second.version, second.alias, second.champion_version) == ("2", "challenger", "1")
    assert str(client.get_model_version_by_alias("churn", "champion").version) == "1"
    tags = client.get_run(worse_run).data.tags
    assert tags["mlops.gate.decision"] == "challenger"
    assert tags["mlops.gate.challenger_value"] == "0.7"
    assert tags["mlops.gate.champion_value"] == "0.8"
    assert "not better" in tags["mlops.gate.reason"]
    assert client.get_model_version("churn", "2").tags["mlops.gate.decision"] == "challenger"

    third = register_and_gate(client, *train(0.85), "churn", gate)
    assert third.alias == "champion"
    assert str(client.get_model_version_by_alias("churn", "champion").version) == "3"
    rows = list_versions(client, "churn", "roc_auc")
    assert [(row.version, row.aliases, row.metric_value) for row in rows] == [
        ("3", ["champion"], 0.85),
        ("2", ["challenger"], 0.70),
        ("1", [], 0.80),
    ]


def test_a_run_without_the_metric_never_becomes_champion(client):
    register_and_gate(client, *train(0.8), "churn", GateConfig())
    decision = register_and_gate(client, *train(None), "churn", GateConfig())
    assert decision.alias == "challenger"
    assert "did not log 'roc_auc'" in decision.reason


def test_manual_promotion(client):
    register_and_gate(client, *train(0.8), "churn", GateConfig())
    register_and_gate(client, *train(0.7), "churn", GateConfig())
    assert promote(client, "churn", "2", "champion", "hotfix") == "1"
    version = client.get_model_version_by_alias("churn", "champion")
    assert str(version.version) == "2"
    assert version.tags["mlops.promotion.champion"] == "hotfix"
    assert version.aliases == ["champion"]  # a champion is no longer the challenger
    with pytest.raises(RegistryError, match="has no version '7'"):
        promote(client, "churn", "7", "champion", "nope")


def test_listing_an_unknown_model_says_how_to_create_it(client):
    with pytest.raises(RegistryError, match=r"No registered model 'nope'.*kedro run"):
        list_versions(client, "nope", "roc_auc")


def test_replacing_a_hand_promoted_champion_is_said_and_tagged(client):
    register_and_gate(client, *train(0.8), "churn", GateConfig())
    register_and_gate(client, *train(0.7), "churn", GateConfig())
    promote(client, "churn", "2", "champion", "hotfix")
    uri, run_id = train(0.9)
    decision = register_and_gate(client, uri, run_id, "churn", GateConfig())
    assert (decision.version, decision.alias, decision.replaced_manual) == ("3", "champion", "2")
    assert decision.summary().endswith("; replaced a manually promoted champion v2")
    note = "replaced a manually promoted champion v2"
    assert client.get_run(run_id).data.tags["mlops.gate.replaced"] == note
    assert client.get_model_version("churn", "3").tags["mlops.gate.replaced"] == note
    # a champion the gate chose is replaced without a note
    after = register_and_gate(client, *train(0.95), "churn", GateConfig())
    assert (after.alias, after.replaced_manual) == ("champion", None)
    assert "replaced" not in after.summary()


def test_a_locked_champion_stays_until_unlocked(client):
    register_and_gate(client, *train(0.8), "churn", GateConfig())
    with pytest.raises(RegistryError, match="no champion to lock"):
        lock_champion(client, "other", "x")
    assert lock_champion(client, "churn", "audit until Friday") == "1"
    assert champion_lock(client, "churn") == "v1: audit until Friday"
    better = register_and_gate(client, *train(0.95), "churn", GateConfig())
    assert better.alias == "challenger"
    assert "locked by hand (v1: audit until Friday)" in better.reason
    assert "--unlock" in better.reason
    assert str(client.get_model_version_by_alias("churn", "champion").version) == "1"
    assert str(client.get_model_version_by_alias("churn", "challenger").version) == "2"

    assert unlock_champion(client, "churn") is True
    assert unlock_champion(client, "churn") is False
    assert champion_lock(client, "churn") is None
    best = register_and_gate(client, *train(0.97), "churn", GateConfig())
    assert best.alias == "champion"
