"""`analyze_project` on a real MLflow registry (a SQLite store) and a catalog of logged rows."""

from __future__ import annotations

import time
import uuid
from datetime import datetime, timezone

import mlflow
import pandas as pd
import pytest

from kedro_mlops.config import MlopsConfig
from kedro_mlops.config.rollout import CHALLENGER_PREFIX, CHAMPION_PREFIX
from kedro_mlops.rollout.project import analyze_project
from tests.rollout.test_analysis import logged_rows

NAME = "credit"


class Catalog(dict):
    def load(self, name):
        return self[name]


@pytest.fixture
def registry(tmp_path):
    client = mlflow.MlflowClient(f"sqlite:///{tmp_path / 'mlflow.db'}")
    client.create_registered_model(NAME)
    for version, alias in (("1", "champion"), ("2", "challenger")):
        client.create_model_version(NAME, source=str(tmp_path / version))
        client.set_registered_model_alias(NAME, alias, version)
    return client


def test_without_an_id_column_labels_join_by_the_prediction_id(registry):
    """A dataset without an id column: the labels name the prediction_id /predict returned."""
    rows = logged_rows(400).drop(columns="label")
    rows[CHAMPION_PREFIX + "version"], rows[CHALLENGER_PREFIX + "version"] = 1, 2
    rows["prediction_id"] = [uuid.uuid4().hex for _ in range(len(rows))]
    rows["served_at"] = datetime.now(timezone.utc).isoformat()
    truth = logged_rows(400)["label"]
    labels = pd.DataFrame({"prediction_id": rows["prediction_id"], "label": truth})
    stamp = time.strftime("%Y%m%dT%H%M%S", time.gmtime(time.time() + 60))
    catalog = Catalog(
        served_traffic={f"{stamp}-1": rows}, ground_truth={"labels": labels.iloc[:300]}
    )
    report = analyze_project(
        registry,
        catalog,
        MlopsConfig(),
        model_name=NAME,
        experiment=NAME,
        dataset={"id_column": None, "target": "churn", "positive_class": "yes"},
    )
    assert report.figures.rows == 400
    assert report.figures.labelled == 300
    assert report.figures.champion_metric is not None
