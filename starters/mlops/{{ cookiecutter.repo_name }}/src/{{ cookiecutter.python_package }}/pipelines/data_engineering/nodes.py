"""Data engineering nodes: pure functions of DataFrames and parameters."""

from __future__ import annotations

from typing import Any

import pandas as pd
from sklearn.model_selection import train_test_split

from ...features import (
    EXAMPLES,
    check_columns,
    check_numeric,
    check_rows,
    class_count_error,
    feature_columns,
    id_columns,
    normalise_types,
    null_share_error,
    positive_class_error,
    range_error,
)


def validate_data(
    data: pd.DataFrame, dataset: dict[str, Any], validation: dict[str, Any]
) -> pd.DataFrame:
    """Check the raw training data against the configured schema.

    Checks: required columns and types, the target's values, the share of nulls per feature
    and value ranges. Every error names the file, the column and the offending values.

    Returns:
        The data, unchanged.

    Raises:
        DataValidationError: on the first violated check.
    """
    source = validation["source"]
    target = dataset["target"]
    numeric = list(dataset["numeric_features"])
    categorical = list(dataset["categorical_features"])
    required = [*id_columns(dataset), target, *numeric, *categorical]
    if dataset.get("timestamp_column"):
        required.append(dataset["timestamp_column"])
    check_columns(data, required, source)
    check_rows(data, source)
    check_numeric(data, numeric, source)

    labels = data[target].dropna().astype(str)
    classes = sorted(labels.unique())
    positive = str(dataset["positive_class"])
    if len(classes) != 2:  # noqa: PLR2004 - binary classification
        raise class_count_error(source, target, len(classes), classes)
    if positive not in classes:
        raise positive_class_error(source, target, positive, classes)

    max_null = float(validation.get("max_null_fraction", 1.0))
    for column in numeric + categorical:
        share = float(data[column].isna().mean())
        if share > max_null:
            nulls = int(data[column].isna().sum())
            raise null_share_error(source, column, share, nulls, max_null)

    for column, bounds in (validation.get("ranges") or {}).items():
        check_columns(data, [column], source)
        low, high = bounds
        values = pd.to_numeric(data[column], errors="coerce")
        outside = values[(values < low) | (values > high)]
        if len(outside):
            examples = sorted(outside.unique().tolist())[:EXAMPLES]
            raise range_error(source, column, len(outside), bounds, examples)
    return data


def clean_data(data: pd.DataFrame, dataset: dict[str, Any]) -> pd.DataFrame:
    """Drop unlabelled rows and rows repeating an ID, and normalise column types."""
    target = dataset["target"]
    clean = data.dropna(subset=[target])
    if id_columns(dataset):  # without IDs, equal rows may be different people
        clean = clean.drop_duplicates(subset=id_columns(dataset), keep="last")
    clean = normalise_types(clean, dataset)
    clean[target] = clean[target].astype(str)
    return clean.reset_index(drop=True)


def split_data(
    data: pd.DataFrame, dataset: dict[str, Any], split: dict[str, Any]
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Seeded train/test split, stratified on the target when asked."""
    stratify = data[dataset["target"]] if split.get("stratify", True) else None
    train, test = train_test_split(
        data,
        test_size=split["test_size"],
        random_state=split["random_state"],
        stratify=stratify,
    )
    return train.reset_index(drop=True), test.reset_index(drop=True)


def snapshot_reference(
    train: pd.DataFrame, dataset: dict[str, Any], features: dict[str, Any]
) -> pd.DataFrame:
    """The training features and target as the model saw them, for drift monitoring."""
    columns = id_columns(dataset)
    if dataset.get("timestamp_column"):
        columns.append(dataset["timestamp_column"])
    columns += feature_columns(dataset, features) + [dataset["target"]]
    return train[columns].copy()
