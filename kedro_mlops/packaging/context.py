"""Write a build context: project wheel, pinned requirements, wheels, ``conf/base``, Dockerfile.

Layout of the output directory (default ``dist/mlops``)::

    Dockerfile  .dockerignore  README.md  requirements.txt
    project/<package>-<version>-py3-none-any.whl
    wheels/       wheels of packages not on an index; every wheel with ``wheels=True``
    conf/base/    the project's base configuration, without credentials or secrets
"""

from __future__ import annotations

import logging
import platform
import shutil
import sys
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import TYPE_CHECKING

from kedro_mlops import __version__
from kedro_mlops.config import SERVE_IMAGE
from kedro_mlops.packaging.errors import PackagingError
from kedro_mlops.packaging.images import ImageSpec, check_registry, image_tag, plan_images, slug
from kedro_mlops.packaging.render import (
    ContextSpec,
    deps_digest,
    dockerfile_template,
    has_deps_stage,
    render_dockerfile,
    render_dockerignore,
    render_kedro_pyproject,
    render_readme,
)
from kedro_mlops.packaging.requirements import (
    Pin,
    image_python,
    pin_requirements,
    platform_flags,
    requirements_text,
    target_environment,
    wheel_requirements,
)
from kedro_mlops.packaging.serve import (
    SERVE_DISTRIBUTIONS,
    ServeModel,
    serve_context,
    serve_labels,
)
from kedro_mlops.packaging.sources import build_project_wheel, copy_conf, fill_wheels, git_info

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable

    from kedro_mlops.config import PackagingConfig

logger = logging.getLogger(__name__)

MARKER = ".kedro-mlops-context"
# distributions that need a Java runtime in the images (a Spark project's local session)
JAVA_DISTRIBUTIONS = ("pyspark",)


@dataclass(frozen=True)
class PackageOptions:
    """``packaging:`` of mlops.yml with the command-line options applied."""

    pipelines: list[str]
    output: str
    base_image: str
    builder: str
    tag: str | None
    template: str | None
    wheels: bool
    push: str | None
    bytecode: bool = False
    prune: tuple[str, ...] = ()
    serve_requirements: tuple[str, ...] = ()


@dataclass(frozen=True)
class Project:
    """What ``kedro mlops package`` needs to know about the Kedro project."""

    path: Path
    name: str  # "Bar Demo"
    package: str  # "bar_demo"
    conf_source: Path
    base_env: str = "base"
    kedro_init_version: str = ""  # "": the installed Kedro's version


@dataclass
class ContextResult:
    """What was written, for the CLI to report and the builder to build."""

    directory: Path
    spec: ContextSpec
    dockerfile: str
    pins: list[Pin]
    left_out: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def images(self) -> list[ImageSpec]:
        return list(self.spec.images)

    @property
    def deps_image(self) -> str | None:
        """The dependency image tag, when the Dockerfile has a ``deps`` stage."""
        return self.spec.deps_image if has_deps_stage(self.dockerfile) else None


def merge_options(
    config: PackagingConfig, *, pipelines: Iterable[str] = (), **options: object
) -> PackageOptions:
    """Command-line options override ``packaging:`` keys (``None``: not given; an empty text
    does not replace a key that is never empty); ``--pipeline`` replaces the list."""
    values = config.model_dump()
    for name, value in options.items():
        if name not in values:
            raise TypeError(f"merge_options() got an unknown option {name!r}")
        if value is None or (value == "" and type(config).model_fields[name].default):
            continue
        values[name] = value
    values["pipelines"] = list(pipelines) or values["pipelines"]
    return PackageOptions(
        **{
            option.name: tuple(values[option.name])
            if isinstance(values[option.name], list) and option.name != "pipelines"
            else values[option.name]
            for option in fields(PackageOptions)
        }
    )


def kedro_version() -> str:
    """The installed Kedro's version (for the images' ``[tool.kedro]``)."""
    from importlib.metadata import version  # noqa: PLC0415

    return version("kedro")


def removable_tools(pins: Iterable[Pin]) -> tuple[str, ...]:
    """The installer a fresh venv brings, left out of the images unless a requirement pins it.

    setuptools stays: code that imports ``pkg_resources`` without declaring setuptools works in
    the venv it was run in (Python 3.11 venvs bring setuptools) and must work in the image too.
    """
    return () if any(pin.name == "pip" for pin in pins) else ("pip",)


def check_pipelines(requested: Iterable[str], registered: Iterable[str]) -> None:
    """Raises:
    PackagingError: naming the pipelines the project does not register, and those it does.
    """
    known = {*registered, SERVE_IMAGE}
    unknown = [name for name in requested if name not in known]
    if unknown:
        raise PackagingError(
            f"Pipeline(s) {', '.join(map(repr, unknown))} not registered in this project "
            f"(registered: {', '.join(sorted(known)) or 'none'}). Fix packaging.pipelines in "
            "mlops.yml or the --pipeline option."
        )


def resolve_output(project_path: Path, output: str) -> Path:
    """The context directory; refuses the project root and directories that are not ours.

    Raises:
        PackagingError: if ``output`` is the project itself, one of its parents, or a
            non-empty directory that kedro-mlops did not write.
    """
    directory = (project_path / output).resolve()
    root = project_path.resolve()
    if directory == root or directory in root.parents:
        raise PackagingError(
            f"Output {output!r} is the project directory or one of its parents; use a directory "
            "of its own, e.g. dist/mlops."
        )
    for inside in ("src", "conf", "data", ".git"):
        if directory == root / inside or (root / inside) in directory.parents:
            raise PackagingError(
                f"Output {output!r} is inside the project's {inside}/ folder; use e.g. dist/mlops."
            )
    if directory.exists() and any(directory.iterdir()) and not (directory / MARKER).exists():
        raise PackagingError(
            f"{directory} exists, is not empty and was not written by kedro mlops package; "
            "choose another --output (or empty it yourself)."
        )
    return directory


