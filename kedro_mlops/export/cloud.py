"""What the cloud targets (Step Functions, Azure ML, Databricks) share: the command a step runs
when the platform starts a command instead of the image's entrypoint, schedules as cron, and the
YAML they are written in. Pure."""

from __future__ import annotations

import re
import shlex
from typing import TYPE_CHECKING

from kedro_mlops.export.plan import pipeline_command

if TYPE_CHECKING:
    from kedro_mlops.export.plan import ExportPlan, Step

# export.schedule presets as cron (5 fields); @once is no schedule
CRON_OF_PRESET = {
    "@hourly": "0 * * * *",
    "@daily": "0 0 * * *",
    "@weekly": "0 0 * * 0",
    "@monthly": "0 0 1 * *",
    "@yearly": "0 0 1 1 *",
    "@annually": "0 0 1 1 *",
}


def step_command(plan: ExportPlan, step: Step) -> tuple[str, ...]:
    """The command of ``step``: the drift check's, or what its image's entrypoint runs."""
    if step.command:
        return step.command
    return pipeline_command(plan.package, step.pipeline or step.task_id)


def shell(plan: ExportPlan, command: tuple[str, ...]) -> str:
    """``command`` as one shell line run from the images' working directory."""
    return f"cd {shlex.quote(plan.workdir)} && {shlex.join(command)}"


def cron(schedule: str | None) -> str | None:
    """A schedule of mlops.yml (cron or preset) as 5 cron fields; None for none or ``@once``."""
    if schedule is None:
        return None
    return CRON_OF_PRESET.get(schedule, None if schedule.startswith("@") else schedule)


def quartz(schedule: str | None) -> str | None:
    """The schedule as a Quartz cron expression (Databricks): seconds first, ``?`` in one day
    field, days of the week numbered from 1 (Sunday)."""
    expression = cron(schedule)
    if expression is None:
        return None
    minute, hour, day, month, weekday = expression.split()
    if weekday == "*":
        weekday = "?"
    else:
        day = "?" if day == "*" else day
        weekday = re.sub(r"(?<!/)\d+", lambda m: str(int(m.group()) % 7 + 1), weekday)
    return f"0 {minute} {hour} {day} {month} {weekday}"


def yaml_text(value: object, header: str = "") -> str:
    """``value`` as block YAML (keys in the given order), after ``header`` comment lines."""
    import yaml  # noqa: PLC0415

    class Dumper(yaml.SafeDumper):
        """Multi-line strings (shell scripts) as literal blocks, the way people write them."""

    def text(dumper: yaml.SafeDumper, data: str) -> yaml.ScalarNode:
        style = "|" if "\n" in data else None
        return dumper.represent_scalar("tag:yaml.org,2002:str", data, style=style)

    Dumper.add_representer(str, text)
    body = yaml.dump(value, Dumper=Dumper, sort_keys=False, width=100, allow_unicode=True)
    comments = "".join(f"# {line}\n".replace("# \n", "#\n") for line in header.splitlines())
    return comments + body
