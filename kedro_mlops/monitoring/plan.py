"""From a configured check (``mlops.yml``) and its frames to the arguments of ``run_check``."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from kedro_mlops.monitoring.check import CheckResult, ExtraColumn, run_check, write_outputs
from kedro_mlops.monitoring.columns import CheckInputError, Kind, infer_kinds
from kedro_mlops.monitoring.drift import Methods
from kedro_mlops.monitoring.report import HtmlInputs

if TYPE_CHECKING:
    from pathlib import Path

    import pandas as pd

    from kedro_mlops.config import DriftCheckConfig


@dataclass
class Plan:
    kinds: dict[str, Kind]
    explicit: frozenset[str]
    methods: Methods
    extras: list[ExtraColumn] = field(default_factory=list)
    notes: dict[str, str] = field(default_factory=dict)


def methods_of(check: DriftCheckConfig) -> Methods:
    return Methods(
        num_method=check.num_method,
        cat_method=check.cat_method,
        num_threshold=check.num_threshold,
        cat_threshold=check.cat_threshold,
        per_column_method=dict(check.methods) or None,
        per_column_threshold=dict(check.thresholds) or None,
    )


def plan_check(
    check: DriftCheckConfig,
    reference: pd.DataFrame,
    current: pd.DataFrame,
    features: dict[str, Any] | None,
    prediction_frame: pd.DataFrame | None = None,
) -> Plan:
    """Columns and their kinds, overrides, and the prediction/target pairs of ``check``.

    Without ``columns`` the check tests the project's ``numeric_features`` and
    ``categorical_features`` (from the parameters named by ``monitoring.features_from``).
    """
    if check.columns:
        kinds = infer_kinds(reference, list(check.columns), list(check.categorical))
    else:
        numeric = list((features or {}).get("numeric_features") or [])
        categorical = list((features or {}).get("categorical_features") or [])
        if not numeric and not categorical:
            raise CheckInputError(
                f"check {check.name!r} names no columns and the parameters hold no "
                "numeric_features / categorical_features (monitoring.features_from)"
            )
        kinds = {column: "numerical" for column in numeric}
        kinds.update({column: "categorical" for column in categorical})
    plan = Plan(kinds=kinds, explicit=frozenset(kinds), methods=methods_of(check))
    if check.prediction is not None:
        frame = prediction_frame if prediction_frame is not None else current
        column = check.prediction.column
        reference_column = check.prediction.reference_column or column
        if column in frame.columns and reference_column in reference.columns:
            plan.extras.append(
                ExtraColumn("prediction", column, reference[reference_column], frame[column])
            )
        else:
            plan.notes[f"prediction:{column}"] = (
                f"prediction drift needs {column!r} in the current data and "
                f"{reference_column!r} in the reference"
            )
    if check.target:
        if check.target in current.columns and check.target in reference.columns:
            plan.extras.append(
                ExtraColumn("target", check.target, reference[check.target], current[check.target])
            )
        else:
            plan.notes[f"target:{check.target}"] = "no labels in the current data yet"
    return plan


def run_configured(
    check: DriftCheckConfig,
    reference: pd.DataFrame,
    current: pd.DataFrame,
    *,
    features: dict[str, Any] | None,
    prediction_frame: pd.DataFrame | None,
    directory: Path,
    html: bool,
    min_rows: int,
) -> tuple[CheckResult, dict[str, Path]]:
    """Plan, run and write one configured check; input errors become an ``error`` result."""
    try:
        plan = plan_check(check, reference, current, features, prediction_frame)
    except CheckInputError as exc:
        result = CheckResult(name=check.name, status="error", error=str(exc))
        return result, write_outputs(result, directory, html_inputs=None)
    result = run_check(
        check.name,
        reference,
        current,
        plan.kinds,
        methods=plan.methods,
        drift_share=check.drift_share,
        min_rows=min_rows,
        extras=plan.extras,
        explicit=plan.explicit,
        names=(check.reference, check.current),
    )
    result.skipped.update(plan.notes)
    html_inputs = HtmlInputs(reference, current, plan.kinds, plan.methods, check.report_max_rows)
    return result, write_outputs(result, directory, html_inputs=html_inputs if html else None)
