"""``kedro mlops ...``: click wiring only (entry point ``kedro.project_commands``)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from kedro_mlops import __version__
from kedro_mlops.config import load_project_config
from kedro_mlops.scaffold import write_config_files

if TYPE_CHECKING:
    from kedro.framework.context import KedroContext
    from kedro.framework.startup import ProjectMetadata

    from kedro_mlops.config import MlopsConfig


@click.group(name="kedro-mlops")
def commands() -> None:
    """kedro-mlops project commands."""


@commands.group(name="mlops")
@click.version_option(__version__, prog_name="kedro-mlops")
def mlops() -> None:
    """Production ML for this Kedro project: tracking, registry, monitoring, images, serving."""


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


ENV_OPTION = click.option("--env", "-e", default=None, help="Kedro configuration environment.")


def _load(metadata: ProjectMetadata, env: str | None) -> tuple[KedroContext, MlopsConfig]:
    """The project's context (its hooks resolve the tracking URI) and its mlops.yml."""
    from kedro.framework.session import KedroSession  # noqa: PLC0415

    with KedroSession.create(project_path=metadata.project_path, env=env) as session:
        context = session.load_context()
    return context, load_project_config(context.config_loader, Path(metadata.project_path))


def _model_name(context: KedroContext, config: MlopsConfig) -> str:
    return config.registry.model_name or context._package_name or ""


@mlops.command()
@ENV_OPTION
@click.pass_obj
def status(metadata: ProjectMetadata, env: str | None) -> None:
    """Show where runs are tracked and the latest run: id, status, metrics, model URI."""
    import mlflow  # noqa: PLC0415 - heavy, only for this command

    from kedro_mlops.tracking.runs import latest_run  # noqa: PLC0415

    context, _config = _load(metadata, env)
    uri = mlflow.get_tracking_uri()
    experiment = context.mlflow.tracking.experiment.name
    click.echo(f"Tracking URI: {uri}")
    click.echo(f"Experiment:   {experiment}")
    run = latest_run(uri, experiment)
    if run is None:
        click.echo("No run yet: `kedro run` records one.")
        return
    click.echo(f"Latest run:   {run.run_id} ({run.run_name}, {run.status}, {run.started})")
    for name, value in run.metrics.items():
        click.echo(f"  {name:<20} {value:.4f}")
    for uri_of_model in run.model_uris:
        click.echo(f"Model URI:    {uri_of_model}")


@mlops.command()
@ENV_OPTION
@click.pass_obj
def models(metadata: ProjectMetadata, env: str | None) -> None:
    """List the registered versions of the project's model with aliases and gate metric."""
    from mlflow.tracking import MlflowClient  # noqa: PLC0415

    from kedro_mlops.tracking.registry import list_versions  # noqa: PLC0415

    context, config = _load(metadata, env)
    name = _model_name(context, config)
    metric = config.registry.gate.metric
    rows = list_versions(MlflowClient(), name, metric)
    click.echo(f"Registered model {name!r} (gate: {metric}, {config.registry.gate.direction})")
    click.echo(f"{'VERSION':<8} {'ALIASES':<22} {metric.upper():<10} RUN ID")
    for row in rows:
        value = "-" if row.metric_value is None else f"{row.metric_value:.4f}"
        aliases = ",".join(row.aliases) or "-"
        click.echo(f"{row.version:<8} {aliases:<22} {value:<10} {row.run_id}")


@mlops.command()
@click.option("--version", "version", required=True, help="The model version to promote.")
@click.option("--alias", default="champion", show_default=True, help="The alias to move.")
@click.option(
    "--reason", default="manual promotion", show_default=True, help="Why (tagged on the version)."
)
@ENV_OPTION
@click.pass_obj
def promote(
    metadata: ProjectMetadata, version: str, alias: str, reason: str, env: str | None
) -> None:
    """Move an alias (default: champion) to a model version by hand."""
    from mlflow.tracking import MlflowClient  # noqa: PLC0415

    from kedro_mlops.tracking.registry import promote as move_alias  # noqa: PLC0415

    context, config = _load(metadata, env)
    name = _model_name(context, config)
    previous = move_alias(MlflowClient(), name, version, alias, reason)
    moved_from = f" (was version {previous})" if previous else ""
    click.echo(f"{name}@{alias} -> version {version}{moved_from}. Reason: {reason}")
