from __future__ import annotations

import pickle

import mlflow
import pandas as pd

from kedro_mlops.io import ArtifactDataset, ParamsDataset


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


def test_a_table_without_rows_is_saved_not_logged(tmp_path):
    mlflow.set_tracking_uri(f"sqlite:///{tmp_path / 'mlflow.db'}")
    dataset = make(tmp_path)
    with mlflow.start_run() as run:
        dataset.save(pd.DataFrame(columns=["mean_test_score"]))
    assert dataset.exists()
    assert mlflow.MlflowClient().list_artifacts(run.info.run_id, "tables") == []
    mlflow.set_tracking_uri(None)


def test_params_dataset_logs_a_mapping_as_parameters(tmp_path, monkeypatch):
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
    client = mlflow.MlflowClient(uri)
    run = client.create_run("0")
    monkeypatch.setenv("MLFLOW_RUN_ID", run.info.run_id)
    dataset = ParamsDataset(prefix="best.")
    assert not dataset.exists()
    dataset.save({})  # a run without a search: nothing
    assert client.get_run(run.info.run_id).data.params == {}
    dataset.save({"max_iter": 300, "learning_rate": 0.1, "nested": {"depth": 3}})
    assert client.get_run(run.info.run_id).data.params == {
        "best.max_iter": "300",
        "best.learning_rate": "0.1",
        "best.nested.depth": "3",
    }
    assert dataset.load() == {"max_iter": "300", "learning_rate": "0.1", "nested.depth": "3"}
    assert dataset.exists()
    copy = pickle.loads(pickle.dumps(dataset))  # noqa: S301 - our own object
    assert copy._describe() == {"prefix": "best."}
