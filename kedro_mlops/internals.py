"""Every private attribute of kedro, kedro-mlflow and MLflow that kedro-mlops relies on, in one
place (ground floor), each with why no public way exists. ``tests/test_internals.py`` fails
loudly when an installed version no longer has one of them.

The libraries are imported inside the functions: importing this module costs nothing.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd
    from mlflow.types import Schema


def package_name(context: Any) -> str:  # noqa: ANN401 - a KedroContext
    """The project's Python package, else its folder's name. ``KedroContext._package_name``: the
    context has no public name for it (``bootstrap_project``'s metadata is not at hand in hooks)."""
    return context._package_name or Path(context.project_path).name


def hook_manager(context: Any) -> Any:  # noqa: ANN401 - a KedroContext, a pluggy manager
    """The session's hook manager (``KedroContext._hook_manager``), ``None`` when absent: the only
    way for a hook to take another plugin's hook out of the running session."""
    return getattr(context, "_hook_manager", None)


def stop_dataset_logging(dataset: Any) -> bool:  # noqa: ANN401 - a kedro-mlflow dataset
    """Stop a kedro-mlflow ``Mlflow*`` dataset logging to MLflow (its ``_logging_activated``
    flag, which kedro-mlflow itself clears for untracked pipelines); whether it was one."""
    if type(dataset).__name__.startswith("Mlflow") and hasattr(dataset, "_logging_activated"):
        dataset._logging_activated = False
        return True
    return False


def describe(dataset: Any) -> dict[str, Any]:  # noqa: ANN401 - a Kedro dataset
    """A Kedro dataset's ``_describe()`` (its constructor arguments, e.g. ``filepath``): kedro
    exposes it only through ``repr``."""
    return dict(dataset._describe() or {})


def save_path(dataset: Any) -> Any:  # noqa: ANN401 - a path-like, or None
    """Where a Kedro file dataset writes its next save: its ``_get_save_path()`` (versioned
    datasets), else its ``_filepath``; ``None`` for a dataset without a file."""
    get_save_path = getattr(dataset, "_get_save_path", None)
    return get_save_path() if callable(get_save_path) else getattr(dataset, "_filepath", None)


def infer_schema(frame: pd.DataFrame) -> Schema:
    """MLflow's column schema of ``frame`` (``mlflow.types.utils._infer_schema``): the public
    ``infer_signature`` wraps it in a model signature and warns about model logging."""
    from mlflow.types.utils import _infer_schema  # noqa: PLC0415

    return _infer_schema(frame)


def set_dataset_schema(dataset: Any, schema: Schema | None) -> None:  # noqa: ANN401
    """Give an MLflow ``PandasDataset`` its schema without MLflow inferring it value by value:
    ``schema`` is a cached property, so the value goes into the instance's ``__dict__``."""
    dataset.__dict__["schema"] = schema


def dataset_entity(dataset: Any) -> Any:  # noqa: ANN401 - MLflow Dataset / entities.Dataset
    """The ``mlflow.entities.Dataset`` of an MLflow dataset (``_to_mlflow_entity``): what
    ``MlflowClient.log_inputs`` takes; ``mlflow.log_input`` does it only for the active run."""
    return dataset._to_mlflow_entity()


def resolve_source(source_class: Any, path: str) -> Any:  # noqa: ANN401 - a DatasetSource
    """``source_class``'s dataset source of ``path``, ``None`` when it cannot resolve it
    (``_can_resolve`` / ``_resolve``: MLflow's registry picks a source the same way, with a
    warning when two match)."""
    return source_class._resolve(path) if source_class._can_resolve(path) else None
