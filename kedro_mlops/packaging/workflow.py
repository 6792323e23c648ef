"""``kedro mlops package`` from start to end: which images, their model, the build context,
the build and the push, as one call that returns what it did (``package_project``)."""

from __future__ import annotations

import dataclasses
import logging
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from kedro_mlops.config import SERVE_IMAGE
from kedro_mlops.packaging.builders import BuildReport, build_images, find_builder
from kedro_mlops.packaging.context import (
    ContextResult,
    PackageOptions,
    Project,
    check_pipelines,
    write_context,
)
from kedro_mlops.packaging.errors import BuilderNotFoundError, NoServeModelError

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable

    from kedro_mlops.packaging.serve import ServeModel

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class PackageReport:
    """What ``package_project`` wrote, built and pushed."""

    context: ContextResult
    where: Path  # the context directory, relative to the project when inside it
    serve_model: ServeModel | None
    build: BuildReport | None

    def context_lines(self) -> list[str]:
        """What the build context holds (printed before a build starts)."""
        result = self.context
        lines = [f"Build context written: {self.where}/ ({len(result.pins)} pinned requirements)"]
        lines += [
            f"  left out {name}: credentials and secrets never go into an image"
            for name in result.left_out
        ]
        lines += [f"  warning: {warning}" for warning in result.warnings]
        model = self.serve_model
        for image in result.images:
            runs = (
                f"serves {model.name} v{model.version} on port {image.http_port}"
                if image.server and model
                else f"kedro run --pipelines {image.pipeline}"
            )
            lines.append(f"  {image.reference:<48} {runs}")
        return lines

    def build_lines(self) -> list[str]:
        """What was built and pushed and how to run it, or how to build by hand."""
        result, build = self.context, self.build
        if build is None:
            first = result.images[0]
            return [
                f"Build them with `kedro mlops package --build` (Docker, podman or buildah), or "
                f"by hand as {self.where}/README.md shows, e.g.:\n"
                f"  docker build --target deps --tag {result.spec.deps_image} {self.where}\n"
                f"  docker build --target {first.stage} --tag {first.reference} {self.where}"
            ]
        lines = [f"Built with {build.builder}: {', '.join(build.built)}"]
        lines += [f"Pushed {remote}" for remote in build.pushed]
        runner = build.builder if build.builder != "buildah" else "podman"
        lines += [
            f"Serve: {runner} run --rm -p {image.http_port}:{image.http_port} {image.reference}"
            for image in result.images
            if image.server
        ]
        batch = [image for image in result.images if not image.server]
        if batch:
            lines.append(
                f"Run: {runner} run --rm "
                f'-v "$PWD/data:{result.spec.workdir}/data" '
                f'-v "$PWD/mlflow-store:{result.spec.mlflow_dir}" {batch[0].reference}'
            )
        return lines


def package_project(
    project: Project,
    options: PackageOptions,
    *,
    registered: Iterable[str],
    serve_model: Callable[[Path], ServeModel],
    serve_asked: bool = False,
    build: bool = False,
    cache_dir: Path | None = None,
    echo: Callable[[str], None] = logger.info,
    warn: Callable[[str], None] = logger.warning,
) -> PackageReport:
    """Write the build context of ``project`` and, with ``build`` (or ``options.push``), build
    (and push) its images.

    ``serve_model(directory)`` saves the serving image's model there and describes it; when it
    raises ``NoServeModelError`` and the ``serve`` image was not asked for by name
    (``serve_asked``), that image is left out and ``warn`` says why. ``echo`` gets progress
    lines, and the context's lines before a build starts.

    Raises:
        PackagingError: naming the step that failed and what to do (e.g. no builder found).
    """
    check_pipelines(options.pipelines, registered)
    with tempfile.TemporaryDirectory(prefix="kedro-mlops-model-") as scratch:
        model = None
        if SERVE_IMAGE in options.pipelines:
            try:
                model = serve_model(Path(scratch))
            except NoServeModelError as exc:
                if serve_asked:
                    raise
                warn(
                    f"  left out the {SERVE_IMAGE!r} image: no model to put inside yet "
                    f"({exc.message})"
                )
                kept = [name for name in options.pipelines if name != SERVE_IMAGE]
                options = dataclasses.replace(options, pipelines=kept)
        result = write_context(project, options, echo=echo, serve_model=model)
    where = (
        result.directory.relative_to(project.path)
        if result.directory.is_relative_to(project.path)
        else result.directory
    )
    report = PackageReport(result, where, model, None)
    if not (build or options.push):
        return report
    for line in report.context_lines():
        echo(line)
    try:
        chosen = find_builder(options.builder)
    except BuilderNotFoundError as exc:
        raise BuilderNotFoundError(
            f"{exc.message}\nThe build context is written: {where}/ (its README.md shows the "
            "build commands)."
        ) from None
    echo(f"Building with {chosen} ...")
    built = build_images(
        chosen,
        result.directory,
        result.images,
        deps_image=result.deps_image,
        offline=options.wheels,
        echo=echo,
        push_to=options.push,
        cache_dir=cache_dir,
    )
    return dataclasses.replace(report, build=built)
