"""Databricks: the plan as a Declarative Automation Bundle (``databricks bundle deploy``): the
project's wheel, built from the project, run as a ``python_wheel_task`` per pipeline on a job
cluster (Databricks runs wheels, not an image's entrypoint), and in the continuous-training job a
``condition_task`` on the drift check's task value. Pure; ``validate`` reads every job back with
databricks-bundles (the ``databricks`` extra), which refuses unknown fields."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from kedro_mlops.export.cloud import quartz, yaml_text
from kedro_mlops.export.errors import ExportError
from kedro_mlops.export.plan import DRIFT_EXIT_CODE
from kedro_mlops.names import FAIL_ON_ALERT

if TYPE_CHECKING:
    from pathlib import Path

    from kedro_mlops.export.plan import ExportPlan, Step

CLUSTER_KEY = "main"
DRIFT_VALUE = "drift"  # the task value the check sets and the condition task reads
CHECK_SCRIPT = "drift_check.py"
JOB_SUFFIX = ".job.yml"
INSTALL = 'pip install "kedro-mlops[databricks]"'
# the secret scope's keys (export.databricks.secret_scope) the cluster gets as environment
SECRET_KEYS = {"MLFLOW_TRACKING_USERNAME": "mlflow_tracking_username",
               "MLFLOW_TRACKING_PASSWORD": "mlflow_tracking_password"}  # fmt: skip

CHECK_SOURCE = '''\
"""{project}: the checks of the continuous-training job, written by `kedro mlops export
--target databricks`. It runs `kedro mlops monitor` in the project's files (synced by the
bundle) with the drift check and the performance checks named after the project's path, and
hands the verdict to the job as the task value `{value}`, which the condition task reads: exit 0
no drift and no degradation (insufficient labels included), 1 drift or degradation; any other
exit code fails the task (an error retrains nothing)."""

import subprocess
import sys

from databricks.sdk.runtime import dbutils

project, checks = sys.argv[1], sys.argv[2:]
named = [part for check in checks for part in ("--check", check)]
command = [sys.executable, "-m", "kedro", "mlops", "monitor", *named, "{fail_on_alert}"]
code = subprocess.call(command, cwd=project)
if code > {drift}:
    sys.exit(code)
dbutils.jobs.taskValues.set(key="{value}", value="true" if code == {drift} else "false")
'''


def _cluster(plan: ExportPlan) -> dict[str, Any]:
    settings = plan.platform
    environment = {"MLFLOW_TRACKING_URI": "databricks", **dict(sorted(plan.environment.items()))}
    if settings["secret_scope"]:
        scope = settings["secret_scope"]
        for name, key in SECRET_KEYS.items():
            environment[name] = f"{{{{secrets/{scope}/{key}}}}}"
    return {
        "job_cluster_key": CLUSTER_KEY,
        "new_cluster": {
            "spark_version": settings["spark_version"],
            "node_type_id": settings["node_type_id"],
            "num_workers": settings["num_workers"],
            "spark_env_vars": environment,
        },
    }


def _wheel_task(plan: ExportPlan, step: Step, project_root: str, depends: list[dict]) -> dict:
    task: dict[str, Any] = {"task_key": step.task_id}
    if depends:
        task["depends_on"] = depends
    task["job_cluster_key"] = CLUSTER_KEY
    task["python_wheel_task"] = {
        "package_name": plan.package,
        "entry_point": plan.platform.get("entry_point") or plan.package,
        "parameters": ["--pipelines", step.pipeline or step.task_id, "--conf-source",
                       "${workspace.file_path}/conf"],
    }  # fmt: skip
    task["libraries"] = [{"whl": f"{project_root}/dist/*.whl"}]
    return task


def _job(plan: ExportPlan, name: str, tasks: list[dict], schedule: str | None) -> dict:
    job: dict[str, Any] = {"name": name, "max_concurrent_runs": 1, "tasks": tasks}
    job["job_clusters"] = [_cluster(plan)]
    expression = quartz(schedule)
    if expression:
        job["schedule"] = {"quartz_cron_expression": expression, "timezone_id": "UTC"}
    return job


def training_job(plan: ExportPlan, project_root: str) -> dict[str, Any]:
    """``<package>``: a wheel task per pipeline, each after the ones whose data it reads."""
    tasks = [
        _wheel_task(plan, step, project_root, [{"task_key": key} for key in step.upstream])
        for step in plan.training.steps
    ]
    return _job(plan, plan.training.dag_id, tasks, plan.training.schedule)


def ct_job(plan: ExportPlan, project_root: str) -> dict[str, Any]:
    """``<package>_ct``: the drift and performance checks, a condition task on their verdict,
    the retraining."""
    assert plan.ct is not None  # noqa: S101 - only called with continuous training
    ct = plan.ct
    check = ct.monitor.task_id
    tasks: list[dict[str, Any]] = [
        {
            "task_key": check,
            "job_cluster_key": CLUSTER_KEY,
            "spark_python_task": {
                "python_file": f"./{CHECK_SCRIPT}",
                "parameters": ["${workspace.file_path}", ct.check, *ct.quality],
            },
            "libraries": [{"whl": f"{project_root}/dist/*.whl"}],
        },
        {
            "task_key": "retrain_on_drift",
            "depends_on": [{"task_key": check}],
            "condition_task": {
                "op": "EQUAL_TO",
                "left": f"{{{{tasks.{check}.values.{DRIFT_VALUE}}}}}",
                "right": "true",
            },
        },
    ]
    for step in ct.retrain:
        depends = [{"task_key": key} for key in step.upstream]
        if not step.upstream:
            depends = [{"task_key": "retrain_on_drift", "outcome": "true"}]
        tasks.append(_wheel_task(plan, step, project_root, depends))
    return _job(plan, ct.dag_id, tasks, ct.schedule)


def bundle(plan: ExportPlan, project_root: str) -> dict[str, Any]:
    """``databricks.yml``: the project's wheel as the bundle's artifact, the jobs' files, the
    project's files synced (Kedro's configuration; .gitignore'd files, conf/local, stay)."""
    target: dict[str, Any] = {"default": True, "mode": "development"}
    if plan.platform["host"]:
        target["workspace"] = {"host": plan.platform["host"]}
    return {
        "bundle": {"name": plan.training.name},
        "include": [f"*{JOB_SUFFIX}"],
        "artifacts": {
            "project": {"type": "whl", "path": project_root, "build": "python -m build --wheel"}
        },
        "sync": {
            "paths": [project_root],
            "exclude": ["conf/local/**", "data/**", "mlruns/**", "*.db", ".venv/**"],
        },
        "targets": {"dev": target},
    }


