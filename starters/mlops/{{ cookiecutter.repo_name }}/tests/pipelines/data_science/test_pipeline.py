from __future__ import annotations

import pytest

from {{ cookiecutter.python_package }}.pipelines.data_engineering.nodes import (
    build_features,
    clean_data,
    split_data,
)
from {{ cookiecutter.python_package }}.pipelines.data_science.nodes import (
    describe_model,
    evaluate_model,
    make_estimator,
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
    model = train_model(train, dataset, features, params["model"])
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
    model = train_model(train, params["dataset"], params["features"], model_params)
    assert model.named_steps["classifier"].max_iter in (20, 30)


def test_unknown_estimator_is_named():
    with pytest.raises(ValueError, match="sklearn.nope.Model"):
        make_estimator({"estimator": "sklearn.nope.Model"})
