"""Run one drift check end to end: verdicts, JSON summary, HTML report, MLflow logging.

A check has two parts that can run apart (in another process, as soon as their data exists):
the feature columns with the HTML report (:func:`feature_verdicts`) and the prediction / target
columns (:func:`extra_verdicts`); :func:`combine` joins them and :func:`write_summary` writes
the result.
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime, timezone
from itertools import chain
from pathlib import Path
from typing import TYPE_CHECKING

from kedro_mlops import mlflow_run
from kedro_mlops.config import DEFAULT_DRIFT_SHARE
from kedro_mlops.monitoring.columns import (
    CheckInputError,
    ColumnPair,
    Kind,
    check_frames,
    clean,
    iter_pairs,
)
from kedro_mlops.monitoring.drift import ColumnDrift, Methods, column_drift, dataset_drift
from kedro_mlops.monitoring.report import HtmlInputs, write_html

if TYPE_CHECKING:
    import pandas as pd


@dataclass(frozen=True)
class ExtraColumn:
    """Prediction or target drift: a series of the run against a reference series."""

    role: str  # prediction | target
    name: str
    reference: pd.Series
    current: pd.Series


@dataclass
class CheckResult:
    name: str
    status: str  # drift | no_drift | error
    drift_share: float = 0.0
    threshold_share: float = DEFAULT_DRIFT_SHARE
    dataset_drift: bool = False
    columns: list[ColumnDrift] = field(default_factory=list)
    skipped: dict[str, str] = field(default_factory=dict)
    error: str | None = None
    rows: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0
    report: str | None = None  # the HTML report's file name, when one was written
    # column -> how its test was computed when not from every row (Spark tables: aggregates or
    # a bounded sample, see monitoring.spark_stats)
    computed: dict[str, str] = field(default_factory=dict)
    created_at: str = field(
        default_factory=lambda: datetime.now(timezone.utc).isoformat(timespec="seconds")
    )

    @property
    def drifted_columns(self) -> list[str]:
        return [c.column for c in self.columns if c.drifted and c.role == "feature"]

    def to_dict(self) -> dict:
        data = asdict(self)
        data["drifted_columns"] = self.drifted_columns
        return data

    def summary(self, location: str = "") -> str:
        """The one line printed per check."""
        where = f" -> {location}" if location else ""
        if self.status == "error":
            return f"drift check {self.name!r}: ERROR {self.error}{where}"
        features = [c for c in self.columns if c.role == "feature"]
        verdict = "DRIFT" if self.dataset_drift else "no drift"
        line = (
            f"drift check {self.name!r}: {verdict} ({len(self.drifted_columns)}/{len(features)} "
            f"columns drifted, share {self.drift_share:.0%}, threshold {self.threshold_share:.0%})"
        )
        if self.drifted_columns:
            line += f": {', '.join(self.drifted_columns)}"
        extras = []
        for role in dict.fromkeys(c.role for c in self.columns if c.role != "feature"):
            drifted = [c.column for c in self.columns if c.role == role and c.drifted]
            extras.append(f"{role} drifted ({', '.join(drifted)})" if drifted else f"{role} stable")
        if extras:
            line += f"; {', '.join(extras)}"
        if self.skipped:
            line += f"; not tested: {', '.join(self.skipped)}"
        return line + where


def run_check(
    name: str,
    reference: pd.DataFrame,
    current: pd.DataFrame,
    kinds: dict[str, Kind],
    *,
    methods: Methods | None = None,
    drift_share: float = DEFAULT_DRIFT_SHARE,
    min_rows: int = 10,
    extras: list[ExtraColumn] | None = None,
    explicit: frozenset[str] = frozenset(),
    names: tuple[str, str] = ("reference", "current"),
) -> CheckResult:
    """Evidently's verdicts on all rows. Bad input gives a result with ``status="error"``."""
    started = time.perf_counter()
    result = CheckResult(name=name, status="error", threshold_share=drift_share)
    result.rows = {"reference": len(reference), "current": len(current)}
    try:
        check_frames(reference, current, list(kinds), names, min_rows)
        pairs = chain(
            iter_pairs(reference, current, kinds, result.skipped, names=names, explicit=explicit),
            (_extra_pair(extra) for extra in extras or []),
        )
        result.columns = column_drift(pairs, methods or Methods())
    except CheckInputError as exc:
        result.error = str(exc)
        result.seconds = time.perf_counter() - started
        return result
    result.drift_share, result.dataset_drift = dataset_drift(result.columns, drift_share)
    result.status = "drift" if result.dataset_drift else "no_drift"
    result.seconds = time.perf_counter() - started
    return result


