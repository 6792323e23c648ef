"""``kedro mlops ...``: click wiring only (entry point ``kedro.project_commands``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from kedro_mlops import __version__
from kedro_mlops.scaffold import write_config_files


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
def init(metadata: Any, env: str, force: bool) -> None:
    """Write conf/<env>/mlops.yml and mlflow.yml so that `kedro run` is tracked."""
    conf_dir = Path(metadata.project_path) / "conf" / env
    for path in write_config_files(conf_dir, force=force):
        click.echo(f"Wrote {path.relative_to(metadata.project_path)}")
    click.echo("`kedro run` now records to MLflow (sqlite:///mlflow.db at the project root).")
