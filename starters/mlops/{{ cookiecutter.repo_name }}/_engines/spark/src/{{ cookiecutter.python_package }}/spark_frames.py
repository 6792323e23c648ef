"""The Spark engine's side of ``features.py``: the same checks as Spark aggregations (one
pass over the table when it is valid, the same error messages), and the same features and
scoring applied to Spark DataFrames with ``mapInPandas``.

Every feature is defined once, in ``features.py``: Spark runs those pandas functions on each
batch of rows (Arrow batches), and ``features.py`` travels with the job (pickled by value), so a
cluster's workers need pandas, numpy and scikit-learn but not this project.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterator
from typing import Any

import pandas as pd
from pyspark import cloudpickle
from pyspark.sql import DataFrame
from pyspark.sql import functions as F  # noqa: N812 - pyspark's own name
from pyspark.sql import types as T  # noqa: N812

from . import features as shared
from .features import (
    EXAMPLES,
    ROW_COLUMN,
    check_columns,
    class_count_error,
    id_columns,
    non_numeric_error,
    null_share_error,
    numeric_feature_columns,
    positive_class_error,
    range_error,
)

cloudpickle.register_pickle_by_value(sys.modules[shared.__name__])

# monotonically_increasing_id: the row's index in its partition in the lower 33 bits
_ROW_BITS = 33
_MARK = "_kedro_mlops_row_id"
INTEGRAL = (T.ByteType, T.ShortType, T.IntegerType, T.LongType)
FRACTIONAL = (T.FloatType, T.DoubleType, T.DecimalType)


def _number(data: DataFrame, column: str) -> Any:
    """The column as a double (null where the text is not a number)."""
    return data[column].cast("double")


def _non_numeric(data: DataFrame, column: str) -> Any:
    """Values that are there but are not numbers (a text column only)."""
    if isinstance(data.schema[column].dataType, (*INTEGRAL, *FRACTIONAL)):
        return F.lit(False)
    return data[column].isNotNull() & _number(data, column).isNull()


def _missing(data: DataFrame, column: str) -> Any:
    """What pandas counts as missing: null, and NaN in a floating-point column."""
    if isinstance(data.schema[column].dataType, (T.FloatType, T.DoubleType)):
        return data[column].isNull() | F.isnan(data[column])
    return data[column].isNull()


def _count(condition: Any, name: str) -> Any:
    return F.sum(F.when(condition, 1).otherwise(0)).alias(name)


def check_table(
    data: DataFrame,
    required: list[str],
    numeric: list[str],
    source: str,
    *,
    target: str | None = None,
    positive: str | None = None,
    nullable: list[str] | None = None,
    max_null: float = 1.0,
    ranges: dict[str, list[float]] | None = None,
) -> None:
    """The pandas path's checks, in its order, with its messages, as one Spark aggregation.

    Raises:
        DataValidationError: on the first violated check.
    """
    check_columns(data, required, source)
    ranges = ranges or {}
    nullable = nullable or []
    ranged = [column for column in ranges if column in data.columns]
    aggregates = [F.count(F.lit(1)).alias("rows")]
    aggregates += [
        _count(_non_numeric(data, c), f"bad_{i}") for i, c in enumerate(numeric)
    ]
    aggregates += [
        _count(_missing(data, c), f"null_{i}") for i, c in enumerate(nullable)
    ]
    if target:
        label = data[target].cast("string")
        aggregates += [
            F.countDistinct(label).alias("classes"),
            F.min(label).alias("first"),
            F.max(label).alias("last"),
        ]
    for i, column in enumerate(ranged):
        low, high = ranges[column]
        value = _number(data, column)
        aggregates.append(_count((value < low) | (value > high), f"out_{i}"))
        aggregates.append(_count(_missing(data, column), f"gap_{i}"))
    row = data.agg(*aggregates).collect()[0]

    if row["rows"] == 0:
        shared.check_rows(pd.DataFrame(), source)  # raises: the pandas check words it
    for i, column in enumerate(numeric):
        if row[f"bad_{i}"]:
            bad = data.where(_non_numeric(data, column)).select(
                data[column].cast("string")
            )
            ordered = bad.distinct().orderBy(bad.columns[0]).limit(EXAMPLES)
            examples = [r[0] for r in ordered.collect()]
            raise non_numeric_error(source, column, row[f"bad_{i}"], examples)
    if target:
        if row["classes"] != 2:  # noqa: PLR2004 - binary classification
            labels = data.select(data[target].cast("string").alias("label")).dropna()
            classes = [
                r[0] for r in labels.distinct().orderBy("label").limit(10).collect()
            ]
            raise class_count_error(source, target, row["classes"], classes)
        classes = [
            row["first"],
            row["last"],
        ]  # two classes: the smallest and the largest
        if positive not in classes:
            raise positive_class_error(source, target, str(positive), classes)
    for i, column in enumerate(nullable):
        share = row[f"null_{i}"] / row["rows"]
        if share > max_null:
            raise null_share_error(source, column, share, row[f"null_{i}"], max_null)
    for column, bounds in ranges.items():
        check_columns(data, [column], source)
        i = ranged.index(column)
        if row[f"out_{i}"]:
            examples = _outside(data, column, bounds, row[f"gap_{i}"])
            raise range_error(source, column, row[f"out_{i}"], bounds, examples)


def _outside(data: DataFrame, column: str, bounds: list[float], gaps: int) -> list[Any]:
    """The smallest values outside ``bounds``, as pandas shows them: integers for a column of
    whole numbers without gaps (pandas reads it as int64), floats otherwise."""
    low, high = bounds
    value = _number(data, column)
    outside = data.where((value < low) | (value > high)).select(value.alias("v"))
    values = [r[0] for r in outside.distinct().orderBy("v").limit(EXAMPLES).collect()]
    if gaps == 0 and isinstance(data.schema[column].dataType, INTEGRAL):
        return [int(v) for v in values]
    return values


def _normalised_schema(data: DataFrame, dataset: dict[str, Any]) -> T.StructType:
    """``features.normalise_types``'s output types: numbers as double, categories as text, the
    timestamp as a timestamp; other columns unchanged."""
    types = {column: T.DoubleType() for column in dataset["numeric_features"]}
    types.update({column: T.StringType() for column in dataset["categorical_features"]})
    if dataset.get("timestamp_column"):
        types[dataset["timestamp_column"]] = T.TimestampType()
    return T.StructType(
        [
            T.StructField(field.name, types.get(field.name, field.dataType), True)
            for field in data.schema.fields
        ]
    )


def _quiet(function: Any) -> Any:
    """``function`` with ``features``' warnings silenced (Spark's Python workers would print
    them once per batch; the driver logs the totals)."""

    def batches(chunks: Iterator[pd.DataFrame]) -> Iterator[pd.DataFrame]:
        logging.getLogger(shared.__name__).disabled = True
        for chunk in chunks:
            yield function(chunk)

    return batches


def normalised(data: DataFrame, dataset: dict[str, Any]) -> DataFrame:
    """``features.normalise_types`` on every row."""
    return data.mapInPandas(
        _quiet(lambda chunk: shared.normalise_types(chunk, dataset)),
        _normalised_schema(data, dataset),
    )


def with_features(
    data: DataFrame, dataset: dict[str, Any], features: dict[str, Any]
) -> DataFrame:
    """``features.build_features`` on every row (the input normalised); the zero-denominator
    warning is counted over the whole table, as on pandas."""
    shared.check_features(data.columns, dataset, features)
    derived = [
        column
        for column in numeric_feature_columns(dataset, features)
        if column not in dataset["numeric_features"]
    ]
    schema = T.StructType(
        [
            *data.schema.fields,
            *[T.StructField(column, T.DoubleType(), True) for column in derived],
        ]
    )
    ratios = features.get("ratios") or {}
    if ratios:
        counts = data.agg(
            F.count(F.lit(1)).alias("rows"),
            *[
                _count(data[denominator].cast("double") == 0, name)
                for name, (_numerator, denominator) in ratios.items()
            ],
        ).collect()[0]
        for name, (_numerator, denominator) in ratios.items():
            if counts[name]:
                shared.warn_zero_denominators(
                    name, denominator, counts[name], counts["rows"]
                )
    return data.mapInPandas(
        _quiet(lambda chunk: shared.build_features(chunk, dataset, features)), schema
    )


def key_columns(data: DataFrame, dataset: dict[str, Any]) -> list[str]:
    """What identifies a row: the id column, else every column."""
    return id_columns(dataset) or list(data.columns)


def seeded_hash(data: DataFrame, keys: list[str], seed: int) -> Any:
    """A deterministic pseudo-random number per row, from its keys and ``seed``."""
    return F.xxhash64(F.lit(int(seed)), *[data[column] for column in keys])


def seeded_sample(
    data: DataFrame, max_rows: int | None, seed: int, keys: list[str]
) -> tuple[DataFrame, int]:
    """At most ``max_rows`` rows chosen by a seeded hash of their keys (the same rows on every
    run, whatever the partitioning; Spark keeps ``max_rows`` rows a partition at most), and
    the table's row count."""
    rows = data.count()
    if max_rows is None or rows <= max_rows:
        return data, rows
    return data.orderBy(seeded_hash(data, keys, seed)).limit(int(max_rows)), rows


