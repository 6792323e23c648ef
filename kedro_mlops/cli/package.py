"""``kedro mlops package``: container images of the project's pipelines."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from kedro_mlops.cli.group import ENV_OPTION, echo_lines, mlops, split
from kedro_mlops.cli.project import (
    load,
    packaging_project,
    registered_pipelines,
    serve_model_loader,
)
from kedro_mlops.config import DEFAULT_BASE_IMAGE, SERVE_IMAGE

if TYPE_CHECKING:
    from kedro.framework.startup import ProjectMetadata


@mlops.command()
@click.option(
    "--pipeline",
    "-p",
    "pipelines",
    multiple=True,
    help="A pipeline to make an image of (repeatable; default: packaging.pipelines).",
)
@click.option("--output", "-o", default=None, help="The build context directory [dist/mlops].")
@click.option("--build", is_flag=True, help="Build the images after writing the context.")
@click.option(
    "--builder",
    type=click.Choice(["auto", "docker", "podman", "buildah"]),
    default=None,
    help="auto: a responding Docker engine, else podman, else buildah.",
)
@click.option("--base-image", default=None, help=f"Base image [{DEFAULT_BASE_IMAGE}].")
@click.option("--tag", default=None, help="Image tag [the project's version].")
@click.option(
    "--wheels/--no-wheels",
    default=None,
    help="Download every wheel into the context: the build needs no network.",
)
@click.option(
    "--template",
    default=None,
    help="Your own Jinja Dockerfile template (path from the project root).",
)
@click.option("--push", default=None, metavar="REGISTRY", help="Push the images (implies --build).")
@click.option(
    "--bytecode/--no-bytecode",
    default=None,
    help="Compile .pyc into the images: faster container start, bigger images [no].",
)
@click.option(
    "--model-uri",
    default=None,
    help="The model inside the serving image [serving.model_uri, else the champion].",
)
@click.option(
    "--cache-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Keep the dependency image as a file here (a CI cache): loaded instead of rebuilt.",
)
@ENV_OPTION
@click.pass_obj
def package(  # noqa: PLR0917 - click passes every option
    metadata: ProjectMetadata,
    pipelines: tuple[str, ...],
    output: str | None,
    build: bool,
    builder: str | None,
    base_image: str | None,
    tag: str | None,
    wheels: bool | None,
    template: str | None,
    push: str | None,
    bytecode: bool | None,
    model_uri: str | None,
    cache_dir: Path | None,
    env: str | None,
) -> None:
    """Write a build context with one container image per pipeline; --build builds them."""
    from kedro_mlops import packaging  # noqa: PLC0415

    context, config = load(metadata, env)
    options = packaging.merge_options(
        config.packaging,
        pipelines=split(pipelines),
        output=output,
        base_image=base_image,
        builder=builder,
        tag=tag,
        template=template,
        wheels=wheels,
        push=push,
        bytecode=bytecode,
    )
    report = packaging.package_project(
        packaging_project(metadata, context),
        options,
        registered=registered_pipelines().keys(),
        serve_model=serve_model_loader(context, config, model_uri),
        serve_asked=SERVE_IMAGE in split(pipelines) or bool(model_uri),
        build=build,
        cache_dir=cache_dir,
        echo=lambda line: click.echo(line, err=True),  # progress (wheel, builder output): a log
        warn=lambda line: click.echo(line, err=True),
    )
    if report.build is None:
        echo_lines(report.context_lines())
    echo_lines(report.build_lines())
