"""Azure ML: the plan as pipeline job YAML (``az ml job create -f``): one command job per step
with the step's image as inline environment, the order through ``done`` outputs, and in the
continuous-training pipeline an ``if_else`` node on the drift check's control output. Pure;
``validate`` loads and validates a written job with azure-ai-ml (the ``azureml`` extra), offline."""

from __future__ import annotations

import logging
import os
import shlex
import warnings
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from kedro_mlops.export.cloud import cron, shell, step_command, yaml_text
from kedro_mlops.export.errors import ExportError
from kedro_mlops.export.plan import DRIFT_EXIT_CODE

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    from kedro_mlops.export.plan import ExportPlan, Step

SCHEMA = "https://azuremlschemas.azureedge.net/latest/pipelineJob.schema.json"
SCHEDULE_SCHEMA = "https://azuremlschemas.azureedge.net/latest/schedule.schema.json"
# azure-ai-ml and `az ml` load an if_else node from YAML only with this variable set
PREVIEW_VARIABLE = "AZURE_ML_CLI_PRIVATE_FEATURES_ENABLED"
# the run tag Azure ML reads a command job's control outputs from
CONTROL_TAG = "azureml.pipeline.control"
DRIFT_OUTPUT = "drift"
INSTALL = 'pip install "kedro-mlops[azureml]"'


def _command_job(plan: ExportPlan, step: Step, upstream: tuple[str, ...]) -> dict[str, Any]:
    job: dict[str, Any] = {
        "type": "command",
        "display_name": step.label,
        "command": shell(plan, step_command(plan, step)),
        "environment": {"image": step.image},
    }
    if plan.environment:
        job["environment_variables"] = dict(sorted(plan.environment.items()))
    if upstream:  # Azure ML orders jobs by their bindings: an empty folder says "done"
        job["inputs"] = {
            f"after_{name}": f"${{{{parent.jobs.{name}.outputs.done}}}}" for name in upstream
        }
    job["outputs"] = {"done": {"type": "uri_folder"}}
    return job


def _check_job(plan: ExportPlan, step: Step) -> dict[str, Any]:
    """The drift check: exit 0/1 becomes the boolean control output ``drift``; any other exit
    code fails the job (an error never passes for drift)."""
    verdict = (
        'import json, os, sys, mlflow; mlflow.MlflowClient().set_tag(os.environ["MLFLOW_RUN_ID"], '
        f'"{CONTROL_TAG}", json.dumps({{"{DRIFT_OUTPUT}": sys.argv[1] == "{DRIFT_EXIT_CODE}"}}))'
    )
    command = (
        f"{shell(plan, step_command(plan, step))}; code=$?\n"
        f'if [ "$code" -gt {DRIFT_EXIT_CODE} ]; then exit "$code"; fi\n'
        f'python -c {shlex.quote(verdict)} "$code"\n'
    )
    job: dict[str, Any] = {"type": "command", "display_name": step.label}
    if plan.environment:
        job["environment_variables"] = dict(sorted(plan.environment.items()))
    job["component"] = {
        "command": command,
        "environment": {"image": step.image},
        "outputs": {DRIFT_OUTPUT: {"type": "boolean", "is_control": True}},
    }
    return job


def _pipeline(
    plan: ExportPlan, name: str, description: str, jobs: dict[str, Any]
) -> dict[str, Any]:
    settings = plan.platform
    return {
        "$schema": SCHEMA,
        "type": "pipeline",
        "display_name": name,
        "experiment_name": settings["experiment"] or plan.package,
        "description": description,
        "settings": {
            "default_compute": f"azureml:{settings['compute']}",
            "continue_on_step_failure": False,
        },
        "jobs": jobs,
    }


def training_job(plan: ExportPlan) -> dict[str, Any]:
    """``<package>``: every packaged pipeline in the order of their data."""
    steps = plan.training.steps
    jobs = {step.task_id: _command_job(plan, step, step.upstream) for step in steps}
    chain = " -> ".join(step.label for step in steps)
    return _pipeline(plan, plan.training.dag_id, f"{plan.project_name}: {chain}", jobs)


