"""``kedro mlops export``: orchestrator definitions of the packaged images."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from kedro_mlops.cli.group import ENV_OPTION, echo_lines, mlops
from kedro_mlops.cli.project import export_inputs
from kedro_mlops.config.export import TARGETS
from kedro_mlops.hooks.project import project_config

if TYPE_CHECKING:
    from kedro.framework.startup import ProjectMetadata


@mlops.command()
@click.option(
    "--target",
    type=click.Choice(TARGETS),
    default=None,
    help="airflow: a DAG file (Airflow 3); kubeflow: KFP v2 YAML (also Vertex AI); "
    "stepfunctions: States Language JSON and ECS task definitions; azureml: pipeline job YAML; "
    "databricks: a bundle [airflow].",
)
@click.option("--output", "-o", default=None, help="Directory to write into [dist/orchestration].")
@click.option("--image-tag", default=None, help="Image tag [packaging.tag, else the version].")
@click.option("--registry", default=None, help="Registry of the images, e.g. ghcr.io/acme.")
@click.option("--schedule", default=None, help="Cron (or @daily ...) of the training definition.")
@click.option("--template", default=None, help="Your own Jinja template (path from the root).")
@ENV_OPTION
@click.pass_obj
def export(  # noqa: PLR0917 - click passes every option
    metadata: ProjectMetadata,
    target: str | None,
    output: str | None,
    image_tag: str | None,
    registry: str | None,
    schedule: str | None,
    template: str | None,
    env: str | None,
) -> None:
    """Write orchestrator definitions that run the packaged images, with continuous training."""
    from kedro_mlops import export as exporting  # noqa: PLC0415

    config = project_config(Path(metadata.project_path), env)
    options = exporting.merge_options(
        config.export,
        target=target,
        output=output,
        image_tag=image_tag,
        registry=registry,
        schedule=schedule,
        template=template,
    )
    project = export_inputs(metadata, config, options)
    echo_lines(exporting.export_project(project, options, config.monitoring).lines())
