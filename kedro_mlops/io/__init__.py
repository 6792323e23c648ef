"""Kedro datasets of kedro-mlops (use them in ``catalog.yml`` as ``kedro_mlops.io.<Name>``)."""

from __future__ import annotations

from kedro_mlops.io.artifact_dataset import ArtifactDataset
from kedro_mlops.io.params_dataset import ParamsDataset

__all__ = ["ArtifactDataset", "ParamsDataset"]
