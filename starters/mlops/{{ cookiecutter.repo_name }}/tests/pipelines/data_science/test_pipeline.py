from __future__ import annotations

import pytest

from {{ cookiecutter.python_package }}.features import build_features
from {{ cookiecutter.python_package }}.pipelines.data_engineering.nodes import (
    clean_data,
    split_data,
)
from {{ cookiecutter.python_package }}.pipelines.data_science.nodes import (
    ParameterError,
    describe_model,
    evaluate_model,
    make_estimator,
    summarise_search,
    train_model,
)

METRICS = {
    "roc_auc",
    "average_precision",
    "f1",
    "precision",
    "recall",
    "accuracy",
    "log_loss",
}


@pytest.fixture(scope="module")
def splits(raw_sample, params):
    dataset = params["dataset"]
    features = build_features(
        clean_data(raw_sample, dataset), dataset, params["features"]
    )
    return split_data(features, dataset, params["split"])


def test_train_and_evaluate(splits, params):
    train, test = splits
    dataset, features = params["dataset"], params["features"]
    model, search = train_model(
        train, dataset, features, {**params["model"], "search": {}}
    )
    assert search.empty
    assert summarise_search(search, params["model"]) == ({}, {})
    metrics, confusion, roc = evaluate_model(model, test, dataset, features)
    assert set(metrics) == METRICS
    assert 0.5 < metrics["roc_auc"]["value"] <= 1.0  # better than chance
    assert confusion.axes and roc.axes
    info = describe_model(model, train, dataset)
    assert info["positive_class"] == str(dataset["positive_class"])
    assert info["negative_class"] != info["positive_class"]


def test_search_picks_from_the_grid(splits, params):
    train, _ = splits
    search = {
        "enabled": True,
        "method": "random",
        "cv": 2,
        "n_iter": 2,
        "random_state": 0,
        "param_grid": {"max_iter": [20, 30]},
    }
    model_params = {**params["model"], "search": search}
    model_params["estimator"] = "sklearn.ensemble.HistGradientBoostingClassifier"
    model, results = train_model(
        train, params["dataset"], params["features"], model_params
    )
    chosen = model.named_steps["classifier"].max_iter
    assert chosen in (20, 30)
    # every candidate, best first, and the chosen one is the model's
    assert len(results) == 2
    assert list(results["rank_test_score"]) == sorted(results["rank_test_score"])
    best, metrics = summarise_search(results, model_params)
    assert best == {"max_iter": chosen}
    (name,) = metrics
    assert name == "search_best_roc_auc"
    assert metrics[name]["value"] == results["mean_test_score"].max()


def test_unknown_estimator_is_named():
    with pytest.raises(ParameterError, match="sklearn.nope.Model"):
        make_estimator({"estimator": "sklearn.nope.Model"})
