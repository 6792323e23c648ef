"""`kedro mlops deploy --target compose`: the serving image, an MLflow server and Prometheus on
one host, valid against the compose specification."""

from __future__ import annotations

import subprocess
import sys

import yaml

from kedro_mlops.deploy import deploy_project
from tests.deploy.conftest import ROW, make_plan


def test_the_compose_file_is_valid_and_locked_down(tmp_path):
    plan = make_plan({"deploy": {"target": "compose"}})
    report = deploy_project(plan, tmp_path / "compose", project_path=tmp_path, smoke_row=ROW)
    assert report.lines() == [
        "Wrote compose/ (4 files): README.md, compose.yaml, prometheus.yml, smoke-row.json",
        "Alerting rules: prometheus/rules.yml",
        "Run: docker compose -f compose/compose.yaml up -d   (or podman-compose)",
    ]
    path = tmp_path / "compose" / "compose.yaml"
    checked = subprocess.run(
        [
            sys.executable,
            "-m",
            "check_jsonschema",
            "--builtin-schema",
            "vendor.compose-spec",
            str(path),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr
    compose = yaml.safe_load(path.read_text())
    serve, mlflow = compose["services"]["serve"], compose["services"]["mlflow"]
    assert serve["image"] == "bar-demo-serve:0.1"
    assert serve["user"] == "10001:10001"
    assert serve["read_only"] is True
    assert serve["cap_drop"] == ["ALL"]
    assert serve["tmpfs"] == [
        "/tmp",  # noqa: S108 - a path in the container
        "/var/lib/kedro-mlops/served:mode=1777",
        "/var/lib/kedro-mlops/feedback:mode=1777",
    ]
    assert serve["environment"]["KEDRO_MLOPS_SERVE_MAX_ROWS"] == "10000"
    # the tracking server runs from a batch image, which carries MLflow
    assert mlflow["image"] == "bar-demo-data_engineering:0.1"
    assert mlflow["entrypoint"][:2] == ["mlflow", "server"]
    assert mlflow["volumes"] == ["mlflow:/app/mlflow"]
    prometheus = yaml.safe_load((tmp_path / "compose" / "prometheus.yml").read_text())
    assert prometheus["scrape_configs"][0]["static_configs"] == [{"targets": ["serve:8080"]}]
    # the alerting rules beside the tree, mounted where prometheus.yml loads them
    assert prometheus["rule_files"] == ["/etc/prometheus/rules.yml"]
    assert (
        "../prometheus/rules.yml:/etc/prometheus/rules.yml:ro"
        in (compose["services"]["prometheus"]["volumes"])
    )
    assert (tmp_path / "prometheus" / "rules.yml").is_file()
    assert not (tmp_path / "compose" / "deploy.sh").exists()
