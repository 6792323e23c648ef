"""Serving nodes: prepare a new batch exactly like the training data, then predict."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from sklearn.pipeline import Pipeline

from ..data_engineering.nodes import (
    ROW_COLUMN,
    build_features,
    check_columns,
    check_numeric,
    check_rows,
    id_columns,
    normalise_types,
)
from ..data_science.nodes import model_input, positive_probability


def prepare_batch(
    batch: pd.DataFrame,
    dataset: dict[str, Any],
    features: dict[str, Any],
    serving: dict[str, Any],
) -> pd.DataFrame:
    """Check a batch like the training data (columns, rows, numbers) and build the same
    features."""
    source = serving["source"]
    required = [
        *id_columns(dataset),
        *dataset["numeric_features"],
        *dataset["categorical_features"],
    ]
    if dataset.get("timestamp_column"):
        required.append(dataset["timestamp_column"])
    check_columns(batch, required, source)
    check_rows(batch, source)
    check_numeric(batch, list(dataset["numeric_features"]), source)
    prepared = build_features(normalise_types(batch, dataset), dataset, features)
    return prepared.reset_index(drop=True)


def predict(
    model: Pipeline,
    model_info: dict[str, Any],
    batch: pd.DataFrame,
    dataset: dict[str, Any],
    features: dict[str, Any],
    serving: dict[str, Any],
) -> pd.DataFrame:
    """One row per input row: id, predicted class, positive-class probability and the model.

    The id is ``dataset.id_column``'s value or, with no id column, the row's position in
    the batch (column ``row``: 0, 1, ...). ``model_version`` is the fitted model's content
    hash; ``model_registry`` names the registered version (``<name>/<version>``) when the
    batch is scored with ``serving.model_uri`` from ``mlops.yml``, and is empty otherwise.
    """
    positive = model_info["positive_class"]
    probability = positive_probability(
        model, model_input(batch, dataset, features), positive
    )
    ids = id_columns(dataset)
    identity = (
        {ids[0]: batch[ids[0]].to_numpy()}
        if ids
        else {ROW_COLUMN: np.arange(len(batch))}
    )
    return pd.DataFrame(
        {
            **identity,
            "prediction": np.where(
                probability >= float(serving["threshold"]),
                positive,
                model_info["negative_class"],
            ),
            "probability": probability,
            "model_version": model_info["version"],
            "model_registry": model_info.get("registry", ""),
        }
    )
