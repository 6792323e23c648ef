"""Our verdicts are DataDriftPreset's verdicts on the same data, methods and thresholds."""

from __future__ import annotations

import pandas as pd
import pytest
from evidently import DataDefinition, Dataset, Report
from evidently.legacy.calculations.stattests.registry import _get_default_stattest
from evidently.legacy.core import ColumnType
from evidently.presets import DataDriftPreset

from kedro_mlops.monitoring import Methods, run_check
from kedro_mlops.monitoring.drift import default_method
from tests.monitoring.conftest import KINDS, frames


def evidently_verdicts(reference, current, kinds, drift_share, methods: Methods):
    definition = DataDefinition(
        numerical_columns=[c for c, k in kinds.items() if k == "numerical"],
        categorical_columns=[c for c, k in kinds.items() if k == "categorical"],
    )
    report = Report(
        [DataDriftPreset(columns=list(kinds), drift_share=drift_share, **methods.preset_kwargs())],
        include_tests=True,
    )
    snapshot = report.run(
        Dataset.from_pandas(current, data_definition=definition),
        Dataset.from_pandas(reference, data_definition=definition),
    ).dict()
    scores = {
        m["config"]["column"]: (m["config"]["method"], m["value"])
        for m in snapshot["metrics"]
        if m["config"]["type"].endswith("ValueDrift")
    }
    drifted = {
        t["metric_config"]["params"]["column"]: t["status"] == "FAIL"
        for t in snapshot["tests"]
        if t["metric_config"]["params"]["type"].endswith("ValueDrift")
    }
    dataset = next(
        t["status"] == "FAIL"
        for t in snapshot["tests"]
        if t["metric_config"]["params"]["type"].endswith("DriftedColumnsCount")
    )
    return scores, drifted, dataset


SCENARIOS = {
    "large reference (wasserstein, jensen-shannon)": (5000, 3000, 0.5, Methods()),
    "small reference (ks, chi-square, z)": (600, 400, 0.5, Methods()),
    "low drift share": (5000, 3000, 0.2, Methods()),
    "method overrides": (
        3000,
        2000,
        0.5,
        Methods(num_method="psi", cat_method="chisquare", per_column_method={"stable_num": "ks"}),
    ),
    "threshold overrides": (
        3000,
        2000,
        0.5,
        Methods(num_threshold=0.3, per_column_threshold={"shifted_cat": 0.5}),
    ),
}


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_same_verdicts_as_the_preset(scenario):
    n_ref, n_cur, drift_share, methods = SCENARIOS[scenario]
    reference, current = frames(n_ref, n_cur, seed=len(scenario))
    ours = run_check("t", reference, current, dict(KINDS), methods=methods, drift_share=drift_share)
    scores, drifted, dataset = evidently_verdicts(reference, current, KINDS, drift_share, methods)
    assert ours.status != "error", ours.error
    assert {c.column: c.drifted for c in ours.columns} == drifted
    for column in ours.columns:
        method, score = scores[column.column]
        assert method in (column.method, column.method_name)  # configured name or display name
        assert column.score == pytest.approx(score, rel=1e-9, abs=1e-12)
    assert ours.dataset_drift == dataset
    # the scenarios exercise both verdicts
    assert any(drifted.values()) and not all(drifted.values())


@pytest.mark.parametrize(
    ("reference", "current", "kind"),
    [
        (pd.Series(range(2000), dtype=float), pd.Series(range(10), dtype=float), "numerical"),
        (pd.Series([0.0, 1.0] * 800), pd.Series([1.0, 2.0] * 5), "numerical"),
        (pd.Series([0.0, 1.0] * 300), pd.Series([1.0, 0.0] * 5), "numerical"),
        (pd.Series([0.0, 1.0, 2.0] * 300), pd.Series([1.0] * 5), "numerical"),
        (pd.Series(range(800), dtype=float), pd.Series(range(9), dtype=float), "numerical"),
        (pd.Series(list("ab") * 200), pd.Series(list("ab")), "categorical"),
        (pd.Series(list("abc") * 200), pd.Series(list("ab")), "categorical"),
        (pd.Series(list("ab") * 900), pd.Series(list("c")), "categorical"),
    ],
)
def test_default_method_is_evidentlys(reference, current, kind):
    column_type = ColumnType.Numerical if kind == "numerical" else ColumnType.Categorical
    assert (
        default_method(reference, current, kind)
        == _get_default_stattest(reference, current, column_type).name
    )
