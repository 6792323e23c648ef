"""`engine: spark`: a project generated from the starter runs on a local Spark session, offline,
tracked, gated and drift-checked, with the pandas project's outputs and error messages.

One project is generated and run per session (``spark_project``); the tests share it.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import mlflow
import pandas as pd
import pytest

from tests.conftest import CI_FILES
from tests.e2e.conftest import Env, copy_project

pytestmark = pytest.mark.e2e

NAME = "Spark Demo"
PACKAGE = "spark_demo"
# Spark's driver talks to itself on the loopback interface: offline runs bring it up in their
# network namespace (the pandas project needs no interface at all)
LOOPBACK = 'ip link set lo up 2>/dev/null; exec "$@"'
DRIFT = Path("data", "08_reporting", "drift", "production_batch")


def output_of(result: subprocess.CompletedProcess[str]) -> str:
    return result.stdout + result.stderr


def run_offline(venv: Env, *args: str, **kwargs: object) -> subprocess.CompletedProcess[str]:
    """``args`` without network but with the loopback interface up."""
    return venv.run("sh", "-c", LOOPBACK, "sh", *venv.command(*args), offline=True, **kwargs)  # type: ignore[arg-type]


@pytest.fixture(scope="session")
def spark_project(venv, workdir) -> tuple[Path, subprocess.CompletedProcess[str]]:
    """``kedro new --starter=mlops --config`` with ``engine: spark`` offline, then ``kedro run``
    offline."""
    target = workdir / "spark"
    target.mkdir()
    config = target / "new.yml"
    config.write_text(f"project_name: {NAME}\nengine: spark\n")
    venv.ok("kedro", "new", "--starter=mlops", "--config", str(config), cwd=target, offline=True)
    path = target / "spark-demo"
    run = run_offline(venv, "kedro", "run", cwd=path)
    assert run.returncode == 0, output_of(run)[-6000:]
    return path, run


def test_a_spark_project_runs_tracked_gated_and_drift_checked(spark_project, project):
    path, run = spark_project
    printed = output_of(run)
    assert "Traceback" not in printed
    # the JVM's warnings are fixed, its start-up notes not printed (log4j2.properties)
    assert "Setting default log level" not in printed
    assert [line for line in printed.splitlines() if " WARN " in line] == []
    assert "registry gate" in printed
    assert "drift check 'production_batch'" in printed

    client = mlflow.MlflowClient(f"sqlite:///{path / 'mlflow.db'}")
    experiment = client.get_experiment_by_name(PACKAGE)
    (training,) = client.search_runs(
        [experiment.experiment_id], filter_string="attributes.run_name = '__default__'"
    )
    metrics, params = training.data.metrics, training.data.params
    assert params["model.max_training_rows"] == "1000000"
    assert metrics["training_rows_sampled"] == metrics["training_rows_available"] > 9000
    assert metrics["roc_auc"] > 0.7
    inputs = {item.dataset.name: item.dataset for item in training.inputs.dataset_inputs}
    assert {"raw_data", "production_batch"} <= set(inputs)
    assert json.loads(inputs["raw_data"].profile) == {"num_rows": 12000}
    assert str(client.get_model_version_by_alias(PACKAGE, "champion").version) == "1"

    # the same outputs as the pandas project: prediction columns, drift verdicts
    predictions = pd.read_parquet(path / "data" / "07_model_output" / "predictions.parquet")
    pandas_predictions = pd.read_csv(project / "data" / "07_model_output" / "predictions.csv")
    assert list(predictions.columns) == list(pandas_predictions.columns)
    assert len(predictions) == len(pandas_predictions)
    spark_summary, pandas_summary = (
        json.loads(next((root / DRIFT).glob("*/summary.json")).read_text())
        for root in (path, project)
    )
    assert spark_summary["status"] == pandas_summary["status"] == "drift"
    assert spark_summary["drifted_columns"] == pandas_summary["drifted_columns"]
    assert set(spark_summary["computed"]) == {
        c["column"] for c in spark_summary["columns"] if c["role"] == "feature"
    }


def test_the_projects_own_tests_pass(venv, spark_project):
    path, _run = spark_project
    result = run_offline(venv, "python", "-m", "pytest", "-q", "-p", "no:cacheprovider", cwd=path)
    assert result.returncode == 0, output_of(result)[-6000:]
    assert " passed" in result.stdout
    assert "warning" not in result.stdout, result.stdout[-6000:]  # pyspark's too (conftest.py)
    venv.ok("ruff", "check", ".", cwd=path)  # what `make ci` runs first
    venv.ok("ruff", "format", "--check", ".", cwd=path)


def test_kedro_mlops_ci_writes_the_ci_files_the_starter_wrote(venv, spark_project):
    """`kedro new` renders the CI files from the pandas pipelines (pyspark is installed after
    it, with the requirements); `kedro mlops ci` here reads the Spark pipelines: the same files."""
    path, _run = spark_project
    names = ("Makefile", *CI_FILES)
    made = {name: (path / name).read_text() for name in names}
    venv.ok("kedro", "mlops", "ci", "--force", cwd=path, offline=True)
    assert {name: (path / name).read_text() for name in names} == made


def _error_line(result: subprocess.CompletedProcess[str]) -> str:
    (line,) = [line for line in result.stderr.splitlines() if line.startswith("Error: ")]
    return line


def test_bad_input_gives_the_pandas_projects_error(venv, spark_project, project, tmp_path):
    """An out-of-range value and a non-numeric one: exit 2, no traceback, the same message."""
    path, _run = spark_project
    copies = {
        "spark": copy_project(path, tmp_path / "spark"),
        "pandas": copy_project(project, tmp_path / "pandas"),
    }
    raw = pd.read_csv(path / "data" / "01_raw" / "customers.csv", dtype=str)
    raw.loc[[3, 7], "age"] = "5"
    for copy in copies.values():
        raw.to_csv(copy / "data" / "01_raw" / "customers.csv", index=False)
    results = {
        engine: run_offline(venv, "kedro", "run", "--pipeline", "data_engineering", cwd=copy)
        for engine, copy in copies.items()
    }
    for result in results.values():
        assert result.returncode == 2, output_of(result)[-3000:]
        assert "Traceback" not in output_of(result)
    assert _error_line(results["spark"]) == _error_line(results["pandas"])
    assert "'age' has 2 value(s) outside [16, 120], e.g. [5.0]" in _error_line(results["spark"])


def test_without_java_one_line_says_what_to_install(venv, spark_project, tmp_path):
    path, _run = spark_project
    result = run_offline(
        venv, "kedro", "run", cwd=path, env={"JAVA_HOME": str(tmp_path / "no-java")}
    )
    assert result.returncode == 2, output_of(result)[-3000:]
    assert "Traceback" not in output_of(result)
    (line,) = [line for line in result.stderr.splitlines() if "Java" in line]
    assert line.startswith("Error: Spark runs locally and needs a Java 17 runtime")
    assert "apt-get install openjdk-17-jre-headless" in line


def test_an_unknown_engine_is_refused_before_anything_is_written(venv, workdir):
    target = workdir / "engines"
    target.mkdir()
    config = target / "new.yml"
    config.write_text("project_name: Dask Demo\nengine: dask\n")
    result = venv.run("kedro", "new", "--starter=mlops", "--config", str(config), cwd=target)
    assert result.returncode != 0
    assert (
        "Invalid value 'dask' for `engine` in the kedro new configuration: use one of pandas, "
        "spark" in output_of(result)
    )
    assert not (target / "dask-demo").exists()


def test_package_puts_java_in_the_pipeline_images(venv, spark_project, tmp_path):
    path, _run = spark_project
    copy = copy_project(path, tmp_path / "packaged", keep_outputs=True)
    shutil.rmtree(copy / "dist", ignore_errors=True)
    result = venv.run("kedro", "mlops", "package", cwd=copy)
    assert result.returncode == 0, output_of(result)[-3000:]
    dockerfile = (copy / "dist" / "mlops" / "Dockerfile").read_text()
    assert "openjdk-17-jre-headless" in dockerfile
    assert "pyspark==" in (copy / "dist" / "mlops" / "requirements.txt").read_text()


def test_a_performance_check_reads_the_spark_predictions(venv, spark_project):
    """`kedro mlops monitor --check batch_quality` scores the predictions table a run saved
    (no labels yet: insufficient labels, exit 0)."""
    path, _run = spark_project
    quality = run_offline(venv, "kedro", "mlops", "monitor", "--check", "batch_quality", cwd=path)
    assert quality.returncode == 0, output_of(quality)[-3000:]
    assert "performance check 'batch_quality': INSUFFICIENT LABELS (all, 0/3000" in quality.stdout
