from __future__ import annotations

import pytest
from sklearn.linear_model import LogisticRegression

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


SWITCH_HINT = (
    "To switch estimators, `kedro run --params` is not enough (it is merged into "
    "conf/base/parameters_data_science.yml: the hyper-parameters there stay); give the "
    "new estimator its whole `model` section in conf/<env>/parameters_data_science.yml "
    "and run `kedro run --env <env>` (README: Switch the estimator)."
)


def test_hyperparameters_another_estimator_does_not_accept_are_named():
    # what `--params model.estimator=...LogisticRegression` leaves: the previous
    # estimator's hyper-parameters, merged
    model = {
        "estimator": "sklearn.linear_model.LogisticRegression",
        "hyperparameters": {
            "learning_rate": 0.08,
            "max_iter": 200,
            "max_leaf_nodes": 15,
        },
    }
    accepted = sorted(LogisticRegression().get_params(), key=str.lower)
    with pytest.raises(ParameterError) as raised:
        make_estimator(model)
    assert str(raised.value) == (
        "model.hyperparameters has ['learning_rate', 'max_leaf_nodes'], which "
        "sklearn.linear_model.LogisticRegression does not accept; it accepts "
        f"{accepted}. {SWITCH_HINT}"
    )
    assert raised.value.exit_code == 2  # `kedro run` exits 2 without a traceback


def test_another_estimator_with_its_own_hyperparameters():
    estimator = make_estimator(
        {
            "estimator": "sklearn.linear_model.LogisticRegression",
            "hyperparameters": {"C": 0.5, "max_iter": 1000},
        }
    )
    assert isinstance(estimator, LogisticRegression)
    assert (estimator.C, estimator.max_iter) == (0.5, 1000)


def test_a_search_over_parameters_the_estimator_does_not_accept_is_refused(
    splits, params
):
    train, _ = splits
    model = {
        "estimator": "sklearn.linear_model.LogisticRegression",
        "hyperparameters": {"max_iter": 1000},
        "search": {"enabled": True, "param_grid": {"C": [0.1], "max_depth": [3]}},
    }
    with pytest.raises(ParameterError) as raised:
        train_model(train, params["dataset"], params["features"], model)
    assert str(raised.value).startswith(
        "model.search.param_grid has ['max_depth'], which "
        "sklearn.linear_model.LogisticRegression does not accept; it accepts ['C', "
    )


def test_hyperparameters_must_be_a_mapping():
    with pytest.raises(ParameterError) as raised:
        make_estimator(
            {
                "estimator": "sklearn.linear_model.LogisticRegression",
                "hyperparameters": [1],
            }
        )
    assert str(raised.value) == (
        "model.hyperparameters must map parameter names to values, got [1]"
    )
