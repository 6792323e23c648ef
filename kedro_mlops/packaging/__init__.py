"""``kedro mlops package``: a build context with one container image per pipeline, and its build.

Usable from Python on its own::

    from kedro_mlops.packaging import Project, merge_options, write_context
    from kedro_mlops.packaging import find_builder, build_images
    from kedro_mlops.packaging import package_project  # all of it, as the command does
"""

from __future__ import annotations

from kedro_mlops.packaging.builders import BuildReport, build_images, choose_builder, find_builder
from kedro_mlops.packaging.context import (
    ContextResult,
    PackageOptions,
    Project,
    check_pipelines,
    merge_options,
    write_context,
)
from kedro_mlops.packaging.errors import (
    BuilderNotFoundError,
    BuildError,
    NoServeModelError,
    PackagingError,
)
from kedro_mlops.packaging.images import ImageSpec, check_registry, image_tag, plan_images
from kedro_mlops.packaging.render import ContainerPaths
from kedro_mlops.packaging.serve import ServeModel
from kedro_mlops.packaging.sources import project_version
from kedro_mlops.packaging.workflow import PackageReport, package_project

__all__ = [
    "BuildError",
    "BuildReport",
    "BuilderNotFoundError",
    "ContainerPaths",
    "ContextResult",
    "ImageSpec",
    "NoServeModelError",
    "PackageOptions",
    "PackageReport",
    "PackagingError",
    "Project",
    "ServeModel",
    "build_images",
    "check_pipelines",
    "check_registry",
    "choose_builder",
    "find_builder",
    "image_tag",
    "merge_options",
    "package_project",
    "plan_images",
    "project_version",
    "write_context",
]
