"""``kedro mlops export`` from start to end: a project's packaged pipelines as orchestrator
definitions written to disk, as one call (``export_project``)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

from kedro_mlops import __version__
from kedro_mlops.export.graph import PipelineData
from kedro_mlops.export.plan import ContainerSettings, plan_export
from kedro_mlops.export.render import ExportResult, template_path, write_export

if TYPE_CHECKING:
    from kedro_mlops.config import ExportConfig, MonitoringConfig


@dataclass(frozen=True)
class ExportProject:
    """What an export needs to know about the project and its images."""

    path: Path
    name: str  # "Churn Demo"
    package: str  # "churn_demo"
    # packaged Kedro pipelines (in packaging order): their free inputs and every output
    pipelines: dict[str, tuple[set[str], set[str]]]
    images: dict[str, str]  # packaged name -> image reference
    container: ContainerSettings
    services: list[str] = field(default_factory=list)  # packaged names that are no pipeline
    registry: str | None = None


def export_project(
    project: ExportProject, options: ExportConfig, monitoring: MonitoringConfig
) -> ExportResult:
    """Write the definitions of ``options.target`` under ``<options.output>/<target>``.

    Raises:
        ExportError: nothing to schedule, an unknown check, a template or compiler failure.
    """
    plan = plan_export(
        project_name=project.name,
        package=project.package,
        version=__version__,
        pipelines=[PipelineData.of(name, *ios) for name, ios in project.pipelines.items()],
        images=project.images,
        services={name: project.images[name] for name in project.services},
        config=options,
        monitoring=monitoring,
        container=project.container,
        registry=project.registry,
    )
    if options.target == "databricks":
        plan = replace(plan, platform={**plan.platform, "entry_point": console_script(project)})
    user_template = None if options.template is None else project.path / options.template
    return write_export(
        plan,
        project.path / options.output / options.target,
        template=template_path(options.target, user_template),
        project_path=project.path,
    )


def console_script(project: ExportProject) -> str | None:
    """The project's console script that runs its ``__main__`` (``[project.scripts]`` of
    pyproject.toml: Kedro's template names it after the repository), if it has one."""
    pyproject = project.path / "pyproject.toml"
    text = pyproject.read_text(encoding="utf-8") if pyproject.is_file() else ""
    target = re.escape(f"{project.package}.__main__:main")
    found = re.search(rf'^\s*"?([A-Za-z0-9_.-]+)"?\s*=\s*"{target}"', text, re.MULTILINE)
    return found.group(1) if found else None
