"""Lineage, one run per `kedro run` whatever the runner, the registry gate, promotion, serving
from the registry: on the SQLite store and against a real `mlflow server` process."""

from __future__ import annotations

import json
import time

import mlflow
import pandas as pd
import pytest

from tests.conftest import free_port
from tests.e2e.conftest import copy_project, git_commit

pytestmark = pytest.mark.e2e

NODES = {
    "validate_raw_data",
    "clean_raw_data",
    "build_features",
    "split_train_test",
    "snapshot_reference_features",
    "train_model",
    "describe_model",
    "evaluate_model",
    "prepare_batch",
    "predict_batch",
    "summarise_search",
    "predict_reference",
}
CRIPPLE = "model.hyperparameters.max_iter=2,model.hyperparameters.learning_rate=0.01"


def runs_of(client, experiment="bar_demo"):
    found = client.get_experiment_by_name(experiment)
    if found is None:
        return []
    return client.search_runs([found.experiment_id], order_by=["attributes.start_time ASC"])


def alias_version(client, alias):
    return str(client.get_model_version_by_alias("bar_demo", alias).version)


@pytest.fixture(scope="module")
def git_project(venv, project, tmp_path_factory):
    copy = copy_project(project, tmp_path_factory.mktemp("git") / "bar-demo")
    return copy, git_commit(copy)


def drift_summaries(path):
    return sorted((path / "data" / "08_reporting" / "drift" / "production_batch").glob("*/*.json"))


@pytest.mark.parametrize("runner", ["SequentialRunner", "ThreadRunner", "ParallelRunner"])
def test_one_run_per_kedro_run_with_full_lineage(venv, git_project, runner):
    path, sha = git_project
    client = mlflow.MlflowClient(f"sqlite:///{path / 'mlflow.db'}")
    before = len(runs_of(client))
    checked = drift_summaries(path)
    result = venv.ok("kedro", "run", "--runner", runner, cwd=path, offline=True)
    runs = runs_of(client)
    assert len(runs) == before + 1, [run.info.run_name for run in runs]
    run = runs[-1]
    tags, metrics = run.data.tags, run.data.metrics
    assert run.info.status == "FINISHED"
    assert tags["mlops.git.sha"] == sha
    assert tags["mlops.git.branch"] == "main"
    assert tags["mlops.git.dirty"] == "false"
    assert tags["mlops.runner"] == runner
    assert tags["mlops.command"] == f"kedro run --runner {runner}"
    assert tags["mlops.pipeline"] == "__default__"
    # the content version its predictions carry, to find the version it was registered as
    info = json.loads((path / "data/06_models/model_info.json").read_text())
    assert tags["mlops.model.content_version"] == info["version"]
    assert {f"node_time_s.{name}" for name in NODES} <= set(metrics)
    assert metrics["run_time_s"] > 0
    inputs = {d.dataset.name: d.dataset for d in run.inputs.dataset_inputs}
    assert set(inputs) == {"raw_data", "production_batch"}
    assert inputs["raw_data"].source.endswith('data/01_raw/customers.csv"}')
    assert '"name": "churn"' in inputs["raw_data"].schema
    artifacts = {a.path for a in client.list_artifacts(run.info.run_id)}
    assert {"evaluation", "kedro_mlops"} <= artifacts
    # every drift check ran, once: its line, its summary and report, its metrics and tag
    output = result.stdout + result.stderr
    assert output.count("kedro-mlops: drift check 'production_batch': DRIFT") == 1
    (summary,) = sorted(set(drift_summaries(path)) - set(checked))
    assert json.loads(summary.read_text())["status"] == "drift"
    assert (summary.parent / "report.html").stat().st_size > 100_000
    assert tags["drift.verdict"] == "drift"
    assert metrics["drift_share"] == pytest.approx(0.4)
    assert {"drift_score.prediction", "drift_score.probability"} <= set(metrics)
    drift_files = {a.path for a in client.list_artifacts(run.info.run_id, "drift/production_batch")}
    assert drift_files == {
        "drift/production_batch/summary.json",
        "drift/production_batch/report.html",
    }
    if before:  # the same data gives the same digest across runs
        first = {d.dataset.name: d.dataset.digest for d in runs_of(client)[0].inputs.dataset_inputs}
        assert {name: d.digest for name, d in inputs.items()} == first


