"""``kedro mlops init | status | models | promote | gate``: tracking and the registry."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from kedro_mlops.cli.group import ENV_OPTION, echo_lines, mlops
from kedro_mlops.cli.project import load
from kedro_mlops.hooks.project import experiment_name, model_name
from kedro_mlops.scaffold import write_config_files

if TYPE_CHECKING:
    from kedro.framework.startup import ProjectMetadata


@mlops.command()
@click.option(
    "--env",
    "-e",
    default="base",
    show_default=True,
    help="Configuration environment (folder under conf/) to write into.",
)
@click.option("--force", is_flag=True, help="Overwrite mlops.yml / mlflow.yml if they exist.")
@click.pass_obj
def init(metadata: ProjectMetadata, env: str, force: bool) -> None:
    """Write conf/<env>/mlops.yml and mlflow.yml so that `kedro run` is tracked."""
    conf_dir = Path(metadata.project_path) / "conf" / env
    for path in write_config_files(conf_dir, force=force):
        click.echo(f"Wrote {path.relative_to(metadata.project_path)}")
    click.echo("`kedro run` now records to MLflow (sqlite:///mlflow.db at the project root).")


@mlops.command()
@ENV_OPTION
@click.pass_obj
def status(metadata: ProjectMetadata, env: str | None) -> None:
    """Show where runs are tracked and the latest run: id, status, metrics, model URI."""
    import mlflow  # noqa: PLC0415 - heavy, only for this command

    from kedro_mlops.tracking.reports import project_status  # noqa: PLC0415

    context, _config = load(metadata, env)
    echo_lines(project_status(mlflow.get_tracking_uri(), experiment_name(context)).lines())


@mlops.command()
@ENV_OPTION
@click.pass_obj
def models(metadata: ProjectMetadata, env: str | None) -> None:
    """List the registered versions of the project's model with aliases and gate metric."""
    from mlflow.tracking import MlflowClient  # noqa: PLC0415

    from kedro_mlops.tracking.reports import model_versions  # noqa: PLC0415

    context, config = load(metadata, env)
    name = model_name(context, config)
    echo_lines(model_versions(MlflowClient(), name, config.registry.gate).lines())


@mlops.command()
@click.option("--version", "version", default=None, help="The model version to promote.")
@click.option("--alias", default="champion", show_default=True, help="The alias to move.")
@click.option(
    "--reason", default="manual promotion", show_default=True, help="Why (tagged on the version)."
)
@click.option(
    "--lock",
    is_flag=True,
    help="Keep the champion: training runs only add challengers until --unlock.",
)
@click.option("--unlock", is_flag=True, help="Let the registry gate move the champion again.")
@ENV_OPTION
@click.pass_obj
def promote(  # noqa: PLR0917 - click passes every option
    metadata: ProjectMetadata,
    version: str | None,
    alias: str,
    reason: str,
    lock: bool,
    unlock: bool,
    env: str | None,
) -> None:
    """Move an alias (default: champion) to a model version by hand; --lock keeps it there."""
    from mlflow.tracking import MlflowClient  # noqa: PLC0415

    from kedro_mlops.tracking.registry import CHAMPION  # noqa: PLC0415
    from kedro_mlops.tracking.reports import promote_by_hand  # noqa: PLC0415

    if lock and unlock:
        raise click.UsageError("--lock and --unlock exclude each other")
    if (lock or unlock) and alias != CHAMPION:
        raise click.UsageError(f"only the {CHAMPION!r} alias is locked (got {alias!r})")
    if version is None and not (lock or unlock):
        raise click.UsageError("give --version N (or --lock / --unlock)")
    context, config = load(metadata, env)
    report = promote_by_hand(
        MlflowClient(),
        model_name(context, config),
        version=version,
        alias=alias,
        reason=reason,
        lock=lock,
        unlock=unlock,
    )
    echo_lines(report.lines())


@mlops.command()
@click.option("--run-id", default=None, help="The run to ask about [the latest run].")
@click.option(
    "--env-file",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Append GATE_DECISION=<decision> to this file (a dotenv report, or $GITHUB_OUTPUT).",
)
@click.option(
    "--yaml-file",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Write a GitLab CI include setting GATE_DECISION (the CD child pipeline's).",
)
@click.option(
    "--untrained",
    is_flag=True,
    help="No training ran (continuous training found nothing to retrain): the decision is none.",
)
@ENV_OPTION
@click.pass_obj
def gate(  # noqa: PLR0917 - click passes every option
    metadata: ProjectMetadata,
    run_id: str | None,
    env_file: Path | None,
    yaml_file: Path | None,
    untrained: bool,
    env: str | None,
) -> None:
    """Print the registry gate's decision for the latest run: champion, challenger or none."""
    from kedro_mlops.cicd import write_outputs  # noqa: PLC0415
    from kedro_mlops.tracking.runs import NO_DECISION  # noqa: PLC0415

    if untrained:
        decision, detail = NO_DECISION, "no training ran: the checks found nothing to retrain"
    else:
        import mlflow  # noqa: PLC0415 - heavy, only for this command

        from kedro_mlops.tracking.runs import gate_decision  # noqa: PLC0415

        context, _config = load(metadata, env)
        result = gate_decision(mlflow.get_tracking_uri(), experiment_name(context), run_id)
        decision, detail = result.decision, result.detail
    write_outputs(decision, env_file=env_file, yaml_file=yaml_file)
    click.echo(f"kedro-mlops: registry gate: {detail}", err=True)
    click.echo(decision)
