"""``kedro mlops ci``: CI > CT > CD pipelines and the Makefile their jobs call."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from kedro_mlops.cicd.files import CHOICES, DEFAULT_CHOICE
from kedro_mlops.cli.group import echo_lines, mlops
from kedro_mlops.cli.project import registered_pipelines
from kedro_mlops.config import SERVE_IMAGE
from kedro_mlops.hooks.project import project_config

if TYPE_CHECKING:
    from kedro.framework.startup import ProjectMetadata

    from kedro_mlops.cicd import CiProject, WriteReport


def ci_project(project_path: Path, project_name: str, env: str | None = None) -> CiProject:
    """What the CI files say about a bootstrapped project: from its mlops.yml, its pipelines
    and the image names ``kedro mlops package`` gives."""
    from kedro_mlops.cicd import CiProject, validation_nodes  # noqa: PLC0415
    from kedro_mlops.packaging.images import image_name  # noqa: PLC0415
    from kedro_mlops.packaging.render import WORKDIR  # noqa: PLC0415

    config = project_config(project_path, env)
    registry = registered_pipelines()
    # a kedro-mlflow PipelineML (bound to its inference pipeline) refuses to run a few nodes alone
    plain = {
        name: [node.name for node in pipeline.nodes]
        for name, pipeline in registry.items()
        if name != "__default__" and not hasattr(pipeline, "inference")
    }
    validate_pipeline, validate = validation_nodes(plain)
    produced = {name for pipeline in registry.values() for name in pipeline.all_outputs()}
    return CiProject(
        project_name=project_name,
        python_version=f"{sys.version_info.major}.{sys.version_info.minor}",
        smoke_image=image_name(project_name, SERVE_IMAGE)
        if SERVE_IMAGE in config.packaging.pipelines
        else None,
        workdir=WORKDIR,
        context_dir=config.packaging.output,
        validate_pipeline=validate_pipeline,
        validate_nodes=validate,
        # CT checks what its pipelines write (served_traffic exists only where a server logs)
        monitor_checks=tuple(
            check.name for check in config.monitoring.checks if check.current in produced
        ),
        deploy_dir=f"{config.deploy.output}/{config.deploy.target}",
        deploy_environments=tuple(config.deploy.overlays),
    )


def add_ci_files(
    project_path: Path, project_name: str, choice: str, *, force: bool = False
) -> tuple[CiProject, WriteReport]:
    """Write the Makefile, the pipelines of ``choice`` and the README section into a project
    (``kedro mlops ci`` and the starter's post-generation hook)."""
    from kedro_mlops import cicd  # noqa: PLC0415

    providers = cicd.providers_for(choice)
    project = ci_project(project_path, project_name)
    report = cicd.write_files(
        project_path,
        cicd.render_files(project, providers),
        readme=cicd.readme_section(project, providers),
        paragraphs=cicd.readme_paragraphs(project, providers),
        force=force,
    )
    return project, report


@mlops.command()
@click.option(
    "--provider",
    type=click.Choice([choice for choice in CHOICES if choice != "none"]),
    default=DEFAULT_CHOICE,
    show_default=True,
    help="Which CI pipelines to write (both: github and gitlab).",
)
@click.option("--force", is_flag=True, help="Replace CI files (and a Makefile) that exist.")
@click.pass_obj
def ci(metadata: ProjectMetadata, provider: str, force: bool) -> None:
    """Add CI > CT > CD pipelines and the Makefile their jobs call to this project."""
    from kedro_mlops.cicd import report_lines  # noqa: PLC0415

    project, report = add_ci_files(
        Path(metadata.project_path), metadata.project_name, provider, force=force
    )
    echo_lines(report_lines(project, report))
