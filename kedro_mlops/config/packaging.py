"""``packaging:`` of ``mlops.yml``."""

from __future__ import annotations

import re
from typing import Literal

from pydantic import Field, field_validator

from kedro_mlops.config.base import DEFAULT_BASE_IMAGE, SERVE_IMAGE, Section

# Paths under site-packages removed from the images' venv after install: test suites shipped
# inside wheels, headers and Cython sources for building extensions, notebooks, and UI assets
# that pipelines never load (MLflow's web UI, JupyterLab's plotly extension). ``find -path``
# patterns: ``*`` also matches ``/``.
DEFAULT_PRUNE = (
    "numpy/tests",
    "numpy/*/tests",
    "pandas/tests",
    "scipy/*/tests",
    "sklearn/tests",
    "sklearn/*/tests",
    "statsmodels/tests",
    "statsmodels/*/tests",
    "pyarrow/tests",
    "matplotlib/tests",
    "pyarrow/include",
    "pyarrow/src",
    "*.pyx",
    "*.pxd",
    "*.ipynb",
    "jupyterlab_plotly",
    "mlflow/server/js",
)
_PRUNE_PATTERN = re.compile(r"^[A-Za-z0-9_.*?/+-]+$")


class PackagingConfig(Section):
    """``kedro mlops package``: one container image per pipeline, and ``serve`` (the REST API
    with the model inside). CLI options override these keys."""

    pipelines: list[str] = Field(
        default_factory=lambda: ["data_engineering", "data_science", "serving", SERVE_IMAGE],
        description=f"The pipelines to make images of; {SERVE_IMAGE!r}: the REST API with the "
        "model inside (`kedro mlops serve` in an image).",
    )
    output: str = Field(
        "dist/mlops", description="The build context (relative to the project root)."
    )
    base_image: str = Field(DEFAULT_BASE_IMAGE, description="The image every image starts from.")
    builder: Literal["auto", "docker", "podman", "buildah"] = Field(
        "auto",
        description="auto: a responding Docker engine, else podman, else buildah.",
    )
    tag: str | None = Field(None, description="The images' tag; null: the project's version.")
    template: str | None = Field(
        None,
        description="Your own Jinja Dockerfile template instead of the built-in one (path from "
        "the project root).",
    )
    wheels: bool = Field(
        False, description="Download every wheel into the context: the build needs no network."
    )
    push: str | None = Field(
        None, description="A registry to push the images to after building, e.g. ghcr.io/acme."
    )
    bytecode: bool = Field(
        False,
        description="Compile .pyc into the images: faster container start, bigger images.",
    )
    prune: list[str] = Field(
        default_factory=lambda: list(DEFAULT_PRUNE),
        description="Removed from the images' site-packages after install (find -path "
        "patterns, * matches /). []: keep every file.",
    )
    serve_requirements: list[str] = Field(
        default_factory=list,
        description="The serving image installs only what online inference needs; more "
        "distributions here (e.g. [xgboost] for a model that needs it).",
    )

    @field_validator("prune")
    @classmethod
    def _safe_patterns(cls, patterns: list[str]) -> list[str]:
        for pattern in patterns:
            segments = pattern.split("/")
            if (
                not _PRUNE_PATTERN.fullmatch(pattern)
                or pattern.startswith("/")
                or ".." in segments
                or not pattern.strip("*?/")
            ):
                raise ValueError(
                    f"{pattern!r} is not a path pattern under site-packages; use letters, "
                    "digits, _ . - + / and the wildcards * ?, e.g. 'pandas/tests' or '*.pyx'"
                )
        return patterns
