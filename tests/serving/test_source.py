"""Where a serving model comes from, on a real MLflow registry (SQLite store)."""

from __future__ import annotations

import mlflow
import pytest

from kedro_mlops.config import GateConfig
from kedro_mlops.serving.source import (
    ModelSourceError,
    alias_version,
    default_model_uri,
    load_from_mlflow,
    load_local,
    resolve_model_uri,
)
from kedro_mlops.tracking.registry import register_and_gate
from tests.tracking.test_registry import client, train  # noqa: F401 - the fixture


def test_resolve_model_uri(client):  # noqa: F811 - the fixture
    gate = GateConfig()
    _uri, run_id = train(0.8)
    register_and_gate(client, _uri, run_id, "churn", gate)
    resolved = resolve_model_uri(client, "models:/churn@champion")
    assert resolved == {
        "model_uri": "models:/churn@champion",
        "registered_model": "churn",
        "registered_version": "1",
        "run_id": run_id,
    }
    assert resolve_model_uri(client, "models:/churn/1")["registered_version"] == "1"
    assert resolve_model_uri(client, "runs:/abc/model") == {"model_uri": "runs:/abc/model"}
    assert resolve_model_uri(client, "models:/m-123") == {"model_uri": "models:/m-123"}
    with pytest.raises(ModelSourceError, match="does not resolve"):
        resolve_model_uri(client, "models:/churn@nope")
    with pytest.raises(ModelSourceError, match=r"'models:/churn/7' does not resolve"):
        resolve_model_uri(client, "models:/churn/7")

    # the alias a server watches
    assert alias_version(client, "models:/churn@champion") == "1"
    register_and_gate(client, *train(0.9), "churn", gate)
    assert alias_version(client, "models:/churn@champion") == "2"
    assert alias_version(client, "models:/churn/1") is None
    assert alias_version(client, "runs:/abc/model") is None

    # models that cannot serve are refused with their URI
    with pytest.raises(ModelSourceError) as raised:
        load_from_mlflow(client, "models:/churn@champion")
    assert str(raised.value) == (
        "model 'models:/churn@champion' is not a Kedro pipeline model (logged by "
        "pipeline_ml_factory)"
    )
    with pytest.raises(ModelSourceError, match=r"^cannot load model 'runs:/0123abcd/model': "):
        load_from_mlflow(client, "runs:/0123abcd/model")


def test_default_model_uri(client):  # noqa: F811
    assert default_model_uri(client, "churn", "nowhere") is None
    mlflow.set_experiment("churn-experiment")
    uri, run_id = train(0.8)
    assert default_model_uri(client, "churn", "churn-experiment") == uri  # the newest logged
    register_and_gate(client, uri, run_id, "churn", GateConfig())
    assert default_model_uri(client, "churn", "churn-experiment") == "models:/churn@champion"


class _Catalog:
    """A catalog whose datasets fail to load the way Kedro's do (a DatasetError from the
    underlying error)."""

    def __init__(self, cause: Exception) -> None:
        self.cause = cause

    def load(self, name: str):
        from kedro.io import DatasetError  # noqa: PLC0415

        raise DatasetError(f"Failed while loading data from dataset {name}.\n{self.cause}") from (
            self.cause
        )


@pytest.mark.parametrize(
    ("cause", "why"),
    [
        (
            FileNotFoundError(2, "No such file or directory", "data/06_models/model.pkl"),
            "no file data/06_models/model.pkl",
        ),
        (ValueError("bad pickle"), "Failed while loading data from dataset model. bad pickle"),
    ],
)
def test_a_local_model_that_cannot_load_is_one_line(cause, why):
    from kedro.pipeline import Pipeline, node  # noqa: PLC0415

    inference = Pipeline([node(lambda model, batch: batch, ["model", "batch"], "predictions")])
    with pytest.raises(ModelSourceError) as caught:
        load_local(inference, _Catalog(cause), input_name="batch", name="churn")
    assert caught.value.message == (
        f"cannot load 'model' for the local model ({why}); `kedro run` trains one"
    )
