from __future__ import annotations

import json

import mlflow

from kedro_mlops.monitoring import Methods, run_check, write_outputs
from kedro_mlops.monitoring.check import log_to_mlflow
from kedro_mlops.monitoring.report import HtmlInputs
from tests.monitoring.conftest import KINDS, frames


def test_summary_html_and_mlflow(tmp_path):
    reference, current = frames(3000, 2000)
    result = run_check("batch", reference, current, dict(KINDS), drift_share=0.3)
    inputs = HtmlInputs(reference, current, dict(KINDS), Methods(), max_rows=500)
    paths = write_outputs(result, tmp_path / "out", html_inputs=inputs)

    summary = json.loads(paths["summary"].read_text())
    assert summary["status"] == "drift"
    assert summary["drifted_columns"] == result.drifted_columns
    assert {c["column"] for c in summary["columns"]} == set(KINDS)
    assert {"method", "method_name", "score", "threshold", "drifted"} <= set(summary["columns"][0])

    page = paths["report"].read_text()
    assert page.count("<html") == 1
    assert "built from a random sample (500 of 3,000 reference rows, 500 of 2,000" in page
    assert '<script src="http' not in page  # self-contained: no CDN

    mlflow.set_tracking_uri(f"sqlite:///{tmp_path / 'mlflow.db'}")
    client = mlflow.MlflowClient()
    run = client.create_run("0")
    log_to_mlflow(run.info.run_id, result, paths)
    logged = client.get_run(run.info.run_id)
    assert logged.data.metrics["drift_share"] == result.drift_share
    assert logged.data.metrics["drift_score.shifted_num"] > 0
    assert logged.data.tags["drift.verdict"] == "drift"
    artifacts = {a.path for a in client.list_artifacts(run.info.run_id, "drift/batch")}
    assert artifacts == {"drift/batch/summary.json", "drift/batch/report.html"}


def test_summary_line_names_drifted_and_untested_columns():
    reference, current = frames(3000, 2000)
    result = run_check("batch", reference, current.assign(stable_cat=None), dict(KINDS))
    line = result.summary("data/08_reporting/drift/batch/x")
    assert line.startswith("drift check 'batch': ")
    assert "shifted_num" in line
    assert "not tested: stable_cat" in line
    assert line.endswith("-> data/08_reporting/drift/batch/x")


def test_an_error_writes_a_summary_and_no_report(tmp_path):
    reference, current = frames(3000, 2000)
    result = run_check("batch", reference, current.iloc[:0], dict(KINDS))
    paths = write_outputs(result, tmp_path, html_inputs=None)
    assert set(paths) == {"summary"}
    assert json.loads(paths["summary"].read_text())["status"] == "error"
