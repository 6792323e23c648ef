"""``kedro mlops deploy``: Kubernetes manifests of the packaged images."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from kedro_mlops.cli.group import ENV_OPTION, echo_lines, mlops, split
from kedro_mlops.cli.project import deploy_inputs, load

if TYPE_CHECKING:
    from kedro.framework.startup import ProjectMetadata


@mlops.command()
@click.option(
    "--target",
    type=click.Choice(["kubernetes", "compose"]),
    default=None,
    help="kubernetes: a kustomize base and one overlay per environment; compose: the serving "
    "image, an MLflow server and Prometheus on one host [kubernetes].",
)
@click.option("--output", "-o", default=None, help="Directory to write into [deploy].")
@click.option("--image-tag", default=None, help="Image tag [packaging.tag, else the version].")
@click.option("--registry", default=None, help="Registry of the images, e.g. ghcr.io/acme.")
@click.option(
    "--overlay",
    "overlays",
    multiple=True,
    help="An environment of deploy.overlays to write (repeatable; default: all of them).",
)
@click.option(
    "--check-images",
    is_flag=True,
    help="Refuse image references the local image store (docker, podman) does not hold.",
)
@ENV_OPTION
@click.pass_obj
def deploy(  # noqa: PLR0917 - click passes every option
    metadata: ProjectMetadata,
    target: str | None,
    output: str | None,
    image_tag: str | None,
    registry: str | None,
    overlays: tuple[str, ...],
    check_images: bool,
    env: str | None,
) -> None:
    """Write Kubernetes manifests of the serving and batch images, and the script that rolls
    them out, smoke-tests them and rolls them back on failure."""
    from kedro_mlops import deploy as deploying  # noqa: PLC0415
    from kedro_mlops.config import override  # noqa: PLC0415
    from kedro_mlops.packaging.builders import find_builder, image_exists  # noqa: PLC0415

    context, config = load(metadata, env)
    options = override(
        config.deploy, target=target, output=output, image_tag=image_tag, registry=registry
    )
    plan, row = deploy_inputs(metadata, context, config, options, overlays=split(overlays))
    builder = find_builder(config.packaging.builder) if check_images else None
    report = deploying.deploy_project(
        plan,
        Path(metadata.project_path) / options.output / options.target,
        project_path=Path(metadata.project_path),
        smoke_row=row,
        image_exists=None if builder is None else lambda ref: image_exists(builder, ref),
    )
    echo_lines(report.lines())
