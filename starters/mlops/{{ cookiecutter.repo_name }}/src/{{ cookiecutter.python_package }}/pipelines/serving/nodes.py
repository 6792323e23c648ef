"""Serving nodes: prepare a new batch exactly like the training data, then predict."""

from __future__ import annotations

from typing import Any

import pandas as pd

from ...features import (
    build_features,
    check_columns,
    check_numeric,
    check_rows,
    id_columns,
    normalise_types,
)


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
