"""``kedro mlops rollout analyze | promote | rollback``: the challenger judged on live traffic."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from kedro_mlops.cli.group import ENV_OPTION, mlops
from kedro_mlops.cli.project import load
from kedro_mlops.hooks.project import experiment_name, model_name

if TYPE_CHECKING:
    from kedro.framework.startup import ProjectMetadata

REASON_OPTION = click.option("--reason", default="by hand", show_default=True, help="Recorded.")


@mlops.group()
def rollout() -> None:
    """The challenger against the champion on live traffic: analyze, promote, rollback."""


@rollout.command()
@click.option(
    "--apply", is_flag=True, help="Act on the decision: promote or roll back (hold: nothing)."
)
@click.option(
    "--env-file",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Append ROLLOUT_DECISION=<decision> to this file (a dotenv report, or $GITHUB_OUTPUT).",
)
@ENV_OPTION
@click.pass_obj
def analyze(metadata: ProjectMetadata, apply: bool, env_file: Path | None, env: str | None) -> None:
    """Compare the challenger with the champion on the logged traffic and decide: promote
    (exit 0), hold (exit 3: not enough evidence) or rollback (exit 4)."""
    from mlflow.tracking import MlflowClient  # noqa: PLC0415

    from kedro_mlops.rollout import analyze_project, write_env  # noqa: PLC0415

    context, config = load(metadata, env)
    report = analyze_project(
        MlflowClient(),
        context.catalog,
        config,
        model_name=model_name(context, config),
        experiment=experiment_name(context),
        dataset=context.params.get("dataset") or {},
        apply=apply,
    )
    if env_file is not None:
        write_env(env_file, report.decision.action)
    for line in report.details():
        click.echo(f"kedro-mlops: {line}", err=True)
    click.echo(report.line())
    click.get_current_context().exit(report.exit_code)


@rollout.command()
@REASON_OPTION
@ENV_OPTION
@click.pass_obj
def promote(metadata: ProjectMetadata, reason: str, env: str | None) -> None:
    """Make the challenger the champion (servers watching @champion swap to it)."""
    _move_aliases(metadata, env, reason, promote=True)


@rollout.command()
@REASON_OPTION
@ENV_OPTION
@click.pass_obj
def rollback(metadata: ProjectMetadata, reason: str, env: str | None) -> None:
    """Stop trying the challenger: remove its alias and tag its version rejected."""
    _move_aliases(metadata, env, reason, promote=False)


def _move_aliases(
    metadata: ProjectMetadata, env: str | None, reason: str, *, promote: bool
) -> None:
    """Promote or roll back the project model's challenger and print the answer."""
    from mlflow.tracking import MlflowClient  # noqa: PLC0415

    from kedro_mlops.rollout import promote_challenger, rollback_challenger  # noqa: PLC0415

    move = promote_challenger if promote else rollback_challenger
    context, config = load(metadata, env)
    click.echo(move(MlflowClient(), model_name(context, config), reason))
