"""Drift checks on Spark DataFrames without collecting them.

Spark computes, per column and side, in a few passes over the data: the row count, the non-null
count, approximate distinct counts, ``QUANTILES`` approximate quantiles (numerical columns) and
the value counts (categorical and few-valued columns). The tests are then evaluated on these
aggregates with Evidently's own test functions, fed with *proxies*, series that have the
aggregates' distribution:

- ``wasserstein`` (numerical, the default above 1000 reference rows): the ``QUANTILES`` quantiles
  at the midpoints ``(i + 0.5) / QUANTILES`` of each side; the normed Wasserstein distance of two
  distributions is the mean gap between their quantile functions, divided by the reference's
  standard deviation: the proxies give it within the quantiles' approximation.
- ``jensenshannon`` on categories or on at most 20 distinct numbers (the default for categorical
  columns above 1000 reference rows; Evidently compares the value shares): the value counts, scaled
  to at most ``PROXY_ROWS`` rows a side (shares kept within ``0.5 / PROXY_ROWS``).
- any other test (``ks``, ``chisquare``, ``z`` below 1000 reference rows, or a configured one):
  their p-values depend on the rows themselves, so they run on a seeded random sample of at most
  ``SAMPLE_ROWS`` rows a side, which is every row when a side has fewer: the verdict is then
  the pandas path's exactly.

Nothing here imports pyspark: the frames carry their own functions (``frame.sparkSession``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from kedro_mlops.frames import is_spark
from kedro_mlops.monitoring.columns import CheckInputError, ColumnPair, Kind
from kedro_mlops.monitoring.drift import BINARY, FEW_VALUES, SMALL_REFERENCE_ROWS, Methods

if TYPE_CHECKING:
    import pandas as pd

QUANTILES = 1000  # quantile proxies a numerical column and side
QUANTILE_ERROR = 1e-4  # approxQuantile's relative error (in rank)
PROXY_ROWS = 200_000  # value-count proxies: at most this many rows a side
SAMPLE_ROWS = 100_000  # tests that need rows: a seeded sample of at most this many a side
SAMPLE_SEED = 42
COUNT_BINS = 20  # Evidently bins numbers by value counts up to this many distinct values
AGGREGATE_METHODS = frozenset({"wasserstein", "jensenshannon"})
HOW = {
    "quantiles": f"{QUANTILES} approximate quantiles a side, computed in Spark",
    "counts": "value counts computed in Spark",
    "sample": f"a seeded sample of at most {SAMPLE_ROWS} rows a side",
}


def _functions() -> Any:  # noqa: ANN401
    from pyspark.sql import functions  # noqa: PLC0415 - only for Spark frames

    return functions


def schema_frame(frame: Any) -> pd.DataFrame:  # noqa: ANN401
    """An empty pandas frame with ``frame``'s columns and dtypes (a Spark frame's schema)."""
    return frame.limit(0).toPandas() if is_spark(frame) else frame.iloc[:0]


@dataclass
class SparkPairs:
    """What a Spark check hands to the evaluation: pairs of proxies, the methods chosen from
    the true counts, the row counts, the untested columns and how each column was summarised."""

    pairs: list[ColumnPair]
    methods: Methods
    rows: dict[str, int]
    skipped: dict[str, str] = field(default_factory=dict)
    summaries: dict[str, str] = field(default_factory=dict)


def as_spark(frame: Any, like: Any) -> Any:  # noqa: ANN401
    """``frame`` as a Spark DataFrame of ``like``'s session (a pandas side is converted)."""
    return frame if is_spark(frame) else like.sparkSession.createDataFrame(frame)