def ct_job(plan: ExportPlan) -> dict[str, Any]:
    """``<package>_ct``: the drift check, then (if_else on its verdict) the retraining."""
    assert plan.ct is not None  # noqa: S101 - only called with continuous training
    ct = plan.ct
    jobs: dict[str, Any] = {ct.monitor.task_id: _check_job(plan, ct.monitor)}
    roots = [step.task_id for step in ct.retrain if not step.upstream]
    jobs["retrain_on_drift"] = {
        "type": "if_else",
        "condition": f"${{{{parent.jobs.{ct.monitor.task_id}.outputs.{DRIFT_OUTPUT}}}}}",
        "true_block": [f"${{{{parent.jobs.{name}}}}}" for name in roots],
    }
    for step in ct.retrain:
        jobs[step.task_id] = _command_job(plan, step, step.upstream)
    chain = " -> ".join(step.label for step in ct.retrain)
    description = f"{plan.project_name}: drift check {ct.check!r}, on drift {chain}"
    return _pipeline(plan, ct.dag_id, description, jobs)


def _schedule(name: str, job_file: str, expression: str) -> dict[str, Any]:
    return {
        "$schema": SCHEDULE_SCHEMA,
        "name": name,
        "display_name": name,
        "trigger": {"type": "cron", "expression": expression, "time_zone": "UTC"},
        "create_job": f"./{job_file}",
    }


def files(plan: ExportPlan) -> dict[str, str]:
    """The pipeline jobs and their schedules, by file name."""
    header = (
        f"{plan.project_name}: written by `kedro mlops export --target azureml` (kedro-mlops "
        f"{plan.kedro_mlops_version}); regenerate rather than edit."
    )
    definitions = [(plan.training.dag_id, training_job(plan), plan.training.schedule)]
    if plan.ct is not None:
        definitions.append((plan.ct.dag_id, ct_job(plan), plan.ct.schedule))
    written = {}
    for name, job, schedule in definitions:
        job_file = f"{name}.pipeline.yml"
        written[job_file] = yaml_text(job, header)
        expression = cron(schedule)
        if expression:
            schedule_doc = _schedule(f"{name}_schedule", job_file, expression)
            written[f"{name}.schedule.yml"] = yaml_text(schedule_doc, header)
    return written


@contextmanager
def _preview() -> Iterator[None]:
    """The SDK with YAML's if_else enabled, without its notes on experimental classes (log
    records) and its deprecation warnings: they are not the user's to act on."""
    before = os.environ.get(PREVIEW_VARIABLE)
    os.environ[PREVIEW_VARIABLE] = "True"
    experimental = logging.getLogger("azure.ai.ml._utils._experimental")
    silence = logging.Filter("no logger has this name")
    experimental.addFilter(silence)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    finally:
        experimental.removeFilter(silence)
        if before is None:
            os.environ.pop(PREVIEW_VARIABLE, None)
        else:
            os.environ[PREVIEW_VARIABLE] = before


def validate(paths: list[Path]) -> str | None:
    """Load every written job and schedule with azure-ai-ml and validate it (no workspace, no
    credentials); its version, or None when it is not installed.

    Raises:
        ExportError: naming the file and azure-ai-ml's problems.
    """
    # the SDK reads the preview flag when its schema classes are made: before its first import
    with _preview():
        try:
            from azure.ai.ml import __version__, load_job  # noqa: PLC0415
            from azure.ai.ml.entities._load_functions import load_schedule  # noqa: PLC0415
        except ImportError:
            return None
        for path in paths:
            if path.name.endswith((".pipeline.yml", ".schedule.yml")):
                problems = _problems(path, load_job, load_schedule)
                if problems:
                    raise ExportError(f"azure-ai-ml rejects {path.name}: {problems}")
    return f"azure-ai-ml {__version__}"


def _problems(path: Path, load_job: Any, load_schedule: Any) -> str | None:  # noqa: ANN401
    try:
        if path.name.endswith(".schedule.yml"):
            load_schedule(path)
            return None
        result = load_job(path)._validate()
    except Exception as exc:
        return " ".join(str(exc).split())[:2000]
    return (
        None if result.passed else "; ".join(f"{k}: {v}" for k, v in result.error_messages.items())
    )