def _prepare(directory: Path) -> None:
    """Empty the context directory but keep ``wheels/`` (a cache of downloads)."""
    directory.mkdir(parents=True, exist_ok=True)
    for path in directory.iterdir():
        if path.name == "wheels":
            continue
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path)
        else:
            path.unlink()
    (directory / MARKER).write_text(
        "Written by `kedro mlops package`; the directory is replaced on every run.\n",
        encoding="utf-8",
    )


def write_context(
    project: Project,
    options: PackageOptions,
    *,
    echo: Callable[[str], None] = logger.info,
    python: str = sys.executable,
    serve_model: ServeModel | None = None,
) -> ContextResult:
    """Write the build context of ``project`` as ``options`` say; nothing is built.

    ``serve_model`` is the model the serving image carries (needed when ``serve`` is packaged).

    Raises:
        PackagingError: naming the step that failed and what to do.
    """
    directory = resolve_output(project.path, options.output)
    template = dockerfile_template(
        None if options.template is None else project.path / options.template
    )
    if options.push:
        check_registry(options.push)  # early: a typo must not wait for a long build
    try:
        conf_relative = project.conf_source.resolve().relative_to(project.path.resolve())
    except ValueError:
        raise PackagingError(
            f"The configuration {project.conf_source} is outside the project {project.path}; "
            "kedro mlops package copies conf/<base env> from inside the project only."
        ) from None
    _prepare(directory)

    echo("kedro-mlops: building the project wheel (python -m build --wheel) ...")
    wheel = build_project_wheel(project.path, directory / "project", python)
    version = wheel.name.split("-")[1]
    images = plan_images(project.name, options.pipelines, image_tag(version, options.tag))

    warnings: list[str] = []
    wanted_python = image_python(options.base_image)
    host_python = f"{sys.version_info.major}.{sys.version_info.minor}"
    if wanted_python and wanted_python != host_python:
        warnings.append(
            f"The base image {options.base_image!r} has Python {wanted_python} but requirements "
            f"are pinned from this environment's Python {host_python}; if the build cannot "
            "install them, use a base image with the same Python."
        )
    pins = pin_requirements(
        wheel_requirements(wheel),
        environment=target_environment(wanted_python),
        skip=[project.package],
    )
    # no version, path or date here: an unchanged file keeps the builder's dependency cache
    header = (
        f"Runtime requirements of {project.package} (Python {host_python}), pinned by "
        "`kedro mlops package`\nfrom the environment it ran in. Regenerated on every run: "
        "do not edit."
    )
    requirements = requirements_text(pins, header)
    (directory / "requirements.txt").write_text(requirements, encoding="utf-8")
    serve_pins = serve_context(
        directory / "serve",
        [image for image in images if image.server],
        serve_model,
        [*SERVE_DISTRIBUTIONS, *options.serve_requirements],
        environment=target_environment(wanted_python),
        header=header.replace("Runtime requirements", "Online-serving requirements"),
    )
    known = {pin.name for pin in pins}
    pins_for_wheels = [*pins, *(pin for pin in serve_pins if pin.name not in known)]

    if options.wheels:
        echo(f"kedro-mlops: collecting {len(pins)} wheels for an offline build ...")
    flags = platform_flags(
        wanted_python,
        host_python=host_python,
        host_system=platform.system(),
        host_machine=platform.machine(),
    )
    fill_wheels(
        pins_for_wheels, directory / "wheels", download=options.wheels, flags=flags, python=python
    )

    left_out = [
        (conf_relative / name).as_posix()
        for name in copy_conf(project.conf_source, project.base_env, directory / conf_relative)
    ]
    conf_dir = (conf_relative / project.base_env).as_posix()
    revision, source, dirty = git_info(project.path)
    template_text = template.read_text(encoding="utf-8")
    spec = ContextSpec(
        project_name=project.name,
        project_slug=slug(project.name),
        package_name=project.package,
        version=version,
        images=tuple(images),
        base_image=options.base_image,
        project_wheel=wheel.name,
        offline=options.wheels,
        bytecode=options.bytecode,
        prune=options.prune,
        venv_tools=removable_tools(pins),
        conf_dir=conf_dir,
        base_env=project.base_env,
        revision=revision,
        source=source,
        dirty=dirty,
        kedro_mlops_version=__version__,
        serve_labels=serve_labels(serve_model) if serve_pins else (),
        rollout=serve_model.rollout_environment() if serve_pins and serve_model else (),
        kedro_init_version=project.kedro_init_version or kedro_version(),
        java=any(pin.name.lower() in JAVA_DISTRIBUTIONS for pin in pins),
    )
    digest = deps_digest(
        template_text=template_text,
        base_image=options.base_image,
        requirements=requirements,
        wheels=sorted((directory / "wheels").glob("*.whl")),
        offline=options.wheels,
        user=(spec.user, spec.uid, spec.gid),
        slimming=(options.bytecode, options.prune),
    )
    spec = replace(spec, deps_image=f"{slug(project.name)}-deps:{digest}")
    dockerfile = render_dockerfile(spec, template)
    (directory / "Dockerfile").write_text(dockerfile, encoding="utf-8")
    (directory / ".dockerignore").write_text(render_dockerignore(spec), encoding="utf-8")
    (directory / "README.md").write_text(render_readme(spec), encoding="utf-8")
    (directory / "project" / "pyproject.toml").write_text(
        render_kedro_pyproject(spec), encoding="utf-8"
    )
    return ContextResult(directory, spec, dockerfile, pins, left_out, warnings)