def _extra_pair(extra: ExtraColumn) -> ColumnPair:
    import pandas as pd  # noqa: PLC0415

    numeric = pd.api.types.is_float_dtype(extra.current.dtype) and pd.api.types.is_float_dtype(
        extra.reference.dtype
    )
    kind: Kind = "numerical" if numeric else "categorical"
    reference, current = clean(extra.reference, kind), clean(extra.current, kind)
    if reference.empty or current.empty:
        raise CheckInputError(f"{extra.role} column {extra.name!r} has no values to compare")
    return ColumnPair(extra.name, kind, reference, current, role=extra.role)


def feature_verdicts(
    name: str,
    reference: pd.DataFrame,
    current: pd.DataFrame,
    kinds: dict[str, Kind],
    *,
    methods: Methods,
    drift_share: float,
    min_rows: int,
    explicit: frozenset[str],
    names: tuple[str, str],
    html_path: Path | None,
    html_max_rows: int | None,
) -> CheckResult:
    """The feature part of a check: verdicts on all rows, and the HTML report at ``html_path``
    (from at most ``html_max_rows`` rows a frame) when asked and the check could run."""
    result = run_check(
        name,
        reference,
        current,
        kinds,
        methods=methods,
        drift_share=drift_share,
        min_rows=min_rows,
        explicit=explicit,
        names=names,
    )
    if html_path is not None:
        write_report(
            result, html_path, HtmlInputs(reference, current, kinds, methods, html_max_rows)
        )
    return result


def extra_verdicts(
    extras: list[ExtraColumn], methods: Methods
) -> tuple[list[ColumnDrift], str | None]:
    """The prediction / target part of a check: verdicts, or why they could not be computed."""
    try:
        return column_drift((_extra_pair(extra) for extra in extras), methods), None
    except CheckInputError as exc:
        return [], str(exc)


def combine(
    result: CheckResult, columns: list[ColumnDrift], problem: str | None, notes: dict[str, str]
) -> CheckResult:
    """Add the extra part to the feature part (the dataset verdict stays the features')."""
    if result.status == "error":
        return result
    result.columns.extend(columns)
    if problem:
        result.skipped["prediction"] = problem
    result.skipped.update(notes)
    return result


def write_report(result: CheckResult, path: Path, inputs: HtmlInputs) -> None:
    """Evidently's HTML page of the tested feature columns (none for an ``error`` result)."""
    if result.status == "error":
        return
    tested = {c.column: inputs.kinds[c.column] for c in result.columns if c.column in inputs.kinds}
    if tested:
        write_html(path, replace(inputs, kinds=tested), result.threshold_share, result.columns)
        result.report = path.name


def write_summary(result: CheckResult, directory: Path) -> dict[str, Path]:
    """``summary.json`` in ``directory``; the paths of it and of the HTML report, if any."""
    directory.mkdir(parents=True, exist_ok=True)
    paths = {"summary": directory / "summary.json"}
    if result.report and (directory / result.report).exists():
        paths["report"] = directory / result.report
    paths["summary"].write_text(
        json.dumps(result.to_dict(), indent=2, default=str), encoding="utf-8"
    )
    return paths


def write_outputs(
    result: CheckResult, directory: Path, *, html_inputs: HtmlInputs | None
) -> dict[str, Path]:
    """``summary.json`` always; ``report.html`` when asked and the check could run."""
    if html_inputs is not None:
        write_report(result, directory / "report.html", html_inputs)
    return write_summary(result, directory)


def metric_keys(check: str, prefixed: bool) -> tuple[str, str, str]:
    """MLflow keys: share metric, per-column score prefix, verdict tag."""
    if prefixed:
        return f"drift_share.{check}", f"drift_score.{check}.", f"drift.{check}.verdict"
    return "drift_share", "drift_score.", "drift.verdict"


def log_to_mlflow(
    run_id: str, result: CheckResult, paths: dict[str, Path], *, prefixed: bool = False
) -> None:
    """Metrics, the verdict tag and the JSON/HTML files on run ``run_id``."""
    share_key, score_prefix, verdict_key = metric_keys(result.name, prefixed)
    metrics = {score_prefix + column.column: column.score for column in result.columns}
    if result.status != "error":
        metrics[share_key] = result.drift_share
    mlflow_run.log_batch(run_id, metrics=metrics, tags={verdict_key: result.status})
    for path in paths.values():
        mlflow_run.log_artifact(run_id, str(path), f"drift/{result.name}")
