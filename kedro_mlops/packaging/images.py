"""Names of the images ``kedro mlops package`` builds: one per pipeline, all pure functions."""

from __future__ import annotations

import re
from dataclasses import dataclass

from kedro_mlops.config import SERVE_IMAGE, SERVE_PORT
from kedro_mlops.packaging.errors import PackagingError

# one path component of an image reference (distribution spec), e.g. "bar-demo-data_science"
_COMPONENT = re.compile(r"^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$")
_TAG = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$")
# a registry host[:port] and optional namespace path, e.g. "ghcr.io/acme" or "localhost:5000"
_REGISTRY = re.compile(r"^[A-Za-z0-9.-]+(?::[0-9]+)?(?:/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*$")


@dataclass(frozen=True)
class ImageSpec:
    """One image: the pipeline it runs, its name, tag and the Dockerfile stage that builds it."""

    pipeline: str
    name: str
    tag: str
    http_port: int | None = None
    server: bool = False  # the online-serving image (packaging.pipelines: serve)

    @property
    def reference(self) -> str:
        """``name:tag``, what ``docker run`` takes."""
        return f"{self.name}:{self.tag}"

    @property
    def stage(self) -> str:
        """The Dockerfile stage (``--target``) of this image."""
        return "serve" if self.server else f"pipeline-{self.name_part}"

    @property
    def name_part(self) -> str:
        """The pipeline's part of the image name."""
        return slug(self.pipeline)

    def pushed_as(self, registry: str) -> str:
        """The reference under ``registry`` (``ghcr.io/acme/bar-demo-serving:0.1``)."""
        return f"{registry.rstrip('/')}/{self.reference}"


def slug(text: str) -> str:
    """A lower-case image-name component made of ``text`` (``"Bar Demo"`` -> ``"bar-demo"``).

    Characters an image name cannot hold become ``-``; leading and trailing separators go
    (``__default__`` -> ``default``).
    """
    lowered = re.sub(r"[^a-z0-9._-]+", "-", text.strip().lower())
    lowered = re.sub(r"-{2,}", "-", lowered)
    return re.sub(r"^[._-]+|[._-]+$", "", lowered)


def image_name(project: str, pipeline: str) -> str:
    """``<project>-<pipeline>``, checked against the image reference grammar.

    Raises:
        PackagingError: when nothing valid is left of the names.
    """
    name = f"{slug(project)}-{slug(pipeline)}"
    if not _COMPONENT.match(name) or not slug(project) or not slug(pipeline):
        raise PackagingError(
            f"Cannot make an image name of project {project!r} and pipeline {pipeline!r} "
            f"(got {name!r}); rename the pipeline with letters, digits, '_' or '-'."
        )
    return name


def image_tag(version: str, explicit: str | None = None) -> str:
    """The tag: ``explicit`` (``--tag``) as given, else the project version made tag-safe.

    Raises:
        PackagingError: if ``explicit`` is not a valid tag.
    """
    if explicit is not None:
        if not _TAG.match(explicit):
            raise PackagingError(
                f"Invalid image tag {explicit!r}: use up to 128 letters, digits, '_', '.' or '-', "
                "not starting with '.' or '-' (e.g. --tag 1.2.0)."
            )
        return explicit
    tag = re.sub(r"[^A-Za-z0-9_.-]", "-", version).lstrip(".-") or "latest"
    return tag[:128]


def check_registry(registry: str) -> str:
    """``registry`` without a trailing ``/``, if it looks like ``host[:port][/namespace]``.

    Raises:
        PackagingError: for anything else (a scheme, a tag, upper-case path).
    """
    value = registry.strip().rstrip("/")
    if not _REGISTRY.match(value):
        raise PackagingError(
            f"Invalid registry {registry!r} for --push / packaging.push: give a host and an "
            "optional namespace, e.g. 'ghcr.io/acme' or 'localhost:5000', without 'https://'."
        )
    return value


def plan_images(
    project: str,
    pipelines: list[str],
    tag: str,
    *,
    http_ports: dict[str, int] | None = None,
) -> list[ImageSpec]:
    """One :class:`ImageSpec` per pipeline, in the order given; ``serve`` is the serving image
    (HTTP on :data:`~kedro_mlops.config.SERVE_PORT`).

    Raises:
        PackagingError: if no pipeline is given or two pipelines give the same image name.
    """
    if not pipelines:
        raise PackagingError(
            "No pipeline to package: list some under packaging.pipelines in mlops.yml or pass "
            "--pipeline NAME."
        )
    ports = http_ports or {}
    images: list[ImageSpec] = []
    seen: dict[str, str] = {}
    for pipeline in dict.fromkeys(pipelines):  # keep order, drop repeats
        name = image_name(project, pipeline)
        if name in seen:
            raise PackagingError(
                f"Pipelines {seen[name]!r} and {pipeline!r} give the same image name {name!r}; "
                "rename one of them."
            )
        seen[name] = pipeline
        server = pipeline == SERVE_IMAGE
        port = ports.get(pipeline, SERVE_PORT if server else None)
        images.append(
            ImageSpec(pipeline=pipeline, name=name, tag=tag, http_port=port, server=server)
        )
    return images
