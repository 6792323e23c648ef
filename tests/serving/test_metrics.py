"""/metrics' view of the answers: the rolling class share and the score histogram, by version."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from kedro_mlops.serving.app import ModelHolder, create_app
from kedro_mlops.serving.metrics import SHARE_WINDOW, Metrics
from tests.serving.conftest import rows_of

with warnings.catch_warnings():  # starlette's notice about httpx2, not ours to act on
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient


def samples(metrics: Metrics, name: str) -> dict[tuple, float]:
    return {
        tuple(sorted(sample.labels.items())): sample.value
        for family in metrics.registry.collect()
        for sample in family.samples
        if sample.name == name
    }


def test_the_share_is_over_the_last_window_of_rows():
    metrics = Metrics()
    metrics.observe("1", ["yes"] * SHARE_WINDOW)
    metrics.observe("1", ["no"] * (SHARE_WINDOW // 2) + [None, float("nan")])
    share = samples(metrics, "kedro_mlops_prediction_share")
    # the first batch still counts while the window is not full without it
    assert share[(("model_version", "1"), ("prediction", "no"))] == pytest.approx(1 / 3)
    metrics.observe("1", ["no"] * SHARE_WINDOW)
    share = samples(metrics, "kedro_mlops_prediction_share")
    assert share[(("model_version", "1"), ("prediction", "yes"))] == 0.0
    assert share[(("model_version", "1"), ("prediction", "no"))] == 1.0
    counted = samples(metrics, "kedro_mlops_predictions_total")
    assert counted[(("model_version", "1"), ("prediction", "no"))] == SHARE_WINDOW * 1.5


def test_scores_are_a_prometheus_histogram_by_version():
    metrics = Metrics()
    metrics.observe("2", ["a"] * 5, np.array([0.05, 0.15, 0.5, 0.95, np.nan]))
    metrics.observe("2", ["a"], np.array([0.5]))
    buckets = samples(metrics, "kedro_mlops_prediction_score_bucket")
    assert buckets[(("le", "0.1"), ("model_version", "2"))] == 1
    assert buckets[(("le", "0.5"), ("model_version", "2"))] == 4
    assert buckets[(("le", "1"), ("model_version", "2"))] == 5
    assert buckets[(("le", "+Inf"), ("model_version", "2"))] == 5
    assert samples(metrics, "kedro_mlops_prediction_score_count") == {(("model_version", "2"),): 5}
    assert samples(metrics, "kedro_mlops_prediction_score_sum")[
        (("model_version", "2"),)
    ] == pytest.approx(2.15)


def test_the_served_answers_reach_metrics(model):
    with TestClient(create_app(ModelHolder(model))) as client:
        answers = client.post("/predict", json=rows_of(40)).json()["predictions"]
        text = client.get("/metrics").text
    yes = sum(answer["prediction"] == "yes" for answer in answers)
    assert f'kedro_mlops_prediction_share{{model_version="1",prediction="yes"}} {yes / 40}' in text
    assert 'kedro_mlops_prediction_score_count{model_version="1"} 40.0' in text
