"""Prediction drift compares like with like: the model's outputs now against its own outputs on
reference data (classes and probabilities), never predicted classes against labels."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from kedro_mlops.config import DriftCheckConfig, PredictionDriftConfig
from kedro_mlops.monitoring import Methods
from kedro_mlops.monitoring.check import CheckResult, combine, extra_verdicts
from kedro_mlops.monitoring.drift import ColumnDrift
from kedro_mlops.monitoring.plan import check_datasets, plan_extras


def scored(n: int, seed: int, model: str = "abc") -> pd.DataFrame:
    """An imbalanced problem: about 12 % positives, a model predicting 'yes' for ~4 %."""
    rng = np.random.default_rng(seed)
    probability = rng.beta(1.2, 7.5, n)
    labels = np.where(rng.random(n) < probability, "yes", "no")
    return pd.DataFrame(
        {
            "prediction": np.where(probability >= 0.5, "yes", "no"),
            "probability": probability,
            "churn": labels,
            "model_version": model,
        }
    )


PREDICTION = PredictionDriftConfig(
    dataset="predictions",
    reference="reference_predictions",
    probability="probability",
    model_column="model_version",
)
CHECK = DriftCheckConfig(
    name="batch", reference="ref", current="cur", prediction=PREDICTION, target="churn"
)


def verdicts(extras) -> dict[str, tuple[str, bool]]:
    columns, problem = extra_verdicts(extras, Methods())
    assert problem is None
    return {c.column: (c.role, c.drifted) for c in columns}


def test_a_random_split_of_the_same_data_is_stable():
    data = scored(12_000, 0)
    reference_predictions, predictions = data.iloc[:9000], data.iloc[9000:]
    assert predictions["churn"].eq("yes").mean() > 2 * predictions["prediction"].eq("yes").mean()
    features = pd.DataFrame({"churn": data["churn"]})
    extras, notes = plan_extras(
        CHECK, features.iloc[:9000], features.iloc[9000:], predictions, reference_predictions
    )
    assert notes == {}
    assert verdicts(extras) == {
        "prediction": ("prediction", False),
        "probability": ("prediction", False),
        "churn": ("target", False),
    }
    # what the check used to do: predicted classes against the training labels
    labels_vs_classes = DriftCheckConfig(
        name="old",
        reference="ref",
        current="cur",
        prediction=PredictionDriftConfig(column="prediction", reference_column="churn"),
    )
    old, _ = plan_extras(labels_vs_classes, data.iloc[:9000], predictions)
    assert verdicts(old) == {"prediction": ("prediction", True)}


def test_the_probability_is_tested_as_a_number():
    data = scored(3000, 1)
    extras, _ = plan_extras(CHECK, data, data, data, data)
    columns, _ = extra_verdicts(extras, Methods())
    kinds = {c.column: (c.kind, c.method) for c in columns}
    assert kinds["probability"] == ("numerical", "wasserstein")
    assert kinds["prediction"] == ("categorical", "jensenshannon")


def test_a_shift_in_probabilities_is_found():
    reference_predictions = scored(5000, 2)
    shifted = scored(3000, 3).assign(probability=lambda f: (f["probability"] * 1.6).clip(0, 1))
    extras, _ = plan_extras(CHECK, reference_predictions, shifted, shifted, reference_predictions)
    assert verdicts(extras)["probability"] == ("prediction", True)


def test_rows_of_another_model_are_not_compared():
    reference_predictions = scored(3000, 4, model="abc")
    other = scored(2000, 5, model="def")
    extras, notes = plan_extras(CHECK, reference_predictions, other, other, reference_predictions)
    assert [extra.role for extra in extras] == ["target"]
    assert notes["prediction"] == (
        "the reference predictions come from model abc (model_version), the current ones from "
        "def: a training run of the model that scores writes its reference predictions"
    )
    mixed = pd.concat([other, scored(1000, 6, model="abc")], ignore_index=True)
    extras, notes = plan_extras(CHECK, reference_predictions, mixed, mixed, reference_predictions)
    assert notes == {}
    (prediction, *_rest) = extras
    assert len(prediction.current) == 1000  # only the rows the reference's model scored


def test_missing_columns_and_labels_are_said():
    reference_predictions = scored(3000, 7)
    unlabelled = scored(2000, 8).drop(columns=["churn", "probability"])
    extras, notes = plan_extras(
        CHECK, reference_predictions, unlabelled, unlabelled, reference_predictions
    )
    assert [extra.name for extra in extras] == ["prediction"]
    assert notes == {
        "prediction:probability": "prediction drift needs 'probability' in the current "
        "predictions and 'probability' in the reference predictions",
        "target:churn": "no labels in the current data yet",
    }


def test_the_datasets_of_a_check():
    assert check_datasets(CHECK) == {
        "reference": "ref",
        "current": "cur",
        "predictions": "predictions",
        "reference_predictions": "reference_predictions",
    }
    plain = DriftCheckConfig(name="x", reference="ref", current="cur")
    assert check_datasets(plain) == {"reference": "ref", "current": "cur"}


@pytest.mark.parametrize(
    ("drifted", "line"),
    [
        ((False, False), "; prediction stable"),
        ((True, False), "; prediction drifted (prediction)"),
        ((True, True), "; prediction drifted (prediction, probability)"),
    ],
)
def test_the_summary_line_groups_the_prediction_columns(drifted, line):
    result = CheckResult(name="batch", status="no_drift")
    columns = [
        ColumnDrift(name, "categorical", "prediction", "jensenshannon", "JS", 0.2, 0.1, flag)
        for name, flag in zip(("prediction", "probability"), drifted, strict=True)
    ]
    combine(result, columns, None, {})
    assert result.summary().endswith(line)
