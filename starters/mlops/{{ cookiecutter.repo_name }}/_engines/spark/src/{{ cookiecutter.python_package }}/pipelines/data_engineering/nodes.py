"""Data engineering nodes on Spark DataFrames: the pandas project's checks, cleaning, features
and split, run where the data is. Functions of DataFrames and parameters."""

from __future__ import annotations

from typing import Any

from pyspark.sql import DataFrame
from pyspark.sql import functions as F  # noqa: N812 - pyspark's own name

from ...features import feature_columns, id_columns
from ...spark_frames import (
    check_table,
    key_columns,
    normalised,
    seeded_hash,
    seeded_sample,
    with_features,
)

ORDER = "__order"
BUCKETS = 1_000_000  # split resolution: a row's share of the hash space


def validate_data(
    data: DataFrame, dataset: dict[str, Any], validation: dict[str, Any]
) -> DataFrame:
    """Check the raw training data against the configured schema, in one Spark pass.

    Checks: required columns and types, the target's values, the share of nulls per feature
    and value ranges. Every error names the file, the column and the offending values, in
    the same words as the pandas project.

    Returns:
        The data, unchanged.

    Raises:
        DataValidationError: on the first violated check.
    """
    numeric = list(dataset["numeric_features"])
    categorical = list(dataset["categorical_features"])
    required = [*id_columns(dataset), dataset["target"], *numeric, *categorical]
    if dataset.get("timestamp_column"):
        required.append(dataset["timestamp_column"])
    check_table(
        data,
        required,
        numeric,
        validation["source"],
        target=dataset["target"],
        positive=str(dataset["positive_class"]),
        nullable=numeric + categorical,
        max_null=float(validation.get("max_null_fraction", 1.0)),
        ranges=validation.get("ranges") or {},
    )
    return data


def clean_data(data: DataFrame, dataset: dict[str, Any]) -> DataFrame:
    """Drop unlabelled rows and rows repeating an ID (the last one in the file is kept), and
    normalise column types (``features.normalise_types``)."""
    target = dataset["target"]
    clean = data.where(data[target].isNotNull())
    ids = id_columns(dataset)
    if ids:  # without IDs, equal rows may be different people
        from pyspark.sql import Window  # noqa: PLC0415

        clean = clean.withColumn(ORDER, F.monotonically_increasing_id())
        latest = Window.partitionBy(*ids).orderBy(F.col(ORDER).desc())
        clean = (
            clean.withColumn("__rank", F.row_number().over(latest))
            .where(F.col("__rank") == 1)
            .drop("__rank", ORDER)
        )
    clean = clean.withColumn(target, clean[target].cast("string"))
    return normalised(clean, dataset)


def build_features(
    data: DataFrame, dataset: dict[str, Any], features: dict[str, Any]
) -> DataFrame:
    """Add the configured derived features (``features.build_features`` on every row)."""
    return with_features(data, dataset, features)


def split_data(
    data: DataFrame, dataset: dict[str, Any], split: dict[str, Any]
) -> tuple[DataFrame, DataFrame]:
    """Deterministic train/test split: a row is in the test set when a seeded hash of its ID
    (of all its columns without an ID column) falls in the first ``test_size`` of the hash
    space: the same rows on every run, on any cluster, without a shuffle. Not stratified: on
    large tables the classes' shares come out the same in both sets."""
    bucket = F.pmod(
        seeded_hash(data, key_columns(data, dataset), split["random_state"]),
        F.lit(BUCKETS),
    )
    in_test = bucket < F.lit(int(float(split["test_size"]) * BUCKETS))
    return data.where(~in_test), data.where(in_test)


def snapshot_reference(
    train: DataFrame,
    dataset: dict[str, Any],
    features: dict[str, Any],
    reference: dict[str, Any],
) -> DataFrame:
    """The training features and target as the model saw them, for drift monitoring: a seeded
    sample of at most ``reference.max_rows`` rows (every row of a smaller table)."""
    columns = id_columns(dataset)
    if dataset.get("timestamp_column"):
        columns.append(dataset["timestamp_column"])
    columns += feature_columns(dataset, features) + [dataset["target"]]
    sample, _rows = seeded_sample(
        train.select(*columns),
        reference.get("max_rows"),
        reference.get("random_state", 42),
        key_columns(train, dataset),
    )
    return sample