def spark_pairs(
    reference: Any,  # noqa: ANN401
    current: Any,  # noqa: ANN401
    kinds: dict[str, Kind],
    methods: Methods,
    *,
    names: tuple[str, str] = ("reference", "current"),
    min_rows: int = 0,
    role: str = "feature",
) -> SparkPairs:
    """The column pairs of ``kinds`` (proxies, see the module) and the methods to test them
    with. One side may be pandas (converted to Spark).

    Raises:
        CheckInputError: a column is missing, or a side has fewer than ``min_rows`` rows.
    """
    like = reference if is_spark(reference) else current
    sides = (as_spark(reference, like), as_spark(current, like))
    for frame, name in zip(sides, names, strict=True):
        missing = [column for column in kinds if column not in frame.columns]
        if missing:
            raise CheckInputError(
                f"column(s) {missing} missing from {name} (it has {list(frame.columns)[:20]})"
            )
    stats = [_side_stats(frame, kinds) for frame in sides]
    rows = {"reference": stats[0]["rows"], "current": stats[1]["rows"]}
    for side, name in zip(stats, names, strict=True):
        if side["rows"] < min_rows:
            raise CheckInputError(
                f"{name} has {side['rows']} row(s); a drift check needs at least {min_rows} "
                "(monitoring.min_rows)"
            )
    result = SparkPairs(pairs=[], methods=methods, rows=rows)
    configured = {"numerical": methods.num_method, "categorical": methods.cat_method}
    for column, kind in kinds.items():
        counts = (stats[0]["present"][column], stats[1]["present"][column])
        empty = [name for name, count in zip(names, counts, strict=True) if count == 0]
        if empty:
            result.skipped[column] = f"no values in {' and '.join(empty)} (all missing)"
            continue
        method = (methods.per_column_method or {}).get(column) or configured[kind]
        distinct = max(stats[0]["distinct"][column], stats[1]["distinct"][column])
        default = None
        if method is None:
            default = method = _default_method(sides, column, kind, counts[0], distinct)
        how = _how(method, kind, distinct)
        result.summaries[column] = HOW[how]
        build = {"quantiles": _quantile_proxies, "counts": _count_proxies, "sample": _sample}[how]
        reference_values, current_values = (build(frame, column, kind) for frame in sides)
        result.pairs.append(
            ColumnPair(column, kind, reference_values, current_values, role, default)
        )
    return result


def _side_stats(frame: Any, kinds: dict[str, Kind]) -> dict[str, Any]:  # noqa: ANN401
    """Rows, non-null (finite) values and approximate distinct values per column: one pass."""
    F = _functions()
    aggregates = [F.count(F.lit(1)).alias("__rows")]
    for index, (column, kind) in enumerate(kinds.items()):
        value = _value(frame, column, kind)
        aggregates.append(F.count(value).alias(f"p{index}"))
        aggregates.append(F.approx_count_distinct(value).alias(f"d{index}"))
    row = frame.agg(*aggregates).collect()[0]
    return {
        "rows": int(row["__rows"]),
        "present": {column: int(row[f"p{i}"]) for i, column in enumerate(kinds)},
        "distinct": {column: int(row[f"d{i}"]) for i, column in enumerate(kinds)},
    }


def _value(frame: Any, column: str, kind: Kind) -> Any:  # noqa: ANN401
    """The testable value of a column (null where the pandas path drops it: missing, NaN, inf;
    datetimes as epoch seconds; categories as text)."""
    col = frame[column]
    if kind == "categorical":
        return col.cast("string")
    dtype = dict(frame.dtypes)[column]
    number = col.cast("long").cast("double") if dtype in ("timestamp", "date") else col
    number = number.cast("double")
    F = _functions()
    finite = ~F.isnan(number) & (F.abs(number) != F.lit(math.inf))
    return F.when(finite, number)


def _present(frame: Any, column: str, kind: Kind) -> Any:  # noqa: ANN401
    """The column's testable values (column ``v``), missing ones dropped."""
    values = frame.select(_value(frame, column, kind).alias("v"))
    return values.where(values["v"].isNotNull())


