from __future__ import annotations

import pickle

import mlflow
import pandas as pd

from kedro_mlops.io import ArtifactDataset


def make(tmp_path):
    return ArtifactDataset(
        dataset={"type": "pandas.CSVDataset", "filepath": str(tmp_path / "out" / "t.csv")},
        artifact_path="tables",
    )


def test_saves_locally_and_logs_to_the_active_run(tmp_path):
    mlflow.set_tracking_uri(f"sqlite:///{tmp_path / 'mlflow.db'}")
    dataset = make(tmp_path)
    frame = pd.DataFrame({"a": [1, 2]})
    with mlflow.start_run() as run:
        dataset.save(frame)
    pd.testing.assert_frame_equal(dataset.load(), frame)
    artifacts = mlflow.MlflowClient().list_artifacts(run.info.run_id, "tables")
    assert [a.path for a in artifacts] == ["tables/t.csv"]
    mlflow.set_tracking_uri(None)


def test_logs_to_the_run_named_by_the_environment(tmp_path, monkeypatch):
    """What a ParallelRunner worker sees: no active run, MLFLOW_RUN_ID exported."""
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
    run = mlflow.MlflowClient(uri).create_run("0")
    monkeypatch.setenv("MLFLOW_RUN_ID", run.info.run_id)
    make(tmp_path).save(pd.DataFrame({"a": [1]}))
    artifacts = mlflow.MlflowClient(uri).list_artifacts(run.info.run_id, "tables")
    assert [a.path for a in artifacts] == ["tables/t.csv"]


def test_without_a_run_it_only_saves(tmp_path):
    dataset = make(tmp_path)
    dataset.save(pd.DataFrame({"a": [1]}))
    assert dataset.exists()


def test_pickles_for_parallel_runner(tmp_path):
    copy = pickle.loads(pickle.dumps(make(tmp_path)))  # noqa: S301 - our own object
    assert copy._describe()["artifact_path"] == "tables"