def files(plan: ExportPlan, project_root: str = "../../..") -> dict[str, str]:
    """The bundle's files by name; ``project_root``: the project, relative to the bundle."""
    header = (
        f"{plan.project_name}: written by `kedro mlops export --target databricks` (kedro-mlops "
        f"{plan.kedro_mlops_version}); regenerate rather than edit."
    )
    written = {"databricks.yml": yaml_text(bundle(plan, project_root), header)}
    jobs = [(plan.training.dag_id, training_job(plan, project_root))]
    if plan.ct is not None:
        jobs.append((plan.ct.dag_id, ct_job(plan, project_root)))
        written[CHECK_SCRIPT] = CHECK_SOURCE.format(
            project=plan.project_name,
            value=DRIFT_VALUE,
            drift=DRIFT_EXIT_CODE,
            fail_on_alert=FAIL_ON_ALERT,
        )
    for name, job in jobs:
        written[f"{name}{JOB_SUFFIX}"] = yaml_text({"resources": {"jobs": {name: job}}}, header)
    return written


def validate(paths: list[Path]) -> str | None:
    """Read every job of the written files with databricks-bundles' ``Job.from_dict``; its
    version, or None when it is not installed.

    Raises:
        ExportError: naming the file, the job and the field databricks-bundles refuses.
    """
    try:
        from databricks.bundles.jobs import Job  # noqa: PLC0415
        from databricks.bundles.version import __version__  # noqa: PLC0415
    except ImportError:
        return None
    import yaml  # noqa: PLC0415

    for path in paths:
        if path.name.endswith(JOB_SUFFIX):
            document = yaml.safe_load(path.read_text(encoding="utf-8"))
            for name, job in document["resources"]["jobs"].items():
                try:
                    Job.from_dict(job)
                except (ValueError, TypeError, KeyError) as exc:
                    raise ExportError(
                        f"databricks-bundles rejects job {name!r} in {path.name}: {exc}"
                    ) from None
    return f"databricks-bundles {__version__}"
