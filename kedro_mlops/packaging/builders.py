"""Container builders (Docker, podman, buildah): choosing one, their command lines, running them.

Command lines are built by pure functions (unit-tested as tables); :func:`build_images` runs
them and streams their output line by line to a callback.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from collections import deque
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from kedro_mlops.packaging.errors import BuilderNotFoundError, BuildError, PackagingError

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

    from kedro_mlops.packaging.images import ImageSpec

Builder = Literal["docker", "podman", "buildah"]
BUILDERS: tuple[Builder, ...] = ("docker", "podman", "buildah")
DOCKER_PROBE_TIMEOUT_S = 10
INSTALL_HINT = (
    "Install one of: Docker (a running engine: https://docs.docker.com/engine/install/), "
    "podman (`apt-get install podman`, `dnf install podman`, `brew install podman`) or "
    "buildah (`apt-get install buildah`), then run `kedro mlops package --build` again."
)
_TAIL_LINES = 25


def docker_probe_command() -> list[str]:
    """Asks the Docker CLI for its engine's version: fails when no engine answers."""
    return ["docker", "version", "--format", "{{.Server.Version}}"]


def choose_builder(
    requested: str,
    which: Callable[[str], str | None],
    docker_responds: Callable[[], bool],
) -> Builder | None:
    """The builder to use: ``requested`` if installed; for ``auto`` a responding Docker engine,
    else podman, else buildah. ``None`` when there is none.

    A Docker CLI without an engine (common on CI runners and podman hosts) does not count.
    """
    if requested != "auto":
        if requested not in BUILDERS:
            raise PackagingError(
                f"Unknown builder {requested!r}; use one of auto, {', '.join(BUILDERS)}."
            )
        return requested if which(requested) else None  # type: ignore[return-value]
    if which("docker") and docker_responds():
        return "docker"
    for builder in ("podman", "buildah"):
        if which(builder):
            return builder  # type: ignore[return-value]
    return None


def build_command(
    builder: Builder,
    context: Path,
    target: str,
    reference: str,
    *,
    offline: bool = False,
) -> list[str]:
    """Build one stage (``target``) of ``context/Dockerfile`` and tag it ``reference``.

    podman and buildah write the Docker image format (OCI drops ``HEALTHCHECK``); buildah needs
    ``--layers`` to cache. ``offline`` builds get no network at all.
    """
    command = {
        "docker": ["docker", "build"],
        "podman": ["podman", "build", "--format", "docker"],
        "buildah": ["buildah", "build", "--format", "docker", "--layers"],
    }[builder]
    command += ["--file", str(context / "Dockerfile"), "--target", target, "--tag", reference]
    if offline:
        command += ["--network", "none"]
    return [*command, str(context)]


def image_exists_command(builder: Builder, reference: str) -> list[str]:
    """Exits 0 when ``reference`` is in the builder's local image store."""
    return {
        "docker": ["docker", "image", "inspect", "--format", "{{.Id}}", reference],
        "podman": ["podman", "image", "exists", reference],
        "buildah": [
            "buildah",
            "inspect",
            "--type",
            "image",
            "--format",
            "{{.FromImageID}}",
            reference,
        ],
    }[builder]


def tag_command(builder: Builder, source: str, target: str) -> list[str]:
    """Give the image ``source`` the extra name ``target``."""
    return [builder, "tag", source, target]


def push_command(builder: Builder, reference: str) -> list[str]:
    """Push ``reference`` (``registry/name:tag``) to its registry."""
    return [builder, "push", reference]


def archive_name(reference: str) -> str:
    """The file name an image is saved under in a cache directory (``name_tag.tar``)."""
    return re.sub(r"[^A-Za-z0-9_.-]", "_", reference) + ".tar"


def save_command(builder: Builder, reference: str, archive: Path) -> list[str]:
    """Save the image ``reference`` to the file ``archive`` (docker and podman)."""
    return [builder, "save", "--output", str(archive), reference]


def load_command(builder: Builder, archive: Path) -> list[str]:
    """Load the image saved in ``archive`` back into the builder's store, with its name."""
    return [builder, "load", "--input", str(archive)]


@dataclass
class BuildReport:
    """What :func:`build_images` did."""

    builder: Builder
    deps_image: str | None
    deps_reused: bool
    built: list[str]
    pushed: list[str]


def run_streaming(command: list[str], echo: Callable[[str], None], *, what: str) -> None:
    """Run ``command``, pass each output line to ``echo``.

    Raises:
        BuildError: on a non-zero exit, with the command and the last lines of its output.
    """
    tail: deque[str] = deque(maxlen=_TAIL_LINES)
    try:
        process = subprocess.Popen(
            command,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            errors="replace",
        )
    except OSError as exc:
        raise BuildError(f"Cannot start {command[0]!r} to {what}: {exc}. {INSTALL_HINT}") from None
    assert process.stdout is not None  # noqa: S101 - stdout=PIPE above
    with process:
        for line in process.stdout:
            text = line.rstrip("\n")
            tail.append(text)
            echo(text)
    if process.returncode != 0:
        output = "\n".join(f"  | {line}" for line in tail)
        raise BuildError(
            f"{command[0]} failed to {what} (exit code {process.returncode}).\n"
            f"Command: {' '.join(command)}\nLast lines of its output:\n{output}\n"
            "Fix the cause above and run `kedro mlops package --build` again."
        )


