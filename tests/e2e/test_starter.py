"""What a new user does: install, create a project offline, run it, test it, load the model."""

from __future__ import annotations

import json
import pickle
import shlex

import mlflow
import pandas as pd
import pytest

from tests.e2e.conftest import OFFLINE, copy_project

pytestmark = pytest.mark.e2e

EVALUATION_METRICS = {
    "roc_auc",
    "average_precision",
    "f1",
    "precision",
    "recall",
    "accuracy",
    "log_loss",
}


def training_run(project):
    client = mlflow.MlflowClient(f"sqlite:///{project / 'mlflow.db'}")
    experiment = client.get_experiment_by_name("bar_demo")
    runs = client.search_runs(
        [experiment.experiment_id], filter_string="attributes.run_name = '__default__'"
    )
    assert len(runs) == 1
    return client, experiment, runs[0]


def test_network_is_really_off_for_offline_commands(venv, workdir):
    if not OFFLINE:
        pytest.skip("unshare is not available: cannot switch the network off")
    code = "import socket; socket.create_connection(('pypi.org', 443), timeout=3)"
    result = venv.run("python", "-c", code, cwd=workdir, offline=True)
    assert result.returncode != 0


def test_starter_is_listed(venv, workdir):
    result = venv.ok("kedro", "starter", "list", cwd=workdir, offline=True)
    assert "mlops" in result.stdout
    assert "kedro_mlops" in result.stdout


def test_kedro_run_is_tracked_in_sqlite_at_the_project_root(project):
    client, experiment, run = training_run(project)
    assert run.info.status == "FINISHED"
    assert experiment.artifact_location == (project / "mlruns").as_uri()
    assert run.data.params["model.hyperparameters.max_iter"] == "200"
    assert run.data.params["model.estimator"].endswith("HistGradientBoostingClassifier")
    assert EVALUATION_METRICS <= set(run.data.metrics)
    assert run.data.metrics["roc_auc"] > 0.7
    images = {a.path for a in client.list_artifacts(run.info.run_id, "evaluation")}
    assert images == {"evaluation/confusion_matrix.png", "evaluation/roc_curve.png"}
    models = client.search_logged_models(
        experiment_ids=[experiment.experiment_id],
        filter_string=f"source_run_id = '{run.info.run_id}'",
    )
    assert [model.name for model in models] == ["model"]


def test_logged_model_predicts_what_the_batch_output_holds(venv, project):
    _client, _experiment, run = training_run(project)
    script = f"""
import json, mlflow, numpy as np, pandas as pd
mlflow.set_tracking_uri("sqlite:///mlflow.db")
model = mlflow.pyfunc.load_model("runs:/{run.info.run_id}/model")
scored = model.predict(pd.read_csv("data/01_raw/production_batch.csv"))
batch_output = pd.read_csv("data/07_model_output/predictions.csv")
print(json.dumps({{
    "rows": len(scored),
    "same_ids": bool((scored["customer_id"].to_numpy() == batch_output["customer_id"]).all()),
    "same_labels": bool((scored["prediction"].to_numpy() == batch_output["prediction"]).all()),
    "max_abs_diff": float(np.abs(scored["probability"] - batch_output["probability"]).max()),
    "versions": sorted(set(scored["model_version"]) | set(batch_output["model_version"])),
}}))
"""
    result = venv.ok("python", "-c", script, cwd=project, offline=True)
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["rows"] == 3000
    assert report["same_ids"] and report["same_labels"]
    assert report["max_abs_diff"] < 1e-12  # CSV keeps full float precision
    assert len(report["versions"]) == 1


def test_each_pipeline_runs_alone_in_sequence(venv, project, tmp_path):
    copy = copy_project(project, tmp_path / "alone")
    for pipeline in ("data_engineering", "data_science", "serving"):
        result = venv.run("kedro", "run", "--pipeline", pipeline, cwd=copy, offline=True)
        assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert (copy / "data" / "05_model_input" / "reference_features.parquet").exists()
    assert (copy / "data" / "06_models" / "model.pkl").exists()
    assert (copy / "data" / "07_model_output" / "predictions.csv").exists()
    client = mlflow.MlflowClient(f"sqlite:///{copy / 'mlflow.db'}")
    experiment = client.get_experiment_by_name("bar_demo")
    names = sorted(run.info.run_name for run in client.search_runs([experiment.experiment_id]))
    assert names == ["data_engineering", "data_science", "serving"]


def test_generated_project_passes_its_own_tests_and_lint(venv, project):
    tests = venv.run("pytest", "-q", "-p", "no:cacheprovider", cwd=project, offline=True)
    assert tests.returncode == 0, tests.stdout[-4000:]
    assert " passed" in tests.stdout
    assert "warning" not in tests.stdout  # the stack's known warnings are filtered (conftest.py)
    venv.ok("ruff", "check", ".", cwd=project)
    venv.ok("ruff", "format", "--check", ".", cwd=project)


