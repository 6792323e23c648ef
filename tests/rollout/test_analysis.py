"""The rollout decision (pure) and the figures it is made on."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from kedro_mlops.config import RolloutAnalysisConfig
from kedro_mlops.config.rollout import CHALLENGER_PREFIX, CHAMPION_PREFIX
from kedro_mlops.rollout.analysis import (
    HOLD,
    LABEL,
    PROMOTE,
    ROLLBACK,
    Figures,
    compute,
    decide,
    psi,
)

ANALYSIS = RolloutAnalysisConfig(min_rows=100, min_labels=50, max_metric_drop=0.01)
HEALTHY = Figures(
    champion="1",
    challenger="2",
    rows=500,
    errors=0,
    live_minutes=30.0,
    champion_p99_ms=4.0,
    challenger_p99_ms=4.4,
    latency_rows="4-15",
    agreement=0.97,
    score_psi=0.02,
    metric="roc_auc",
)
LABELLED = replace(HEALTHY, labelled=200, champion_metric=0.80, challenger_metric=0.83)


@pytest.mark.parametrize(
    ("figures", "analysis", "action", "reasons"),
    [
        (replace(HEALTHY, rows=99), ANALYSIS, HOLD, ["99 rows < min_rows 100"]),
        (
            HEALTHY,
            ANALYSIS.model_copy(update={"min_live_minutes": 60}),
            HOLD,
            ["live 30.0 min < min_live_minutes 60"],
        ),
        (
            replace(HEALTHY, errors=10),
            ANALYSIS,
            ROLLBACK,
            ["error rate 2.00% > max_error_rate 1.00%"],
        ),
        (
            replace(HEALTHY, challenger_p99_ms=8.0),
            ANALYSIS,
            ROLLBACK,
            ["p99 scoring time 8.0 ms vs 4.0 ms (2.00x > max_latency_ratio 1.5)"],
        ),
        (
            replace(LABELLED, challenger_metric=0.70),
            ANALYSIS,
            ROLLBACK,
            ["roc_auc 0.7 vs 0.8 on 200 labelled rows (worse by 0.1 > max_metric_drop 0.01)"],
        ),
        (
            replace(LABELLED, challenger_metric=0.795, agreement=0.5),
            ANALYSIS,
            PROMOTE,
            [
                "roc_auc 0.795 vs 0.8 on 200 labelled rows (not worse by more than 0.01)",
                "error rate 0.00%",
                "p99 scoring time 1.10x the champion's",
                "agreement 50.0%",
                "score PSI 0.02",
            ],
        ),
        (
            replace(HEALTHY, agreement=0.6, score_psi=0.4, labelled=10),
            ANALYSIS,
            HOLD,
            [
                "the versions agree on 60.0% of rows < min_agreement 90%",
                "score PSI 0.4 > max_score_psi 0.2",
                "labels must decide (10 labelled rows < min_labels 50)",
            ],
        ),
        (
            HEALTHY,
            ANALYSIS.model_copy(update={"require_labels": True}),
            HOLD,
            ["0 labelled rows < min_labels 50", "require_labels is set"],
        ),
        (
            HEALTHY,
            ANALYSIS,
            PROMOTE,
            [
                "error rate 0.00%",
                "p99 scoring time 1.10x the champion's",
                "agreement 97.0%",
                "score PSI 0.02",
                "no labels needed (0 labelled rows < min_labels 50)",
            ],
        ),
        (
            replace(LABELLED, champion_metric=0.30, challenger_metric=0.40, metric="log_loss"),
            ANALYSIS,
            ROLLBACK,
            ["log_loss 0.4 vs 0.3 on 200 labelled rows (worse by 0.1 > max_metric_drop 0.01)"],
        ),
    ],
)
def test_decide(figures, analysis, action, reasons):
    direction = "minimize" if figures.metric == "log_loss" else "maximize"
    decision = decide(figures, analysis, direction)
    assert (decision.action, list(decision.reasons)) == (action, reasons)


def test_the_decision_is_one_line():
    decision = decide(replace(HEALTHY, errors=10), ANALYSIS, "maximize")
    assert decision.line(replace(HEALTHY, errors=10)) == (
        "rollback: challenger v2 vs champion v1 on 500 rows: error rate 2.00% > max_error_rate "
        "1.00%"
    )


def logged_rows(n: int, seed: int = 0, shift: float = 0.0) -> pd.DataFrame:
    """Rows as the inference log holds them after a shadow rollout."""
    rng = np.random.default_rng(seed)
    truth = rng.random(n) < 0.3
    mine = np.clip(truth * 0.5 + rng.random(n) * 0.5, 0, 1)
    theirs = np.clip(mine + shift + rng.normal(0, 0.05, n), 0, 1)
    batch = np.repeat(np.arange(n // 5), 5)[:n]
    return pd.DataFrame(
        {
            CHAMPION_PREFIX + "prediction": np.where(mine >= 0.5, "yes", "no"),
            CHAMPION_PREFIX + "score": mine,
            CHAMPION_PREFIX + "ms": 2.0 + batch * 0.01,  # one time per batch
            CHAMPION_PREFIX + "batch_rows": 5,
            CHALLENGER_PREFIX + "prediction": np.where(theirs >= 0.5, "yes", "no"),
            CHALLENGER_PREFIX + "score": theirs,
            CHALLENGER_PREFIX + "ms": 3.0 + batch * 0.01,
            CHALLENGER_PREFIX + "batch_rows": 5,
            CHALLENGER_PREFIX + "error": None,
            LABEL: np.where(truth, "yes", "no"),
        }
    )


def test_compute_reads_agreement_latency_and_the_metric_on_labelled_rows():
    rows = logged_rows(1000)
    rows.loc[rows.index[:500], LABEL] = None  # half labelled
    rows.loc[rows.index[-10:], CHALLENGER_PREFIX + "error"] = "ValueError: no"
    figures = compute(
        rows, champion="1", challenger="2", metric="roc_auc", positive_class="yes", live_minutes=5
    )
    from sklearn.metrics import roc_auc_score  # noqa: PLC0415

    ok = rows.iloc[500:-10]
    truth = (ok[LABEL] == "yes").astype(int)
    assert figures.rows == 1000
    assert figures.errors == 10
    assert figures.labelled == 490
    assert figures.champion_metric == pytest.approx(roc_auc_score(truth, ok["champion_score"]))
    assert figures.challenger_metric == pytest.approx(roc_auc_score(truth, ok["challenger_score"]))
    scored = rows.iloc[:-10]
    agree = scored["champion_prediction"] == scored["challenger_prediction"]
    assert figures.agreement == pytest.approx(agree.mean())
    # 200 batches of 5 rows each: the 4-15 rows bucket
    assert figures.latency_rows == "4-15"
    assert figures.champion_p99_ms == pytest.approx(np.percentile(2 + np.arange(200) * 0.01, 99))
    assert figures.challenger_p99_ms == pytest.approx(np.percentile(3 + np.arange(200) * 0.01, 99))


def test_psi_is_small_for_the_same_distribution_and_large_for_a_shift():
    rows = logged_rows(5000)
    same = psi(rows["champion_score"], rows["champion_score"].sample(frac=1, random_state=1))
    assert same == pytest.approx(0.0, abs=1e-9)
    shifted = logged_rows(5000, shift=0.3)
    assert psi(shifted["champion_score"], shifted["challenger_score"]) > 0.2
    assert psi(pd.Series([], dtype=float), rows["champion_score"]) is None


def test_numeric_classes_compare_however_the_log_typed_them():
    """0/1 classes: a log column with gaps reads back as floats (0.0), its twin as integers (0)."""
    rows = logged_rows(400)
    codes = {"yes": 1, "no": 0}
    rows[CHAMPION_PREFIX + "prediction"] = rows[CHAMPION_PREFIX + "prediction"].map(codes)
    rows[CHALLENGER_PREFIX + "prediction"] = (
        rows[CHALLENGER_PREFIX + "prediction"].map(codes).astype(float)
    )
    rows[LABEL] = rows[LABEL].map(codes).astype(float)
    named = logged_rows(400)
    as_numbers = compute(
        rows, champion="1", challenger="2", metric="f1", positive_class="1", live_minutes=5
    )
    as_names = compute(
        named, champion="1", challenger="2", metric="f1", positive_class="yes", live_minutes=5
    )
    assert as_numbers.agreement == as_names.agreement > 0.8
    assert as_numbers.champion_metric == as_names.champion_metric > 0.5
    assert as_numbers.challenger_metric == as_names.challenger_metric
