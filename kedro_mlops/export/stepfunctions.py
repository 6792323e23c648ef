"""AWS Step Functions: the plan as Amazon States Language state machines, one ECS
``runTask.sync`` Task state per step, and the ECS task definitions they run (JSON for ``aws ecs
register-task-definition --cli-input-json``). Pure: plain dicts and JSON text; ``validate``
lints a written definition with statelint (the ``stepfunctions`` extra)."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from kedro_mlops.export.errors import ExportError
from kedro_mlops.export.plan import DRIFT_EXIT_CODE

if TYPE_CHECKING:
    from pathlib import Path

    from kedro_mlops.export.plan import ExportPlan, Step

RUN_TASK = "arn:aws:states:::ecs:runTask.sync"
# the keys of the Secrets Manager secret (export.stepfunctions.secret_arn) the containers get
SECRET_KEYS = ("MLFLOW_TRACKING_URI", "MLFLOW_TRACKING_USERNAME", "MLFLOW_TRACKING_PASSWORD")
TASK_DEFINITIONS = "task-definitions"
INSTALL = 'pip install "kedro-mlops[stepfunctions]"'


def task_definition(plan: ExportPlan, step: Step) -> dict[str, Any]:
    """The ECS task definition of ``step``: its image; the drift check's command as the
    entrypoint (a RunTask override replaces the image's CMD, never its ENTRYPOINT)."""
    settings = plan.platform
    container: dict[str, Any] = {"name": step.name, "image": step.image, "essential": True}
    if step.command:
        container["entryPoint"] = list(step.command)
    container["environment"] = [
        {"name": name, "value": value} for name, value in sorted(plan.environment.items())
    ]
    if settings["secret_arn"]:
        container["secrets"] = [
            {"name": key, "valueFrom": f"{settings['secret_arn']}:{key}::"} for key in SECRET_KEYS
        ]
    definition: dict[str, Any] = {
        "family": step.name,
        "requiresCompatibilities": [settings["launch_type"]],
        "networkMode": "awsvpc",
        "cpu": settings["cpu"],
        "memory": settings["memory"],
        "containerDefinitions": [container],
    }
    for key, field in (
        ("executionRoleArn", "execution_role_arn"),
        ("taskRoleArn", "task_role_arn"),
    ):
        if settings[field]:
            definition[key] = settings[field]
    return definition


def cluster(plan: ExportPlan) -> str:
    """The ECS cluster the tasks run on (``export.stepfunctions.cluster``, else the project)."""
    return str(plan.platform["cluster"] or plan.training.name)


def _run_task(plan: ExportPlan, step: Step) -> dict[str, Any]:
    settings = plan.platform
    parameters: dict[str, Any] = {
        "Cluster": cluster(plan),
        "TaskDefinition": step.name,  # the family: its latest ACTIVE revision
        "LaunchType": settings["launch_type"],
    }
    if settings["subnets"]:
        network: dict[str, Any] = {"Subnets": list(settings["subnets"])}
        if settings["security_groups"]:
            network["SecurityGroups"] = list(settings["security_groups"])
        network["AssignPublicIp"] = "ENABLED" if settings["assign_public_ip"] else "DISABLED"
        parameters["NetworkConfiguration"] = {"AwsvpcConfiguration": network}
    return {
        "Type": "Task",
        "Comment": f"runs {step.image}",
        "Resource": RUN_TASK,
        "Parameters": parameters,
        # a task that stops is a success for runTask.sync whatever its exit code: keep the code
        "ResultSelector": {"ExitCode.$": "$.Containers[0].ExitCode"},
        "ResultPath": f"$.{step.task_id}",
    }


def _chain(plan: ExportPlan, steps: tuple[Step, ...], end: str) -> dict[str, dict[str, Any]]:
    """Each step, then a Choice on its exit code: 0 goes on, anything else fails the run."""
    states: dict[str, dict[str, Any]] = {}
    for index, step in enumerate(steps):
        following = steps[index + 1].label if index + 1 < len(steps) else end
        checked, failed = f"{step.label} exit code", f"{step.label} failed"
        states[step.label] = {**_run_task(plan, step), "Next": checked}
        states[checked] = {
            "Type": "Choice",
            "Choices": [
                {"Variable": f"$.{step.task_id}.ExitCode", "NumericEquals": 0, "Next": following}
            ],
            "Default": failed,
        }
        states[failed] = {
            "Type": "Fail",
            "Error": "PipelineFailed",
            "Cause": f"{step.image} exited with a non-zero code",
        }
    return states


def training_machine(plan: ExportPlan) -> dict[str, Any]:
    """``<package>``: every packaged pipeline, one after the other in the order of their data."""
    steps = plan.training.steps
    states = _chain(plan, steps, "Done")
    states["Done"] = {"Type": "Succeed"}
    return {
        "Comment": f"{plan.project_name}: {' -> '.join(s.label for s in steps)} "
        f"(kedro-mlops {plan.kedro_mlops_version})",
        "StartAt": steps[0].label,
        "States": states,
    }


def ct_machine(plan: ExportPlan) -> dict[str, Any]:
    """``<package>_ct``: the drift check; exit 0 ends, exit 1 retrains, anything else fails."""
    assert plan.ct is not None  # noqa: S101 - only called with continuous training
    ct = plan.ct
    check = ct.monitor
    verdict = "drift verdict"
    states: dict[str, dict[str, Any]] = {check.label: {**_run_task(plan, check), "Next": verdict}}
    states[verdict] = {
        "Type": "Choice",
        "Choices": [
            {"Variable": f"$.{check.task_id}.ExitCode", "NumericEquals": 0, "Next": "No drift"},
            {
                "Variable": f"$.{check.task_id}.ExitCode",
                "NumericEquals": DRIFT_EXIT_CODE,
                "Next": ct.retrain[0].label,
            },
        ],
        "Default": "drift check failed",
    }
    states["No drift"] = {"Type": "Succeed", "Comment": "the retraining is skipped"}
    states["drift check failed"] = {
        "Type": "Fail",
        "Error": "DriftCheckFailed",
        "Cause": f"the drift check {ct.check!r} could not run (exit code 2): not drift",
    }
    states.update(_chain(plan, ct.retrain, "Retrained"))
    states["Retrained"] = {"Type": "Succeed"}
    return {
        "Comment": f"{plan.project_name}: drift check {ct.check!r}, on drift "
        f"{' -> '.join(s.label for s in ct.retrain)} (kedro-mlops {plan.kedro_mlops_version})",
        "StartAt": check.label,
        "States": states,
    }


def files(plan: ExportPlan) -> dict[str, str]:
    """The state machines and the task definitions, by path relative to the output directory."""
    written = {f"{plan.training.dag_id}.asl.json": _json(training_machine(plan))}
    steps = list(plan.training.steps)
    if plan.ct is not None:
        written[f"{plan.ct.dag_id}.asl.json"] = _json(ct_machine(plan))
        steps.append(plan.ct.monitor)
    for step in steps:
        written[f"{TASK_DEFINITIONS}/{step.name}.json"] = _json(task_definition(plan, step))
    return written


def validate(paths: list[Path]) -> str | None:
    """Lint the state machines among ``paths`` with statelint; its version, or None when it is
    not installed.

    Raises:
        ExportError: naming the file and statelint's problems.
    """
    try:
        from statelint import __version__  # noqa: PLC0415
        from statelint.linter import Linter  # noqa: PLC0415
    except ImportError:
        return None
    for path in paths:
        if path.name.endswith(".asl.json"):
            problems = Linter.validate(json.loads(path.read_text(encoding="utf-8")))
            if problems:
                raise ExportError(f"statelint rejects {path.name}: {'; '.join(problems)}")
    return f"statelint {__version__}"


def _json(value: object) -> str:
    return json.dumps(value, indent=2) + "\n"
