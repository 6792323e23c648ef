"""The cloud targets of `kedro mlops export` (Step Functions, Azure ML, Databricks): their files
from the starter's plan, checked by each platform's own validator (statelint, azure-ai-ml,
databricks-bundles: the test extra installs them); a broken definition fails that validator; no
credential is written."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
import yaml

from kedro_mlops.config import parse_config
from kedro_mlops.export import ExportError, azureml, databricks, export_project, stepfunctions
from kedro_mlops.export.cloud import cron, quartz
from tests.export.test_plan import CHECK
from tests.export.test_project import project

PLANTED = "kedro-mlops-planted-secret"
ARN = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:bar-demo-mlflow"


QUALITY = {"name": "batch_quality", "kind": "performance", "current": "predictions"}


def export(tmp_path, target: str, checks=(CHECK,), **settings):
    (tmp_path / "conf" / "local").mkdir(parents=True, exist_ok=True)
    (tmp_path / "conf" / "local" / "credentials.yml").write_text(f"db:\n  password: {PLANTED}\n")
    (tmp_path / "pyproject.toml").write_text(
        '[project.scripts]\n"bar-demo" = "bar_demo.__main__:main"\n'
    )
    options = {"target": target, "schedule": "0 3 * * 1", target: settings}
    config = parse_config({"export": options, "monitoring": {"checks": list(checks)}})
    result = export_project(project(tmp_path), config.export, config.monitoring)
    directory = tmp_path / "dist" / "orchestration" / target
    for path in directory.rglob("*"):
        assert not path.is_file() or PLANTED not in path.read_text(), path
    return result, directory


def test_step_functions(tmp_path):
    result, directory = export(
        tmp_path, "stepfunctions", subnets=["subnet-1"], secret_arn=ARN, cluster="ml"
    )
    assert result.lines()[1].startswith("Validated with statelint 3.")
    machine = json.loads((directory / "bar_demo.asl.json").read_text())
    assert machine["StartAt"] == "data_engineering"
    task = machine["States"]["data_engineering"]
    assert task["Resource"] == "arn:aws:states:::ecs:runTask.sync"
    assert task["Parameters"]["Cluster"] == "ml"
    assert task["Parameters"]["TaskDefinition"] == "bar-demo-data-engineering"
    assert task["Parameters"]["NetworkConfiguration"]["AwsvpcConfiguration"]["Subnets"] == [
        "subnet-1"
    ]
    assert machine["States"]["data_engineering exit code"]["Default"] == "data_engineering failed"
    ct = json.loads((directory / "bar_demo_ct.asl.json").read_text())
    choices = ct["States"]["drift verdict"]["Choices"]
    assert [(c["NumericEquals"], c["Next"]) for c in choices] == [
        (0, "No drift"), (1, "data_engineering"),
    ]  # fmt: skip
    assert ct["States"]["drift verdict"]["Default"] == "drift check failed"
    check = json.loads((directory / "task-definitions" / "bar-demo-drift-check.json").read_text())
    (container,) = check["containerDefinitions"]
    assert container["image"] == "bar-demo-serving:0.1"
    assert container["entryPoint"][:4] == ["kedro", "mlops", "monitor", "--check"]
    assert container["secrets"][0]["valueFrom"] == f"{ARN}:MLFLOW_TRACKING_URI::"

    # statelint finds problems: a Choice to a state that does not exist
    ct["States"]["drift verdict"]["Choices"][1]["Next"] = "retrain"
    broken = directory / "broken.asl.json"
    broken.write_text(json.dumps(ct))
    with pytest.raises(ExportError, match=r"statelint rejects broken.asl.json: .*retrain"):
        stepfunctions.validate([broken])


def test_azure_ml(tmp_path):
    result, directory = export(tmp_path, "azureml", compute="gpu-cluster")
    assert result.lines()[1].startswith("Validated with azure-ai-ml 1.")
    job = yaml.safe_load((directory / "bar_demo.pipeline.yml").read_text())
    assert job["settings"]["default_compute"] == "azureml:gpu-cluster"
    science = job["jobs"]["data_science"]
    assert science["environment"] == {"image": "bar-demo-data_science:0.1"}
    assert science["command"] == "cd /app && python -m bar_demo --pipelines data_science"
    assert science["inputs"] == {
        "after_data_engineering": "${{parent.jobs.data_engineering.outputs.done}}"
    }
    ct = yaml.safe_load((directory / "bar_demo_ct.pipeline.yml").read_text())
    assert ct["jobs"]["retrain_on_drift"] == {
        "type": "if_else",
        "condition": "${{parent.jobs.drift_check.outputs.drift}}",
        "true_block": ["${{parent.jobs.data_engineering}}"],
    }
    output = ct["jobs"]["drift_check"]["component"]["outputs"]["drift"]
    assert output == {"type": "boolean", "is_control": True}
    schedule = yaml.safe_load((directory / "bar_demo.schedule.yml").read_text())
    assert schedule["trigger"]["expression"] == "0 3 * * 1"

    # azure-ai-ml finds problems: a pipeline without compute
    del ct["settings"]["default_compute"]
    broken = directory / "broken.pipeline.yml"
    broken.write_text(yaml.safe_dump(ct))
    with pytest.raises(ExportError, match=r"azure-ai-ml rejects broken.pipeline.yml: .*Compute"):
        azureml.validate([broken])


def test_databricks(tmp_path):
    result, directory = export(
        tmp_path,
        "databricks",
        checks=[CHECK, QUALITY],
        secret_scope="mlops",  # noqa: S106 - a scope
    )
    assert result.lines()[1].startswith("Validated with databricks-bundles 1.")
    bundle = yaml.safe_load((directory / "databricks.yml").read_text())
    assert bundle["artifacts"]["project"]["path"] == "../../.."
    job = yaml.safe_load((directory / "bar_demo.job.yml").read_text())["resources"]["jobs"]
    tasks = {task["task_key"]: task for task in job["bar_demo"]["tasks"]}
    assert tasks["data_science"]["depends_on"] == [{"task_key": "data_engineering"}]
    assert tasks["data_science"]["python_wheel_task"] == {
        "package_name": "bar_demo",
        "entry_point": "bar-demo",
        "parameters": ["--pipelines", "data_science", "--conf-source",
                       "${workspace.file_path}/conf"],
    }  # fmt: skip
    cluster = job["bar_demo"]["job_clusters"][0]["new_cluster"]
    reference = "{{secrets/mlops/mlflow_tracking_password}}"
    assert cluster["spark_env_vars"]["MLFLOW_TRACKING_PASSWORD"] == reference
    assert job["bar_demo"]["schedule"]["quartz_cron_expression"] == "0 0 3 ? * 2"
    ct_file = directory / "bar_demo_ct.job.yml"
    ct = yaml.safe_load(ct_file.read_text())
    ct_tasks = {task["task_key"]: task for task in ct["resources"]["jobs"]["bar_demo_ct"]["tasks"]}
    assert ct_tasks["retrain_on_drift"]["condition_task"]["left"] == (
        "{{tasks.drift_check.values.drift}}"
    )
    assert ct_tasks["data_engineering"]["depends_on"] == [
        {"task_key": "retrain_on_drift", "outcome": "true"}
    ]
    # the drift check and the performance check of data the pipelines write, by default
    parameters = ct_tasks["drift_check"]["spark_python_task"]["parameters"]
    assert parameters == ["${workspace.file_path}", "production_batch", "batch_quality"]
    for code, value in ((0, "false"), (1, "true"), (2, None)):
        assert run_check_script(tmp_path, directory / "drift_check.py", code) == (
            value, ["mlops", "monitor", "--check", "production_batch", "--check",
                    "batch_quality", "--fail-on-alert"],
        )  # fmt: skip

    # databricks-bundles finds problems: a misspelt field
    ct_tasks["retrain_on_drift"]["condition_tsk"] = ct_tasks["retrain_on_drift"].pop(
        "condition_task"
    )
    broken = directory / "broken.job.yml"
    broken.write_text(yaml.safe_dump(ct))
    with pytest.raises(ExportError, match=r"rejects job 'bar_demo_ct' in broken.job.yml: .*"):
        databricks.validate([broken])


def test_a_template_is_refused_for_a_cloud_target(tmp_path):
    config = parse_config({"export": {"target": "azureml", "template": "mine.j2"}})
    with pytest.raises(ExportError, match=r"export\.template / --template applies to airflow"):
        export_project(project(tmp_path), config.export, config.monitoring)


@pytest.mark.parametrize(
    ("schedule", "expected_cron", "expected_quartz"),
    [
        (None, None, None),
        ("@once", None, None),
        ("@daily", "0 0 * * *", "0 0 0 * * ?"),
        ("0 3 * * 1-5", "0 3 * * 1-5", "0 0 3 ? * 2-6"),
        ("*/15 * 1 * *", "*/15 * 1 * *", "0 */15 * 1 * ?"),
    ],
)
def test_schedules(schedule, expected_cron, expected_quartz):
    assert cron(schedule) == expected_cron
    assert quartz(schedule) == expected_quartz


def run_check_script(tmp_path, script, code: int) -> tuple[str | None, list[str]]:
    """Run the bundle's check script with a stand-in ``kedro`` that exits ``code`` and a
    stand-in ``dbutils``: the task value it sets (None: the task failed) and kedro's arguments."""
    fakes = tmp_path / "fakes"
    (fakes / "kedro").mkdir(parents=True, exist_ok=True)
    (fakes / "databricks" / "sdk").mkdir(parents=True, exist_ok=True)
    (fakes / "kedro" / "__main__.py").write_text(
        "import json, sys\n"
        "open('argv.json', 'w').write(json.dumps(sys.argv[1:]))\n"
        f"sys.exit({code})\n"
    )
    for package in (fakes / "kedro", fakes / "databricks", fakes / "databricks" / "sdk"):
        (package / "__init__.py").write_text("")
    (fakes / "databricks" / "sdk" / "runtime.py").write_text(
        "class _Values:\n"
        "    def set(self, key, value):\n"
        "        open('value.txt', 'w').write(f'{key}={value}')\n"
        "class _Jobs:\n"
        "    taskValues = _Values()\n"
        "class dbutils:\n"
        "    jobs = _Jobs()\n"
    )
    project = tmp_path / "workspace"
    project.mkdir(exist_ok=True)
    for name in ("argv.json", "value.txt"):
        (project / name).unlink(missing_ok=True)
    env = {**os.environ, "PYTHONPATH": str(fakes)}
    done = subprocess.run(
        [sys.executable, str(script), str(project), "production_batch", "batch_quality"],
        cwd=project, env=env, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert done.returncode == (code if code > 1 else 0), done.stderr
    value = project / "value.txt"
    if value.exists():
        key, _, text = value.read_text().partition("=")
        assert key == databricks.DRIFT_VALUE
        return text, json.loads((project / "argv.json").read_text())
    return None, json.loads((project / "argv.json").read_text())
