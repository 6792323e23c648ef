"""Data engineering nodes: pure functions of DataFrames and parameters."""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
import pandas as pd
from sklearn.model_selection import train_test_split

logger = logging.getLogger(__name__)

# with no ``dataset.id_column``, rows are identified by their position in the batch (0, 1, ...)
ROW_COLUMN = "row"


class DataValidationError(ValueError):
    """The data does not match what ``conf/`` says it should look like.

    ``exit_code`` 2 (bad input): ``kedro run`` ends with the message and the node, without a
    traceback (kept in info.log).
    """

    exit_code = 2


def id_columns(dataset: dict[str, Any]) -> list[str]:
    """The ID column, when ``dataset.id_column`` names one."""
    return [dataset["id_column"]] if dataset.get("id_column") else []


def check_rows(data: pd.DataFrame, source: str) -> None:
    """Raise if the file has a header but no rows."""
    if data.empty:
        raise DataValidationError(f"{source}: the file has no rows")


def feature_columns(dataset: dict[str, Any], features: dict[str, Any]) -> list[str]:
    """All model input columns: configured numeric and categorical features plus derived ones."""
    return numeric_feature_columns(dataset, features) + list(
        dataset["categorical_features"]
    )


def numeric_feature_columns(
    dataset: dict[str, Any], features: dict[str, Any]
) -> list[str]:
    """Configured numeric features followed by the derived numeric ones."""
    derived = list((features.get("ratios") or {}).keys())
    if dataset.get("timestamp_column"):
        derived += [
            f"{dataset['timestamp_column']}_{part}"
            for part in features.get("timestamp_parts") or []
        ]
    return list(dataset["numeric_features"]) + derived


def check_columns(data: pd.DataFrame, required: list[str], source: str) -> None:
    """Raise if a required column is missing, naming the file and the columns."""
    missing = [column for column in required if column not in data.columns]
    if missing:
        raise DataValidationError(
            f"{source}: missing column(s) {missing} configured in conf/base/parameters.yml; "
            f"the file has {list(data.columns)}"
        )


def check_numeric(data: pd.DataFrame, columns: list[str], source: str) -> None:
    """Raise if a numeric column holds values that are not numbers."""
    for column in columns:
        values = data[column]
        if pd.api.types.is_numeric_dtype(values):
            continue
        coerced = pd.to_numeric(values, errors="coerce")
        bad = values[coerced.isna() & values.notna()]
        if len(bad):
            raise DataValidationError(
                f"{source}: column {column!r} should be numeric but has {len(bad)} "
                f"non-numeric value(s), e.g. {sorted(map(str, bad.unique()))[:5]}"
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
        raise DataValidationError(
            f"{source}: target column {target!r} must hold exactly 2 classes for a binary "
            f"classifier, found {len(classes)}: {classes[:10]}"
        )
    if positive not in classes:
        raise DataValidationError(
            f"{source}: positive_class {positive!r} does not occur in target column "
            f"{target!r}; its values are {classes}"
        )

    max_null = float(validation.get("max_null_fraction", 1.0))
    for column in numeric + categorical:
        share = float(data[column].isna().mean())
        if share > max_null:
            raise DataValidationError(
                f"{source}: column {column!r} is {share:.0%} null "
                f"({int(data[column].isna().sum())} rows), above max_null_fraction "
                f"{max_null:.0%}"
            )

    for column, (low, high) in (validation.get("ranges") or {}).items():
        check_columns(data, [column], source)
        values = pd.to_numeric(data[column], errors="coerce")
        outside = values[(values < low) | (values > high)]
        if len(outside):
            raise DataValidationError(
                f"{source}: column {column!r} has {len(outside)} value(s) outside "
                f"[{low}, {high}], e.g. {sorted(outside.unique().tolist())[:5]}"
            )
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


def normalise_types(data: pd.DataFrame, dataset: dict[str, Any]) -> pd.DataFrame:
    """Numbers as float, categories as stripped lower-case strings, the timestamp as datetime."""
    data = data.copy()
    for column in dataset["numeric_features"]:
        data[column] = pd.to_numeric(data[column], errors="coerce").astype("float64")
    for column in dataset["categorical_features"]:
        text = data[column].astype("string").str.strip().str.lower()
        data[column] = text.astype(object).where(text.notna(), np.nan)
    timestamp = dataset.get("timestamp_column")
    if timestamp:
        data[timestamp] = pd.to_datetime(data[timestamp], errors="coerce")
    return data


def build_features(
    data: pd.DataFrame, dataset: dict[str, Any], features: dict[str, Any]
) -> pd.DataFrame:
    """Add the configured derived features (timestamp parts, ratios).

    A ratio is missing where its denominator is 0 or missing (a warning says in how many rows);
    the model's numeric imputer fills it with the training median.
    """
    data = data.copy()
    timestamp = dataset.get("timestamp_column")
    if timestamp:
        stamps = pd.to_datetime(data[timestamp], errors="coerce")
        for part in features.get("timestamp_parts") or []:
            data[f"{timestamp}_{part}"] = getattr(stamps.dt, part).astype("float64")
    for name, (numerator, denominator) in (features.get("ratios") or {}).items():
        denominator_values = data[denominator].astype("float64")
        zeros = int((denominator_values == 0).sum())
        if zeros:
            logger.warning(
                "Ratio feature %r: %s is 0 in %d of %d rows; the ratio is missing there "
                "(the model's imputer fills it with the training median)",
                name,
                denominator,
                zeros,
                len(data),
            )
        data[name] = data[numerator].astype("float64") / denominator_values.replace(
            0, np.nan
        )
    return data


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
