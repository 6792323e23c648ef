"""The click wiring of `kedro mlops export` (real runs: tests/e2e/test_export.py)."""

from __future__ import annotations

from types import SimpleNamespace

from click.testing import CliRunner

from kedro_mlops.cli import commands


def invoke(*args):
    return CliRunner().invoke(commands, ["mlops", *args], obj=SimpleNamespace(project_path="."))


def test_export_help_lists_every_option():
    result = invoke("export", "--help")
    assert result.exit_code == 0, result.output
    for option in ("--target [airflow|kubeflow|stepfunctions|azureml|databricks]", "--output",
                   "--image-tag", "--registry", "--schedule", "--template", "--env"):  # fmt: skip
        assert option in result.output


def test_export_refuses_an_unknown_target():
    result = invoke("export", "--target", "argo")
    assert result.exit_code == 2
    assert "'argo' is not one of 'airflow', 'kubeflow'" in result.output
