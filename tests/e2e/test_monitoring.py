"""Drift monitoring as a user meets it: `kedro run` of the starter, `kedro mlops monitor`."""

from __future__ import annotations

import json
import re

import mlflow
import pytest

from tests.e2e.conftest import copy_project

pytestmark = pytest.mark.e2e

SHIFTED = {"monthly_charges", "total_charges", "num_support_calls", "contract_type"}
UNSHIFTED = {
    "tenure_months",
    "age",
    "internet_service",
    "payment_method",
    "region",
    "paperless_billing",
}


def latest_summary(project, check="production_batch"):
    (directory,) = sorted((project / "data" / "08_reporting" / "drift" / check).iterdir())[-1:]
    return directory, json.loads((directory / "summary.json").read_text())


def test_kedro_run_flags_exactly_the_shifted_columns(project):
    directory, summary = latest_summary(project)
    verdicts = {c["column"]: c["drifted"] for c in summary["columns"] if c["role"] == "feature"}
    assert {column for column, drifted in verdicts.items() if drifted} == SHIFTED
    assert set(verdicts) == SHIFTED | UNSHIFTED
    assert summary["status"] == "drift"  # 4 of 10 columns >= drift_share 0.2
    assert summary["rows"] == {"reference": 9600, "current": 3000}
    methods = {c["method"] for c in summary["columns"]}
    assert methods == {"wasserstein", "jensenshannon"}  # Evidently's choice for > 1000 rows
    assert (directory / "report.html").stat().st_size > 100_000

    client = mlflow.MlflowClient(f"sqlite:///{project / 'mlflow.db'}")
    experiment = client.get_experiment_by_name("bar_demo")
    (run,) = client.search_runs([experiment.experiment_id], "attributes.run_name = '__default__'")
    assert run.data.metrics["drift_share"] == pytest.approx(0.4)
    assert run.data.metrics["drift_score.monthly_charges"] > 0.1
    assert "drift_score.prediction" in run.data.metrics
    assert run.data.tags["drift.verdict"] == "drift"
    artifacts = {a.path for a in client.list_artifacts(run.info.run_id, "drift/production_batch")}
    assert artifacts == {
        "drift/production_batch/summary.json",
        "drift/production_batch/report.html",
    }


def test_kedro_run_prints_one_line_per_check(venv, project, tmp_path):
    copy = copy_project(project, tmp_path / "printed", keep_outputs=True)
    result = venv.ok("kedro", "run", "--pipeline", "serving", cwd=copy, offline=True)
    # rich wraps long log records and puts the source location at the right: unwrap
    output = " ".join(re.sub(r"\S+\.py:\d+", " ", result.stdout + result.stderr).split())
    assert "drift check 'production_batch': DRIFT (4/10 columns drifted" in output
    assert "monthly_charges, total_charges, num_support_calls, contract_type" in output


def test_on_drift_fail_exits_non_zero_after_saving_everything(venv, project, tmp_path):
    copy = copy_project(project, tmp_path / "strict")
    base = (copy / "conf" / "base" / "mlops.yml").read_text()
    (copy / "conf" / "local" / "mlops.yml").write_text(
        base.replace("on_drift: warn\n", "on_drift: fail\n", 1)
    )
    predictions = copy / "data" / "07_model_output" / "predictions.csv"
    predictions.unlink()
    result = venv.run("kedro", "run", cwd=copy, offline=True)
    assert result.returncode == 1
    output = result.stdout + result.stderr
    assert "Error: drift check(s) 'production_batch' (drift) failed with on_drift: fail" in output
    assert predictions.exists()
    directory, summary = latest_summary(copy)
    assert summary["status"] == "drift"
    assert (directory / "report.html").exists()
    assert "kedro-mlops: registry gate" in output  # the model was still logged and gated


def test_monitor_on_arbitrary_csv_files_follows_the_policy(venv, project, tmp_path):
    raw = project / "data" / "01_raw"
    reference, current = raw / "customers.csv", raw / "production_batch.csv"
    out = tmp_path / "reports"

    drift = venv.run(
        "kedro", "mlops", "monitor", "--reference", str(reference), "--current", str(current),
        "--drift-share", "0.3", "--output", str(out / "a"), cwd=project, offline=True,
    )  # fmt: skip
    assert drift.returncode == 0, drift.stdout[-2000:]  # drift, but the policy is warn
    assert "drift check 'adhoc': DRIFT" in drift.stdout
    assert "not tested: churn: only in" in drift.stdout
    assert "customer_id: looks like an identifier" in drift.stdout
    assert "threshold 30%" in drift.stdout
    assert (out / "a" / "summary.json").exists() and (out / "a" / "report.html").exists()

    strict = venv.run(
        "kedro", "mlops", "monitor", "--reference", str(reference), "--current", str(current),
        "--columns", "monthly_charges,age", "--fail-on-drift", "--no-html",
        "--output", str(out / "b"), cwd=project, offline=True,
    )  # fmt: skip
    assert strict.returncode == 1
    assert "1/2 columns drifted" in strict.stdout
    assert not (out / "b" / "report.html").exists()

    same = venv.run(
        "kedro", "mlops", "monitor", "--reference", str(reference), "--current", str(reference),
        "--fail-on-drift", "--output", str(out / "c"), cwd=project, offline=True,
    )  # fmt: skip
    assert same.returncode == 0
    assert "no drift (0/" in same.stdout

    missing = venv.run(
        "kedro", "mlops", "monitor", "--reference", str(reference), "--current", "nope.csv",
        cwd=project, offline=True,
    )  # fmt: skip
    assert missing.returncode == 2
    assert "Error: nope.csv: no such file" in missing.stdout + missing.stderr


def test_monitor_a_configured_check(venv, project):
    result = venv.run(
        "kedro", "mlops", "monitor", "--check", "production_batch", "--fail-on-drift",
        cwd=project, offline=True,
    )  # fmt: skip
    assert result.returncode == 1
    assert "drift check 'production_batch': DRIFT" in result.stdout
    unknown = venv.run("kedro", "mlops", "monitor", "--check", "nope", cwd=project, offline=True)
    assert unknown.returncode == 2
    assert "no check 'nope' in monitoring.checks" in unknown.stdout + unknown.stderr
