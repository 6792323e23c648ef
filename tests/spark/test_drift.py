"""Drift checks on Spark DataFrames give the pandas path's verdicts on the same data."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from kedro_mlops.config import DriftCheckConfig
from kedro_mlops.monitoring import run_check
from kedro_mlops.monitoring.drift import Methods
from kedro_mlops.monitoring.spark_check import (
    extra_verdicts,
    feature_verdicts,
    prepare_extras,
    prepare_features,
)
from kedro_mlops.monitoring.spark_stats import SAMPLE_ROWS, spark_pairs

KINDS = {
    "stable": "numerical",
    "shifted": "numerical",
    "few": "numerical",
    "plan": "categorical",
    "region": "categorical",
}


def frame(rows: int, seed: int, shift: float) -> pd.DataFrame:
    generator = np.random.default_rng(seed)
    data = pd.DataFrame(
        {
            "stable": generator.normal(50, 10, rows),
            "shifted": generator.gamma(2.0, 10.0, rows) + shift * 15,
            "few": generator.integers(0, 3, rows).astype("float64"),
            "plan": generator.choice(["a", "b", "c"], rows, p=[0.5, 0.3, 0.2]),
            "region": generator.choice(
                ["n", "s", "e", "w"], rows, p=[0.25 + shift * 0.2, 0.25, 0.25, 0.25 - shift * 0.2]
            ),
        }
    )
    data.loc[::17, "stable"] = np.nan  # missing values are dropped on both paths
    return data


def spark_result(spark, reference, current, methods=None):
    prepared, _html = prepare_features(
        spark.createDataFrame(reference),
        spark.createDataFrame(current),
        KINDS,
        methods or Methods(),
        names=("reference", "current"),
        min_rows=10,
        html_max_rows=None,
        html=False,
    )
    return feature_verdicts("check", prepared, drift_share=0.3, html_path=None, html_inputs=None)


@pytest.mark.parametrize(
    ("reference_rows", "current_rows"),
    [(20_000, 8_000), (800, 600)],  # distance tests on aggregates; p-value tests on rows
)
def test_verdicts_equal_the_pandas_path(spark, reference_rows, current_rows):
    reference = frame(reference_rows, 1, 0.0)
    current = frame(current_rows, 2, 1.0)
    pandas = run_check(
        "check", reference, current, KINDS, drift_share=0.3, explicit=frozenset(KINDS)
    )
    on_spark = spark_result(spark, reference, current)
    assert on_spark.status == pandas.status
    assert on_spark.rows == pandas.rows
    by_column = {c.column: c for c in on_spark.columns}
    for expected in pandas.columns:
        got = by_column[expected.column]
        assert (got.method, got.drifted) == (expected.method, expected.drifted), expected.column
        assert got.score == pytest.approx(expected.score, rel=0.02, abs=1e-3), expected.column
    assert {c.column for c in pandas.columns if c.drifted} == {"shifted", "region"}
    # how each column was computed, in summary.json
    if reference_rows > 1000:
        assert on_spark.computed["stable"].startswith("1000 approximate quantiles")
        assert on_spark.computed["plan"] == "value counts computed in Spark"
    else:
        assert set(on_spark.computed.values()) == {
            f"a seeded sample of at most {SAMPLE_ROWS} rows a side"
        }


def test_bad_input_is_an_error_result(spark):
    reference = spark.createDataFrame(frame(100, 7, 0.0))
    current = spark.createDataFrame(frame(5, 8, 0.0))
    result = spark_result(spark, frame(100, 7, 0.0), frame(5, 8, 0.0))
    assert result.status == "error"
    assert result.error == (
        "current has 5 row(s); a drift check needs at least 10 (monitoring.min_rows)"
    )
    with pytest.raises(ValueError, match=r"column\(s\) \['nope'\] missing from reference"):
        spark_pairs(reference, current, {"nope": "numerical"}, Methods())


def predictions(rows: int, seed: int, model: str, shift: float) -> pd.DataFrame:
    generator = np.random.default_rng(seed)
    probability = np.clip(generator.beta(2, 5, rows) + shift, 0, 1)
    return pd.DataFrame(
        {
            "prediction": np.where(probability >= 0.5, "yes", "no"),
            "probability": probability,
            "model_version": model,
        }
    )


def test_prediction_drift_compares_the_same_models_rows(spark):
    check = DriftCheckConfig(
        name="batch",
        reference="reference",
        current="current",
        prediction={
            "dataset": "predictions",
            "reference": "reference_predictions",
            "probability": "probability",
            "model_column": "model_version",
        },
    )
    reference = predictions(3_000, 1, "m1", 0.0)  # pandas, as the training run writes it
    current = pd.concat([predictions(2_000, 2, "m1", 0.3), predictions(2_000, 3, "m0", 0.0)])
    frames = (reference, spark.createDataFrame(current))
    pairs, notes = prepare_extras(check, frames[0], frames[1], frames[1], frames[0])
    columns, problem = extra_verdicts(pairs)
    assert problem is None
    assert notes == {}
    assert pairs.rows == {"reference": 3_000, "current": 2_000}  # model m0's rows left out
    assert {c.column: c.drifted for c in columns} == {"prediction": True, "probability": True}

    other = spark.createDataFrame(predictions(500, 4, "m0", 0.0))
    pairs, notes = prepare_extras(check, reference, other, other, reference)
    assert pairs is None
    assert notes["prediction"].startswith("the reference predictions come from model m1")
