"""Serving nodes: prepare a batch exactly like the training data, then predict.

``prepare_batch`` (pandas) is what the logged MLflow model runs on the rows of a request;
``prepare_table`` and ``predict_table`` do the same to a whole table on Spark, with the same
checks, features and scoring functions.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
from pyspark.sql import DataFrame

from ...features import (
    build_features,
    check_columns,
    check_numeric,
    check_rows,
    id_columns,
    normalise_types,
)
from ...spark_frames import check_table, normalised, scored, with_features


def required_columns(dataset: dict[str, Any]) -> list[str]:
    """The columns a batch must have (the target excepted)."""
    required = [
        *id_columns(dataset),
        *dataset["numeric_features"],
        *dataset["categorical_features"],
    ]
    if dataset.get("timestamp_column"):
        required.append(dataset["timestamp_column"])
    return required


def prepare_batch(
    batch: pd.DataFrame,
    dataset: dict[str, Any],
    features: dict[str, Any],
    serving: dict[str, Any],
) -> pd.DataFrame:
    """Check a batch like the training data (columns, rows, numbers) and build the same
    features."""
    source = serving["source"]
    check_columns(batch, required_columns(dataset), source)
    check_rows(batch, source)
    check_numeric(batch, list(dataset["numeric_features"]), source)
    prepared = build_features(normalise_types(batch, dataset), dataset, features)
    return prepared.reset_index(drop=True)


def prepare_table(
    batch: DataFrame,
    dataset: dict[str, Any],
    features: dict[str, Any],
    serving: dict[str, Any],
) -> DataFrame:
    """``prepare_batch`` on a Spark table: the same checks (one pass) and features."""
    numeric = list(dataset["numeric_features"])
    check_table(batch, required_columns(dataset), numeric, serving["source"])
    return with_features(normalised(batch, dataset), dataset, features)


def predict_table(
    model: Any,
    model_info: dict[str, Any],
    batch: DataFrame,
    dataset: dict[str, Any],
    features: dict[str, Any],
    serving: dict[str, Any],
) -> DataFrame:
    """``features.predict`` on every row of a prepared Spark table."""
    return scored(model, model_info, batch, dataset, features, serving)
