from __future__ import annotations

from types import SimpleNamespace

import yaml
from click.testing import CliRunner

from kedro_mlops import __version__
from kedro_mlops.cli import commands


def invoke(project_path, *args):
    metadata = SimpleNamespace(project_path=project_path)
    return CliRunner().invoke(commands, ["mlops", *args], obj=metadata)


def test_help_lists_the_commands(tmp_path):
    result = invoke(tmp_path, "--help")
    assert result.exit_code == 0
    assert "init" in result.output
    assert "Production ML for this Kedro project" in result.output


def test_version(tmp_path):
    result = invoke(tmp_path, "--version")
    assert result.exit_code == 0
    assert __version__ in result.output


def test_init_writes_both_files(tmp_path):
    result = invoke(tmp_path, "init")
    assert result.exit_code == 0, result.output
    assert "Wrote conf/base/mlops.yml" in result.output
    assert "Wrote conf/base/mlflow.yml" in result.output
    mlflow_conf = yaml.safe_load((tmp_path / "conf" / "base" / "mlflow.yml").read_text())
    assert mlflow_conf["server"]["mlflow_tracking_uri"] is None


def test_init_refuses_to_overwrite_without_force(tmp_path):
    conf = tmp_path / "conf" / "base"
    conf.mkdir(parents=True)
    (conf / "mlflow.yml").write_text("# mine\n")
    result = invoke(tmp_path, "init")
    assert result.exit_code == 2
    assert "mlflow.yml already exist(s); nothing was written" in result.output
    assert "--force" in result.output
    assert (conf / "mlflow.yml").read_text() == "# mine\n"
    assert not (conf / "mlops.yml").exists()

    result = invoke(tmp_path, "init", "--force")
    assert result.exit_code == 0
    assert (conf / "mlflow.yml").read_text() != "# mine\n"


def test_init_into_another_environment(tmp_path):
    result = invoke(tmp_path, "init", "--env", "staging")
    assert result.exit_code == 0
    assert (tmp_path / "conf" / "staging" / "mlops.yml").exists()
