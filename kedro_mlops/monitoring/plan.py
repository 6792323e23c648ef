"""From a configured check (``mlops.yml``) and its frames to the arguments of the check's parts:
the feature columns (reference vs current) and the extras (prediction and target drift)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from kedro_mlops.monitoring.check import ExtraColumn
from kedro_mlops.monitoring.columns import CheckInputError, Kind, infer_kinds
from kedro_mlops.monitoring.drift import Methods

if TYPE_CHECKING:
    import pandas as pd

    from kedro_mlops.config import DriftCheckConfig, PredictionDriftConfig


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


def check_datasets(check: DriftCheckConfig) -> dict[str, str]:
    """The catalog datasets of ``check`` by role (reference, current, predictions,
    reference_predictions), each named once; a role left out uses another's frame."""
    datasets = {"reference": check.reference, "current": check.current}
    prediction = check.prediction
    if prediction is not None and prediction.dataset:
        datasets["predictions"] = prediction.dataset
    if prediction is not None and prediction.reference:
        datasets["reference_predictions"] = prediction.reference
    return datasets


def plan_features(
    check: DriftCheckConfig, reference: pd.DataFrame, features: dict[str, Any] | None
) -> Plan:
    """The feature columns of ``check`` and their kinds, with its method overrides.

    Without ``columns`` the check tests the project's ``numeric_features`` and
    ``categorical_features`` (from the parameters named by ``monitoring.features_from``).

    Raises:
        CheckInputError: when there is no column to test.
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
    return Plan(kinds=kinds, explicit=frozenset(kinds), methods=methods_of(check))


def plan_extras(
    check: DriftCheckConfig,
    reference: pd.DataFrame,
    current: pd.DataFrame,
    prediction_frame: pd.DataFrame | None = None,
    reference_predictions: pd.DataFrame | None = None,
) -> tuple[list[ExtraColumn], dict[str, str]]:
    """The prediction and target pairs of ``check``, and why any of them is not tested.

    Predictions are compared with the same model's predictions on reference data: the class
    column (categorical) and the ``probability`` column (numerical), only for current rows
    scored by a model of the reference (``model_column``). Target drift needs labels in both.
    """
    extras: list[ExtraColumn] = []
    notes: dict[str, str] = {}
    if check.prediction is not None:
        predicted = prediction_frame if prediction_frame is not None else current
        expected = reference_predictions if reference_predictions is not None else reference
        _prediction_pairs(check.prediction, expected, predicted, extras, notes)
    if check.target:
        if check.target in current.columns and check.target in reference.columns:
            extras.append(
                ExtraColumn("target", check.target, reference[check.target], current[check.target])
            )
        else:
            notes[f"target:{check.target}"] = "no labels in the current data yet"
    return extras, notes


def _prediction_pairs(
    config: PredictionDriftConfig,
    expected: pd.DataFrame,
    predicted: pd.DataFrame,
    extras: list[ExtraColumn],
    notes: dict[str, str],
) -> None:
    other_model = _other_model(config.model_column, expected, predicted)
    if other_model:
        notes["prediction"] = other_model
        return
    if config.model_column and config.model_column in predicted.columns:
        models = set(expected[config.model_column].dropna().astype(str))
        predicted = predicted[predicted[config.model_column].astype(str).isin(models)]
    pairs = [(config.column, config.reference_column or config.column)]
    if config.probability:
        pairs.append((config.probability, config.probability))
    for column, reference_column in pairs:
        if column in predicted.columns and reference_column in expected.columns:
            extras.append(
                ExtraColumn("prediction", column, expected[reference_column], predicted[column])
            )
        else:
            notes[f"prediction:{column}"] = (
                f"prediction drift needs {column!r} in the current predictions and "
                f"{reference_column!r} in the reference predictions"
            )


def _other_model(column: str | None, expected: pd.DataFrame, predicted: pd.DataFrame) -> str:
    """Why no current prediction can be compared (none made by a model of the reference)."""
    if not column or column not in expected.columns or column not in predicted.columns:
        return ""
    reference_models = sorted(set(expected[column].dropna().astype(str)))
    current_models = sorted(set(predicted[column].dropna().astype(str)))
    if set(reference_models) & set(current_models):
        return ""
    return (
        f"the reference predictions come from model {', '.join(reference_models[:3]) or '?'} "
        f"({column}), the current ones from {', '.join(current_models[:3]) or '?'}: a training "
        "run of the model that scores writes its reference predictions"
    )
