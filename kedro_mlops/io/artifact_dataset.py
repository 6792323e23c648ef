"""A dataset that saves through any Kedro dataset and logs the file to the current MLflow run."""

from __future__ import annotations

from pathlib import PurePath
from typing import Any

from kedro.io import AbstractDataset
from kedro.io.core import parse_dataset_definition

from kedro_mlops import internals
from kedro_mlops.mlflow_run import active_run_id, log_artifact


class ArtifactDataset(AbstractDataset[Any, Any]):
    """Wrap a file dataset; after each save, log the file as an artifact of the active run.

    Unlike kedro-mlflow's ``MlflowArtifactDataset`` (a class built at runtime), instances pickle,
    so they work with ``ParallelRunner``; in worker processes the run is found through
    ``MLFLOW_RUN_ID``, which kedro-mlops exports for the duration of a run. Data with nothing in
    it (a table without rows, an empty mapping, e.g. the search results of a run without a
    search) is saved but not logged.

    Example ``catalog.yml`` entry::

        roc_curve:
          type: kedro_mlops.io.ArtifactDataset
          artifact_path: evaluation
          dataset:
            type: matplotlib.MatplotlibDataset
            filepath: data/08_reporting/roc_curve.png
    """

    def __init__(
        self,
        dataset: str | dict[str, Any],
        artifact_path: str | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> None:
        config = {"type": dataset} if isinstance(dataset, str) else dict(dataset)
        dataset_class, dataset_args = parse_dataset_definition(config=config)
        self._dataset = dataset_class(**dataset_args)
        self._artifact_path = artifact_path
        self.metadata = metadata

    def load(self) -> Any:
        return self._dataset.load()

    def save(self, data: Any) -> None:
        self._dataset.save(data)
        run_id = active_run_id()
        path = self._local_path()
        if run_id and path is not None and not _empty(data):
            log_artifact(run_id, path, self._artifact_path)

    def _exists(self) -> bool:
        return self._dataset.exists()

    def _describe(self) -> dict[str, Any]:
        return {"dataset": internals.describe(self._dataset), "artifact_path": self._artifact_path}

    def _local_path(self) -> str | None:
        path = internals.save_path(self._dataset)
        return str(PurePath(path)) if path is not None else None


def _empty(data: Any) -> bool:
    """A table without rows or an empty mapping/sequence (not an image or a model)."""
    if isinstance(data, (dict, list, tuple)):
        return not data
    length = getattr(data, "shape", None)
    return bool(length) and length[0] == 0