def image_exists(builder: Builder, reference: str) -> bool:
    """Whether the builder's store already holds ``reference``."""
    result = subprocess.run(
        image_exists_command(builder, reference), capture_output=True, check=False, timeout=60
    )
    return result.returncode == 0


def docker_responds() -> bool:
    """Whether a Docker engine answers the Docker CLI (within a few seconds)."""
    try:
        result = subprocess.run(
            docker_probe_command(),
            capture_output=True,
            check=False,
            timeout=DOCKER_PROBE_TIMEOUT_S,
        )
    except (OSError, subprocess.TimeoutExpired):
        return False
    return result.returncode == 0


def _save_archive(
    builder: Builder, deps_image: str, archive: Path, echo: Callable[[str], None]
) -> None:
    """Save the dependency image to ``archive`` (complete or not at all) and remove the files
    of the project's older dependency images beside it."""
    archive.parent.mkdir(parents=True, exist_ok=True)
    partial = archive.with_name(f".{archive.name}.partial")
    echo(f"kedro-mlops: saving the dependency image {deps_image} to {archive} ...")
    run_streaming(save_command(builder, deps_image, partial), echo, what=f"save {deps_image}")
    os.replace(partial, archive)
    prefix = archive_name(deps_image.rsplit(":", 1)[0] + ":")[: -len(".tar")]
    for old in archive.parent.glob(f"{prefix}*.tar"):
        if old != archive:
            old.unlink()


def find_builder(requested: str) -> Builder:
    """:func:`choose_builder` on this machine.

    Raises:
        BuilderNotFoundError: saying what to install.
    """
    builder = choose_builder(requested, shutil.which, docker_responds)
    if builder is None:
        wanted = (
            "No container builder found: no Docker engine answers and neither podman nor "
            "buildah is installed."
            if requested == "auto"
            else f"The builder {requested!r} is not installed (not on PATH)."
        )
        raise BuilderNotFoundError(f"{wanted} {INSTALL_HINT}")
    return builder


def needs_dependency_image(deps_image: str | None, images: list[ImageSpec]) -> bool:
    """Whether a build of ``images`` needs the dependency image: the serving image has a venv of
    its own, so only a build of serving images alone goes without (no images: the deps only)."""
    return bool(deps_image) and not (images and all(image.server for image in images))


def build_images(
    builder: Builder,
    context: Path,
    images: list[ImageSpec],
    *,
    deps_image: str | None,
    offline: bool,
    echo: Callable[[str], None],
    push_to: str | None = None,
    cache_dir: Path | None = None,
) -> BuildReport:
    """Build the dependency image (unless the store has it) and one image per pipeline.

    With ``cache_dir`` (a directory CI keeps between jobs, docker and podman), the dependency
    image is loaded from its file there instead of being rebuilt, and saved there when the file
    is missing; files of older dependency images of the project are removed.

    Raises:
        BuildError: when the builder fails (its output's tail is in the message).
    """
    reused = False
    archive = None
    if deps_image and cache_dir is not None:
        if builder == "buildah":
            echo("kedro-mlops: buildah keeps no image cache file: the cache directory is unused.")
        else:
            archive = cache_dir / archive_name(deps_image)
    needs_deps = needs_dependency_image(deps_image, images)
    if needs_deps:
        if image_exists(builder, deps_image):
            reused = True
            echo(f"kedro-mlops: dependency image {deps_image} is up to date, not rebuilt.")
        elif archive is not None and archive.is_file():
            echo(f"kedro-mlops: loading the dependency image {deps_image} from {archive} ...")
            run_streaming(load_command(builder, archive), echo, what=f"load {archive}")
            reused = True
        else:
            echo(f"kedro-mlops: building the dependency image {deps_image} ...")
            run_streaming(
                build_command(builder, context, "deps", deps_image, offline=offline),
                echo,
                what=f"build the dependency image {deps_image}",
            )
    built: list[str] = []
    for image in images:
        echo(f"kedro-mlops: building {image.reference} (pipeline {image.pipeline}) ...")
        run_streaming(
            build_command(builder, context, image.stage, image.reference, offline=offline),
            echo,
            what=f"build {image.reference}",
        )
        built.append(image.reference)
    if needs_deps and archive is not None and not archive.is_file():
        _save_archive(builder, deps_image, archive, echo)
    pushed: list[str] = []
    for image in images if push_to else []:
        remote = image.pushed_as(push_to or "")
        run_streaming(tag_command(builder, image.reference, remote), echo, what=f"tag {remote}")
        run_streaming(push_command(builder, remote), echo, what=f"push {remote}")
        pushed.append(remote)
    return BuildReport(builder, deps_image, reused, built, pushed)
