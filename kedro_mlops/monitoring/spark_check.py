"""A configured check whose frames are Spark DataFrames: the Spark work (``spark_stats``) runs
in the process that holds the session, the evaluation of the tests on the aggregates wherever
the pandas path's evaluation runs (the drift worker); the result is the same ``CheckResult``.

The HTML report is drawn, as on pandas, from a seeded sample of at most ``report_max_rows`` rows
a frame.
"""

from __future__ import annotations

import time
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from kedro_mlops.monitoring.check import CheckResult, write_report
from kedro_mlops.monitoring.columns import CheckInputError
from kedro_mlops.monitoring.drift import ColumnDrift, Methods, column_drift, dataset_drift
from kedro_mlops.monitoring.report import HtmlInputs
from kedro_mlops.monitoring.spark_stats import (
    SparkPairs,
    is_spark,
    report_sample,
    schema_frame,
    spark_pairs,
)

if TYPE_CHECKING:
    from pathlib import Path

    from kedro_mlops.config import DriftCheckConfig, PredictionDriftConfig
    from kedro_mlops.monitoring.columns import Kind

SPARK_TARGET_NOTE = "target drift is not computed on Spark tables yet"


def any_spark(*frames: object) -> bool:
    return any(is_spark(frame) for frame in frames if frame is not None)


def prepare_features(
    reference: Any,  # noqa: ANN401
    current: Any,  # noqa: ANN401
    kinds: dict[str, Kind],
    methods: Methods,
    *,
    names: tuple[str, str],
    min_rows: int,
    html_max_rows: int | None,
    html: bool,
) -> tuple[SparkPairs | str, HtmlInputs | None]:
    """The Spark part of a check's features: the pairs (or why the check cannot run) and, when
    asked, the HTML report's inputs (bounded samples as pandas)."""
    try:
        pairs = spark_pairs(reference, current, kinds, methods, names=names, min_rows=min_rows)
    except CheckInputError as exc:
        return str(exc), None
    if not html:
        return pairs, None
    columns = list(kinds)
    samples = [report_sample(frame, columns, html_max_rows) for frame in (reference, current)]
    return pairs, HtmlInputs(samples[0], samples[1], kinds, methods, html_max_rows)


def feature_verdicts(
    name: str,
    prepared: SparkPairs | str,
    *,
    drift_share: float,
    html_path: Path | None,
    html_inputs: HtmlInputs | None,
) -> CheckResult:
    """The feature part of a Spark check, evaluated on the aggregates (no Spark needed)."""
    started = time.perf_counter()
    result = CheckResult(name=name, status="error", threshold_share=drift_share)
    if isinstance(prepared, str):
        result.error = prepared
        return result
    result.rows = dict(prepared.rows)
    result.skipped = dict(prepared.skipped)
    result.computed = dict(prepared.summaries)
    try:
        result.columns = column_drift(prepared.pairs, prepared.methods)
    except CheckInputError as exc:
        result.error = str(exc)
        return result
    result.drift_share, result.dataset_drift = dataset_drift(result.columns, drift_share)
    result.status = "drift" if result.dataset_drift else "no_drift"
    if html_path is not None and html_inputs is not None:
        write_report(result, html_path, replace(html_inputs, methods=prepared.methods))
    result.seconds = time.perf_counter() - started
    return result


def prepare_extras(
    check: DriftCheckConfig,
    reference: Any,  # noqa: ANN401
    current: Any,  # noqa: ANN401
    predictions: Any = None,  # noqa: ANN401
    reference_predictions: Any = None,  # noqa: ANN401
) -> tuple[SparkPairs | None, dict[str, str]]:
    """The prediction pairs of a Spark check (as ``plan.plan_extras`` plans them on pandas),
    and why any of them is not tested."""
    from kedro_mlops.monitoring.plan import methods_of  # noqa: PLC0415

    notes: dict[str, str] = {}
    if check.target:
        notes[f"target:{check.target}"] = SPARK_TARGET_NOTE
    config = check.prediction
    if config is None:
        return None, notes
    predicted = predictions if predictions is not None else current
    expected = reference_predictions if reference_predictions is not None else reference
    predicted = _same_models(config, expected, predicted, notes)
    if predicted is None:
        return None, notes
    kinds: dict[str, Kind] = {}
    expected_columns = set(schema_frame(expected).columns)
    predicted_types = schema_frame(predicted).dtypes
    for column in [config.column, *([config.probability] if config.probability else [])]:
        reference_column = config.reference_column or column if column == config.column else column
        if column not in predicted_types or reference_column not in expected_columns:
            notes[f"prediction:{column}"] = (
                f"prediction drift needs {column!r} in the current predictions and "
                f"{reference_column!r} in the reference predictions"
            )
            continue
        kinds[column] = "numerical" if predicted_types[column].kind == "f" else "categorical"
    if not kinds:
        return None, notes
    if config.reference_column and config.reference_column != config.column:
        expected = _renamed(expected, config.reference_column, config.column)
    try:
        pairs = spark_pairs(expected, predicted, kinds, methods_of(check), role="prediction")
    except CheckInputError as exc:
        notes["prediction"] = str(exc)
        return None, notes
    return pairs, notes


def extra_verdicts(pairs: SparkPairs | None) -> tuple[list[ColumnDrift], str | None]:
    """The prediction part of a Spark check, evaluated on the aggregates."""
    if pairs is None:
        return [], None
    try:
        return column_drift(pairs.pairs, pairs.methods), None
    except CheckInputError as exc:
        return [], str(exc)


def _same_models(
    config: PredictionDriftConfig,
    expected: Any,  # noqa: ANN401
    predicted: Any,  # noqa: ANN401
    notes: dict[str, str],
) -> Any:  # noqa: ANN401
    """``predicted``'s rows made by a model of the reference (all when there is no model
    column); None, with the reason in ``notes``, when there are none."""
    column = config.model_column
    if (
        not column
        or column not in schema_frame(expected).columns
        or column not in schema_frame(predicted).columns
    ):
        return predicted
    reference_models = sorted(_distinct_text(expected, column))
    current_models = sorted(_distinct_text(predicted, column))
    if not set(reference_models) & set(current_models):
        notes["prediction"] = (
            f"the reference predictions come from model "
            f"{', '.join(reference_models[:3]) or '?'} ({column}), the current ones from "
            f"{', '.join(current_models[:3]) or '?'}: a training run of the model that scores "
            "writes its reference predictions"
        )
        return None
    if is_spark(predicted):
        return predicted.where(predicted[column].cast("string").isin(reference_models))
    return predicted[predicted[column].astype(str).isin(reference_models)]


def _distinct_text(frame: Any, column: str) -> set[str]:  # noqa: ANN401
    if is_spark(frame):
        values = frame.select(frame[column].cast("string").alias("m")).distinct().limit(1000)
        return {row["m"] for row in values.collect() if row["m"] is not None}
    return set(frame[column].dropna().astype(str))


def _renamed(frame: Any, old: str, new: str) -> Any:  # noqa: ANN401
    if is_spark(frame):
        return frame.withColumnRenamed(old, new)
    return frame.rename(columns={old: new})