def test_tracking_uri_from_the_environment_wins(venv, project, tmp_path):
    copy = copy_project(project, tmp_path / "env-uri")
    store = tmp_path / "team.db"
    venv.ok(
        "kedro",
        "run",
        "--pipeline",
        "data_engineering",
        cwd=copy,
        offline=True,
        env={"MLFLOW_TRACKING_URI": f"sqlite:///{store}"},
    )
    assert store.exists()
    assert not (copy / "mlflow.db").exists()


def test_the_readmes_way_to_switch_the_estimator(venv, project, tmp_path):
    """The generated README's `conf/<env>` file and command, as written there (data_science
    alone): the estimator gets its own hyper-parameters, `--params` changes one on top."""
    copy = copy_project(project, tmp_path / "logistic", keep_outputs=True)
    section = (copy / "README.md").read_text().split("## Switch the estimator\n")[1]
    config = section.split("```yaml\n")[1].split("```")[0]
    commands = section.split("```bash\n")[1].split("```")[0].splitlines()
    env = "logistic"
    assert f"`conf/{env}/parameters_data_science.yml`:" in section
    (copy / "conf" / env).mkdir()
    (copy / "conf" / env / "parameters_data_science.yml").write_text(config)
    command = shlex.split(commands[1].split("#")[0])
    assert command == ["kedro", "run", "--env", env, "--params", "model.hyperparameters.C=0.3"]
    result = venv.run(*command, "--pipelines", "data_science", cwd=copy, offline=True)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-3000:]
    assert "Warning" not in output
    client = mlflow.MlflowClient(f"sqlite:///{copy / 'mlflow.db'}")
    experiment = client.get_experiment_by_name("bar_demo")
    (run,) = client.search_runs([experiment.experiment_id])
    hyperparameters = {
        name: value
        for name, value in run.data.params.items()
        if name.startswith("model.hyperparameters.")
    }
    assert run.data.params["model.estimator"] == "sklearn.linear_model.LogisticRegression"
    assert hyperparameters == {
        "model.hyperparameters.C": "0.3",
        "model.hyperparameters.max_iter": "1000",
    }
    assert run.data.metrics["roc_auc"] > 0.7
    info = json.loads((copy / "data" / "06_models" / "model_info.json").read_text())
    assert info["name"] == "LogisticRegression"


def test_generated_project_files(project):
    assert (project / ".telemetry").read_text().strip() == "consent: false"
    ignored = (project / ".gitignore").read_text()
    for pattern in ("mlflow.db", "mlruns/", "data/**"):
        assert pattern in ignored
    readme = (project / "README.md").read_text()
    assert "## Use your own data" in readme
    assert "synthetic" in readme
    assert (project / "src" / "bar_demo" / "pipelines" / "serving" / "nodes.py").exists()
    assert (project / "conf" / "base" / "parameters_data_science.yml").exists()


def test_status_shows_the_latest_run_and_its_model(venv, project):
    client, experiment, run = training_run(project)
    result = venv.ok("kedro", "mlops", "status", cwd=project, offline=True)
    (model,) = client.search_logged_models(
        experiment_ids=[experiment.experiment_id],
        filter_string=f"source_run_id = '{run.info.run_id}'",
    )
    assert f"Tracking URI: sqlite:///{project / 'mlflow.db'}" in result.stdout
    assert f"Latest run:   {run.info.run_id} (__default__, FINISHED" in result.stdout
    assert f"Model URI:    {model.model_uri}" in result.stdout
    assert "roc_auc" in result.stdout


def test_a_search_records_what_it_chose(venv, project, tmp_path):
    copy = copy_project(project, tmp_path / "search", keep_outputs=True)
    search = ["--params", "model.search.enabled=true,model.search.cv=2"]
    venv.ok("kedro", "run", "--pipelines", "data_science", *search, cwd=copy, offline=True)
    client = mlflow.MlflowClient(f"sqlite:///{copy / 'mlflow.db'}")
    experiment = client.get_experiment_by_name("bar_demo")
    (run,) = client.search_runs([experiment.experiment_id])
    params, metrics = run.data.params, run.data.metrics
    # the grid of parameters_data_science.yml: learning_rate x max_leaf_nodes
    assert params["best.learning_rate"] in {"0.05", "0.1"}
    assert params["best.max_leaf_nodes"] in {"15", "31"}
    assert params["model.hyperparameters.learning_rate"] == "0.08"  # the starting value
    assert 0.5 < metrics["search_best_roc_auc"] <= 1
    local = copy / "data" / "08_reporting" / "search_results.csv"
    client.download_artifacts(run.info.run_id, "search/search_results.csv", str(tmp_path))
    table = pd.read_csv(tmp_path / "search_results.csv")
    assert table.equals(pd.read_csv(local))
    assert len(table) == 4
    best = table.iloc[0]
    assert best["rank_test_score"] == 1
    assert str(best["learning_rate"]) == params["best.learning_rate"]
    assert best["mean_test_score"] == pytest.approx(metrics["search_best_roc_auc"])
    with (copy / "data" / "06_models" / "model.pkl").open("rb") as file:
        model = pickle.load(file)  # noqa: S301 - the model this test just trained
    assert str(model.named_steps["classifier"].learning_rate) == params["best.learning_rate"]
