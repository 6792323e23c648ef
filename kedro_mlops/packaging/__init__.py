"""``kedro mlops package``: a build context with one container image per pipeline, and its build.

Usable from Python on its own::

    from kedro_mlops.packaging import Project, merge_options, write_context
    from kedro_mlops.packaging import find_builder, build_images
"""

from __future__ import annotations

from kedro_mlops.packaging.builders import BuildReport, build_images, choose_builder, find_builder
from kedro_mlops.packaging.context import (
    ContextResult,
    PackageOptions,
    Project,
    ServeModel,
    check_pipelines,
    merge_options,
    write_context,
)
from kedro_mlops.packaging.errors import BuilderNotFoundError, BuildError, PackagingError
from kedro_mlops.packaging.images import ImageSpec, plan_images

__all__ = [
    "BuildError",
    "BuildReport",
    "BuilderNotFoundError",
    "ContextResult",
    "ImageSpec",
    "PackageOptions",
    "PackagingError",
    "Project",
    "ServeModel",
    "build_images",
    "check_pipelines",
    "choose_builder",
    "find_builder",
    "merge_options",
    "plan_images",
    "write_context",
]
