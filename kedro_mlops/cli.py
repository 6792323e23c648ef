"""``kedro mlops ...``: click wiring only (entry point ``kedro.project_commands``)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from kedro_mlops import __version__
from kedro_mlops.scaffold import write_config_files

if TYPE_CHECKING:
    from kedro.framework.startup import ProjectMetadata


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


@mlops.command()
@click.option("--env", "-e", default=None, help="Kedro configuration environment.")
@click.pass_obj
def status(metadata: ProjectMetadata, env: str | None) -> None:
    """Show where runs are tracked and the latest run: id, status, metrics, model URI."""
    import mlflow  # noqa: PLC0415 - heavy, only for this command
    from kedro.framework.session import KedroSession  # noqa: PLC0415

    from kedro_mlops.tracking.runs import latest_run  # noqa: PLC0415

    with KedroSession.create(project_path=metadata.project_path, env=env) as session:
        context = session.load_context()  # the hooks resolve the tracking URI here
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
