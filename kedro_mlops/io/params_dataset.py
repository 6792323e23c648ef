"""A dataset that logs a mapping as parameters of the current MLflow run."""

from __future__ import annotations

from typing import Any

from kedro.io import AbstractDataset

from kedro_mlops.mlflow_run import active_run_id, log_batch, run_params


class ParamsDataset(AbstractDataset[dict, dict]):
    """Save a mapping as parameters of the active run, e.g. the hyper-parameters a search
    chose: ``{"max_iter": 300}`` with ``prefix: best.`` logs ``best.max_iter = 300``. Nested
    mappings are flattened with ``.``; an empty mapping logs nothing. Works with
    ``ParallelRunner`` like :class:`~kedro_mlops.io.ArtifactDataset`. Loading reads the
    parameters back from the run (as strings, as MLflow stores them).

    Example ``catalog.yml`` entry::

        search_params:
          type: kedro_mlops.io.ParamsDataset
          prefix: best.
    """

    def __init__(self, prefix: str = "", metadata: dict[str, Any] | None = None) -> None:
        self._prefix = prefix
        self.metadata = metadata

    def save(self, data: dict[str, Any]) -> None:
        params = flatten(data, self._prefix)
        run_id = active_run_id()
        if not params or not run_id:
            return
        log_batch(run_id, params=params)

    def load(self) -> dict[str, Any]:
        run_id = active_run_id()
        if not run_id:
            return {}
        params = run_params(run_id)
        return {
            key[len(self._prefix) :]: value
            for key, value in params.items()
            if key.startswith(self._prefix)
        }

    def _exists(self) -> bool:
        return bool(self.load())

    def _describe(self) -> dict[str, Any]:
        return {"prefix": self._prefix}


def flatten(data: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """``{"a": {"b": 1}}`` -> ``{"<prefix>a.b": 1}``."""
    flat: dict[str, Any] = {}
    for key, value in data.items():
        if isinstance(value, dict):
            flat.update(flatten(value, f"{prefix}{key}."))
        else:
            flat[f"{prefix}{key}"] = value
    return flat
