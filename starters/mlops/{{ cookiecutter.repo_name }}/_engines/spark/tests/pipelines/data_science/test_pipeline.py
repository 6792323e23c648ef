from __future__ import annotations

from {{ cookiecutter.python_package }}.pipelines.data_engineering.nodes import (
    build_features,
    clean_data,
    split_data,
)
from {{ cookiecutter.python_package }}.pipelines.data_science.nodes import (
    evaluate_model,
    train_model,
)
from {{ cookiecutter.python_package }}.pipelines.data_science.sampling import (
    sample_for_training,
)


def test_training_runs_on_a_capped_seeded_sample(raw_table, params):
    dataset = params["dataset"]
    features = build_features(
        clean_data(raw_table, dataset), dataset, params["features"]
    )
    train, test = split_data(features, dataset, params["split"])
    model_params = {**params["model"], "max_training_rows": 200}
    train_sample, test_sample, metrics = sample_for_training(
        train, test, dataset, model_params, params["split"]
    )
    assert len(train_sample) == 200
    assert metrics["training_rows_sampled"]["value"] == 200
    assert metrics["training_rows_available"]["value"] == train.count()
    again, _, _ = sample_for_training(
        train, test, dataset, model_params, params["split"]
    )
    assert again.equals(train_sample)  # seeded: the same rows, in the same order

    model, _search = train_model(
        train_sample, dataset, params["features"], params["model"]
    )
    logged, _confusion, _roc = evaluate_model(
        model, test_sample, dataset, params["features"]
    )
    assert 0.5 < logged["roc_auc"]["value"] <= 1.0