def _exact_distinct(sides: tuple[Any, Any], column: str, kind: Kind, limit: int) -> int:
    """Distinct values of both sides together, counted up to ``limit + 1``."""
    values = [_present(frame, column, kind) for frame in sides]
    union = values[0].union(values[1]).distinct()
    return union.limit(limit + 1).count()


def _default_method(
    sides: tuple[Any, Any],
    column: str,
    kind: Kind,
    reference_rows: int,
    approx_distinct: int,
) -> str:
    """Evidently 0.7's choice (``drift.default_method``) from the counts.

    The row count is the column's non-null count, as the pandas path counts the cleaned series;
    distinct values are counted exactly when the approximate count is small enough to matter.
    """
    limit = BINARY if kind == "categorical" else FEW_VALUES
    few: int | None = None
    if approx_distinct <= 2 * limit + 2:  # HyperLogLog is close to exact for so few values
        exact = _exact_distinct(sides, column, kind, limit)
        few = exact if exact <= limit else None
    if kind == "categorical":
        if reference_rows > SMALL_REFERENCE_ROWS:
            return "jensenshannon"
        return "z" if few is not None else "chisquare"
    if reference_rows > SMALL_REFERENCE_ROWS:
        return "jensenshannon" if few is not None else "wasserstein"
    if few is None:
        return "ks"
    return "chisquare" if few > BINARY else "z"


def _how(method: str, kind: Kind, distinct: int) -> str:
    if method == "wasserstein" and kind == "numerical":
        return "quantiles"
    if method == "jensenshannon" and (kind == "categorical" or distinct <= COUNT_BINS // 2):
        return "counts"
    return "sample"


def _quantile_proxies(frame: Any, column: str, kind: Kind) -> pd.Series:  # noqa: ANN401
    import pandas as pd  # noqa: PLC0415

    values = _present(frame, column, kind)
    levels = [(index + 0.5) / QUANTILES for index in range(QUANTILES)]
    quantiles = values.approxQuantile("v", levels, QUANTILE_ERROR)
    return pd.Series(quantiles, name=column, dtype="float64")


def _count_proxies(frame: Any, column: str, kind: Kind) -> pd.Series:  # noqa: ANN401
    import numpy as np  # noqa: PLC0415
    import pandas as pd  # noqa: PLC0415

    values = _present(frame, column, kind)
    counts = values.groupBy("v").count().collect()
    total = sum(row["count"] for row in counts)
    scale = min(1.0, PROXY_ROWS / total) if total else 1.0
    keys = [row["v"] for row in counts]
    repeats = [max(1, round(row["count"] * scale)) if scale < 1 else row["count"] for row in counts]
    dtype = object if kind == "categorical" else "float64"
    return pd.Series(np.repeat(np.array(keys, dtype=dtype), repeats), name=column, dtype=dtype)


def _sample(frame: Any, column: str, kind: Kind) -> pd.Series:  # noqa: ANN401
    import pandas as pd  # noqa: PLC0415

    values = _present(frame, column, kind)
    total = values.count()
    if total > SAMPLE_ROWS:
        fraction = min(1.0, 1.2 * SAMPLE_ROWS / total)
        values = values.sample(fraction=fraction, seed=SAMPLE_SEED).limit(SAMPLE_ROWS)
    collected = [row["v"] for row in values.collect()]
    dtype = object if kind == "categorical" else "float64"
    return pd.Series(collected, name=column, dtype=dtype)


def report_sample(frame: Any, columns: list[str], max_rows: int | None) -> pd.DataFrame:  # noqa: ANN401
    """At most ``max_rows`` rows of ``columns`` (a seeded sample) as pandas, for the HTML report."""
    if not is_spark(frame):
        return frame[columns]
    selected = frame.select(*columns)
    limit = max_rows or SAMPLE_ROWS
    total = selected.count()
    if total > limit:
        selected = selected.sample(fraction=min(1.0, 1.2 * limit / total), seed=SAMPLE_SEED)
    return selected.limit(limit).toPandas()
