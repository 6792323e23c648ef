"""A real `kedro run` of the whole project on a local Spark session, in a copy, tracked to a
temporary MLflow store."""

from __future__ import annotations

import shutil

import mlflow
import pandas as pd
import pytest
from kedro.framework.session import KedroSession
from kedro.framework.startup import bootstrap_project

from .conftest import PROJECT_PATH

IGNORED = shutil.ignore_patterns(
    "mlflow.db", "mlruns", ".venv", "dist", "__pycache__", "*.parquet", "*.pkl"
)


@pytest.fixture
def project_copy(tmp_path, monkeypatch, spark):
    copy = tmp_path / "project"
    for part in ("conf", "src", "data"):
        shutil.copytree(PROJECT_PATH / part, copy / part, ignore=IGNORED)
    shutil.copy(PROJECT_PATH / "pyproject.toml", copy / "pyproject.toml")
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tmp_path / 'mlflow.db'}")
    monkeypatch.chdir(copy)
    yield copy
    while mlflow.active_run():
        mlflow.end_run()


def test_kedro_run_trains_logs_and_scores(project_copy, params, config_loader):
    bootstrap_project(project_copy)
    with KedroSession.create(project_path=project_copy) as session:
        session.run()

    outputs = config_loader["catalog"]["predictions"]["filepath"]
    predictions = pd.read_parquet(project_copy / outputs)
    batch = pd.read_csv(project_copy / params["serving"]["source"])
    assert len(predictions) == len(batch)

    run = mlflow.get_run(mlflow.last_active_run().info.run_id)
    assert run.info.status == "FINISHED"
    assert "roc_auc" in run.data.metrics
    assert (
        run.data.metrics["training_rows_sampled"]
        <= params["model"]["max_training_rows"]
    )
    # the logged model is the pandas pipeline: it scores the rows as Spark did
    model = mlflow.pyfunc.load_model(f"runs:/{run.info.run_id}/model")
    scored = model.predict(batch)
    id_column = params["dataset"]["id_column"] or "row"
    merged = scored.merge(predictions, on=id_column, suffixes=("_online", "_batch"))
    assert len(merged) == len(batch)
    assert (merged["prediction_online"].astype(str) == merged["prediction_batch"]).all()
    assert (
        merged["probability_online"] - merged["probability_batch"]
    ).abs().max() < 1e-9
