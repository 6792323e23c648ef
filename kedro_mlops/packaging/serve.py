"""``serve/`` of a build context: what the online-serving image carries (its model, its
requirements, kedro-mlops' serving code)."""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from kedro_mlops.config import SERVE_IMAGE
from kedro_mlops.config.serving import (
    ENV_CHALLENGER,
    ENV_FRACTION,
    ENV_ROLLOUT,
    ENV_SCORE_COLUMN,
    ENV_SEED,
)
from kedro_mlops.packaging.errors import PackagingError
from kedro_mlops.packaging.requirements import pin_requirements, requirements_text

if TYPE_CHECKING:
    from kedro_mlops.config import ServingRolloutConfig
    from kedro_mlops.packaging.images import ImageSpec
    from kedro_mlops.packaging.requirements import Pin


CHALLENGER_DIR = "/opt/challenger"  # the serving image's challenger (serving.rollout)


@dataclass(frozen=True)
class ServeModel:
    """The model the serving image carries: a saved directory (copied to ``/opt/model``) and
    what its labels say."""

    bundle: Path
    name: str
    version: str
    run_id: str = ""
    git_sha: str = ""
    model_uri: str = ""
    # serving.rollout: the challenger's saved directory (copied to CHALLENGER_DIR), its version
    # and the rollout's settings
    challenger: Path | None = None
    challenger_version: str = ""
    rollout: ServingRolloutConfig | None = None

    def rollout_environment(self) -> tuple[tuple[str, str], ...]:
        """The serving image's environment naming the rollout (none without a challenger)."""
        if self.challenger is None or self.rollout is None:
            return ()
        return (
            (ENV_ROLLOUT, self.rollout.mode),
            (ENV_CHALLENGER, CHALLENGER_DIR),
            (ENV_FRACTION, f"{self.rollout.fraction:g}"),
            (ENV_SEED, str(self.rollout.seed)),
            (ENV_SCORE_COLUMN, self.rollout.score_column),
        )


# what online inference needs in the serving image, with what these require; no MLflow,
# Evidently, plotting or training-only packages (packaging.serve_requirements adds more)
SERVE_DISTRIBUTIONS = (
    "kedro",
    "scikit-learn",
    "pandas",
    "numpy",
    "fastapi",
    "uvicorn",
    "prometheus-client",
)
# the modules of kedro-mlops the serving image runs (copied: the rest needs MLflow)
SERVE_MODULES = ("__init__.py", "py.typed", "errors.py", "config", "serving")


def serve_context(
    directory: Path,
    servers: list[ImageSpec],
    model: ServeModel | None,
    requirements: list[str],
    *,
    environment: dict[str, str],
    header: str,
) -> list[Pin]:
    """``serve/``: the serving image's requirements, its model and kedro-mlops' serving code.

    Raises:
        PackagingError: when a serving image is asked for without a model.
    """
    if not servers:
        return []
    if model is None:
        raise PackagingError(
            f"The {SERVE_IMAGE!r} image carries a model but none was given: train one "
            "(`kedro run`), pass --model-uri, or leave 'serve' out of packaging.pipelines."
        )
    pins = pin_requirements(requirements, environment=environment, skip=["kedro-mlops"])
    directory.mkdir(parents=True)
    (directory / "requirements.txt").write_text(requirements_text(pins, header), encoding="utf-8")
    shutil.copytree(model.bundle, directory / "model")
    if model.challenger is not None:
        shutil.copytree(model.challenger, directory / "challenger")
    package = Path(__file__).resolve().parent.parent
    for name in SERVE_MODULES:
        source, target = package / name, directory / "kedro_mlops" / name
        if source.is_dir():
            shutil.copytree(source, target, ignore=shutil.ignore_patterns("__pycache__"))
        elif source.exists():
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)
    return pins


def serve_labels(model: ServeModel | None) -> tuple[tuple[str, str], ...]:
    if model is None:
        return ()
    labels = {
        "org.kedro.model.name": model.name,
        "org.kedro.model.version": model.version,
        "org.kedro.model.run_id": model.run_id,
        "org.kedro.model.git_sha": model.git_sha,
        "org.kedro.model.uri": model.model_uri,
        "org.kedro.model.challenger_version": model.challenger_version,
    }
    return tuple((key, value) for key, value in labels.items() if value)