def to_pandas(data: DataFrame, dataset: dict[str, Any]) -> pd.DataFrame:
    """A (bounded) Spark table as pandas, rows in id order when there is an id column."""
    frame = data.toPandas()
    ids = id_columns(dataset)
    if ids:
        frame = frame.sort_values(ids, kind="stable")
    return frame.reset_index(drop=True)


def with_positions(data: DataFrame) -> DataFrame:
    """Column ``row``: each row's position in the table (0, 1, ...), for a table without ids.

    ``monotonically_increasing_id`` holds a row's partition (upper bits) and its index in that
    partition (lower 33 bits): the position adds the rows of the partitions before it, counted
    in one small aggregation, so no row leaves its partition (a window over the whole table
    would move them all into one).
    """
    marked = data.withColumn(_MARK, F.monotonically_increasing_id())
    partition = F.shiftright(F.col(_MARK), _ROW_BITS)
    counts = marked.groupBy(partition.alias("partition")).count().collect()
    offsets, total = [], 0
    for partition_id, rows in sorted(
        (row["partition"], row["count"]) for row in counts
    ):
        offsets += [F.lit(partition_id), F.lit(total)]
        total += rows
    start = F.create_map(*offsets)[partition] if offsets else F.lit(0)
    index = F.col(_MARK) - F.shiftleft(partition, _ROW_BITS)
    return marked.withColumn(ROW_COLUMN, (start + index).cast("long")).drop(_MARK)


def scored(
    model: Any,
    model_info: dict[str, Any],
    data: DataFrame,
    dataset: dict[str, Any],
    features: dict[str, Any],
    serving: dict[str, Any],
) -> DataFrame:
    """``features.predict`` on every row of a prepared table: the same columns as the pandas
    path (the id or ``row``, prediction, probability, model_version, model_registry)."""
    ids = id_columns(dataset)
    if not ids:
        data = with_positions(data)
    identity = data.schema[ids[0]] if ids else T.StructField(ROW_COLUMN, T.LongType())
    schema = T.StructType(
        [
            T.StructField(identity.name, identity.dataType, True),
            T.StructField("prediction", T.StringType(), True),
            T.StructField("probability", T.DoubleType(), True),
            T.StructField("model_version", T.StringType(), True),
            T.StructField("model_registry", T.StringType(), True),
        ]
    )

    def predict(chunk: pd.DataFrame) -> pd.DataFrame:
        output = shared.predict(model, model_info, chunk, dataset, features, serving)
        if not ids:
            output[ROW_COLUMN] = chunk[ROW_COLUMN].to_numpy()
        output["prediction"] = output["prediction"].astype(str)
        return output

    return data.mapInPandas(_quiet(predict), schema)