def test_gate_models_promote_and_serving_from_the_registry(venv, git_project):
    path, _sha = git_project
    client = mlflow.MlflowClient(f"sqlite:///{path / 'mlflow.db'}")
    assert alias_version(client, "champion") == "1"  # the first run (same data, same metric)
    venv.ok("kedro", "run", "--params", CRIPPLE, cwd=path, offline=True)
    crippled = runs_of(client)[-1]
    version = crippled.data.tags["mlops.registry.version"]
    assert crippled.data.tags["mlops.gate.decision"] == "challenger"
    assert float(crippled.data.tags["mlops.gate.challenger_value"]) < float(
        crippled.data.tags["mlops.gate.champion_value"]
    )
    assert alias_version(client, "champion") == "1"
    assert alias_version(client, "challenger") == version

    listing = venv.ok("kedro", "mlops", "models", cwd=path, offline=True).stdout
    assert "Registered model 'bar_demo' (gate: roc_auc, maximize)" in listing
    row = next(line for line in listing.splitlines() if line.startswith(f"{version} "))
    assert "challenger" in row
    assert crippled.info.run_id in row

    moved = venv.ok("kedro", "mlops", "promote", "--version", version, cwd=path, offline=True)
    assert f"bar_demo@champion -> version {version} (was version 1)" in moved.stdout
    assert alias_version(client, "champion") == version

    bad = venv.run("kedro", "mlops", "promote", "--version", "99", cwd=path, offline=True)
    assert bad.returncode == 2
    assert "Model 'bar_demo' has no version '99'" in bad.stdout + bad.stderr

    (path / "conf" / "local" / "mlops.yml").write_text(
        "serving:\n  model_uri: models:/bar_demo@champion\n"
    )
    try:
        venv.ok("kedro", "run", "--pipeline", "serving", cwd=path, offline=True)
    finally:
        (path / "conf" / "local" / "mlops.yml").unlink()
    predictions = pd.read_csv(path / "data" / "07_model_output" / "predictions.csv")
    assert set(predictions["model_registry"]) == {f"bar_demo/{version}"}
    serving_run = runs_of(client)[-1]
    assert serving_run.data.tags["mlops.serving.model"] == f"bar_demo/{version}"
    assert serving_run.data.tags["mlops.serving.model_uri"] == "models:/bar_demo@champion"

    # the hand-promoted (worse) champion is replaced by the next better model: said and tagged
    train = ["kedro", "run", "--pipelines", "data_science"]
    # wide enough that rich does not wrap the gate's line around its file name column
    replaced = venv.ok(*train, cwd=path, offline=True, env={"COLUMNS": "1000"})
    note = f"replaced a manually promoted champion v{version}"
    assert note in " ".join((replaced.stdout + replaced.stderr).split())
    better = runs_of(client)[-1]
    assert better.data.tags["mlops.gate.decision"] == "champion"
    assert better.data.tags["mlops.gate.replaced"] == note

    # locked, the champion stays while better models arrive as challengers
    locked = venv.ok(
        "kedro", "mlops", "promote", "--version", version, "--lock", "--reason", "audit",
        cwd=path, offline=True,
    )  # fmt: skip
    assert f"bar_demo@champion locked at version {version}" in locked.stdout
    listing = venv.ok("kedro", "mlops", "models", cwd=path, offline=True).stdout
    assert f"Champion locked by hand (v{version}: audit)" in listing
    venv.ok(*train, cwd=path, offline=True)
    held = runs_of(client)[-1]
    assert held.data.tags["mlops.gate.decision"] == "challenger"
    assert f"the champion v{version} is locked by hand" in held.data.tags["mlops.gate.reason"]
    assert alias_version(client, "champion") == version
    unlocked = venv.ok("kedro", "mlops", "promote", "--unlock", cwd=path, offline=True)
    assert unlocked.stdout.strip() == "bar_demo@champion: unlocked"


def test_against_a_real_mlflow_server(venv, project, tmp_path, mlflow_server):
    path = copy_project(project, tmp_path / "served")
    env = {"MLFLOW_TRACKING_URI": mlflow_server}
    venv.ok("kedro", "run", cwd=path, env=env)
    venv.ok("kedro", "run", "--params", CRIPPLE, cwd=path, env=env)
    assert not (path / "mlflow.db").exists()

    client = mlflow.MlflowClient(mlflow_server)  # over HTTP
    first, second = runs_of(client)
    for run in (first, second):
        assert run.info.status == "FINISHED"
        assert {d.dataset.name for d in run.inputs.dataset_inputs} == {
            "raw_data",
            "production_batch",
        }
        assert "node_time_s.train_model" in run.data.metrics
    assert first.data.tags["mlops.gate.decision"] == "champion"
    assert second.data.tags["mlops.gate.decision"] == "challenger"
    assert alias_version(client, "champion") == "1"
    assert alias_version(client, "challenger") == "2"
    assert [a.path for a in client.list_artifacts(first.info.run_id, "evaluation")] == [
        "evaluation/confusion_matrix.png",
        "evaluation/roc_curve.png",
    ]

    listing = venv.ok("kedro", "mlops", "models", cwd=path, env=env).stdout
    assert "1        champion" in listing
    assert "2        challenger" in listing
    venv.ok("kedro", "mlops", "promote", "--version", "2", cwd=path, env=env)
    assert alias_version(client, "champion") == "2"


def test_dead_tracking_uri_fails_fast_or_warns(venv, project, tmp_path):
    path = copy_project(project, tmp_path / "dead")
    uri = f"http://127.0.0.1:{free_port()}"
    started = time.monotonic()
    result = venv.run("kedro", "run", cwd=path, env={"MLFLOW_TRACKING_URI": uri})
    assert time.monotonic() - started < 15
    assert result.returncode == 2
    output = result.stdout + result.stderr
    assert f"Error: MLflow tracking server {uri} is unreachable" in output
    assert "tracking.on_error: warn" in output

    (path / "conf" / "local" / "mlops.yml").write_text("tracking:\n  on_error: warn\n")
    result = venv.run("kedro", "run", cwd=path, env={"MLFLOW_TRACKING_URI": uri})
    assert result.returncode == 0, result.stdout[-3000:]
    assert "This run is NOT tracked" in result.stdout + result.stderr
    assert (path / "data" / "07_model_output" / "predictions.csv").exists()
    assert not (path / "mlflow.db").exists()
