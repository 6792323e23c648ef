from __future__ import annotations

import pytest
from kedro.io import DataCatalog, MemoryDataset
from kedro.runner import SequentialRunner

from {{ cookiecutter.python_package }}.features import (
    ROW_COLUMN,
    DataValidationError,
    build_features,
)
from {{ cookiecutter.python_package }}.pipelines.data_engineering.nodes import clean_data
from {{ cookiecutter.python_package }}.pipelines.data_science.nodes import (
    describe_model,
    train_model,
)
from {{ cookiecutter.python_package }}.pipelines.serving import create_pipeline
from {{ cookiecutter.python_package }}.pipelines.serving.nodes import prepare_batch


@pytest.fixture(scope="module")
def trained(raw_sample, params):
    dataset, features = params["dataset"], params["features"]
    train = build_features(clean_data(raw_sample, dataset), dataset, features)
    model, _search = train_model(train, dataset, features, params["model"])
    return model, describe_model(model, train, dataset)


def test_serving_scores_every_row(trained, batch_sample, params):
    model, info = trained
    catalog = DataCatalog(
        {
            "model": MemoryDataset(model),
            "model_info": MemoryDataset(info),
            "production_batch": MemoryDataset(batch_sample),
        }
    )
    for name in ("dataset", "features", "serving"):
        catalog[f"params:{name}"] = MemoryDataset(params[name])
    SequentialRunner().run(create_pipeline(), catalog)
    predictions = catalog.load("predictions")
    id_column = params["dataset"]["id_column"]
    if id_column:
        assert list(predictions[id_column]) == list(batch_sample[id_column])
    else:  # rows are identified by their position in the batch
        assert list(predictions[ROW_COLUMN]) == list(range(len(batch_sample)))
    assert predictions["probability"].between(0, 1).all()
    assert set(predictions["prediction"]) <= {
        info["positive_class"],
        info["negative_class"],
    }
    assert (predictions["model_version"] == info["version"]).all()


def test_batch_without_a_feature_is_refused(batch_sample, params):
    column = params["dataset"]["categorical_features"][0]
    with pytest.raises(DataValidationError, match=f"'{column}'"):
        prepare_batch(
            batch_sample.drop(columns=column),
            params["dataset"],
            params["features"],
            params["serving"],
        )


def test_batch_without_rows_is_refused(batch_sample, params):
    with pytest.raises(DataValidationError, match="the file has no rows"):
        prepare_batch(
            batch_sample.iloc[:0],
            params["dataset"],
            params["features"],
            params["serving"],
        )
