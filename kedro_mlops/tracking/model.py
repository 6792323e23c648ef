"""What the pipeline model logged by kedro-mlflow carries."""

from __future__ import annotations

from importlib import metadata
from pathlib import Path
from typing import Any

# The distributions a logged pipeline model needs to load and predict. Listing them (pinned to the
# running versions) skips MLflow's requirement inference, which imports the model in a subprocess
# and misses kedro and the project package anyway.
MODEL_DISTRIBUTIONS = (
    "kedro",
    "kedro-datasets",
    "kedro-mlflow",
    "mlflow",
    "scikit-learn",
    "pandas",
    "numpy",
    "pyarrow",
    "cloudpickle",
)


def pinned_requirements(distributions: tuple[str, ...] = MODEL_DISTRIBUTIONS) -> list[str]:
    """``name==version`` for each installed distribution of ``distributions``."""
    pins = []
    for name in distributions:
        try:
            pins.append(f"{name}=={metadata.version(name)}")
        except metadata.PackageNotFoundError:
            continue
    return pins


def model_log_kwargs(package_dir: Path, name: str = "model") -> dict[str, Any]:
    """``log_model_kwargs`` for ``pipeline_ml_factory``.

    The project package travels with the model (``code_paths``), so ``mlflow.pyfunc.load_model``
    works wherever the requirements are installed, without installing the project.

    Args:
        package_dir: the project's package directory (``src/<package>``).
        name: the model's name inside the run.
    """
    return {
        "name": name,
        "signature": "auto",
        "code_paths": [str(Path(package_dir))],
        "pip_requirements": pinned_requirements(),
    }
