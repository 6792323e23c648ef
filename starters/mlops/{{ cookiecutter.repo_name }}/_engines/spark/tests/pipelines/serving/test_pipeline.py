from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from kedro.io import DataCatalog, MemoryDataset
from kedro.runner import SequentialRunner

from {{ cookiecutter.python_package }}.features import (
    DataValidationError,
    build_features,
    feature_columns,
    normalise_types,
    numeric_feature_columns,
    predict,
)
from {{ cookiecutter.python_package }}.pipelines.data_engineering.nodes import (
    build_features as build_table_features,
)
from {{ cookiecutter.python_package }}.pipelines.data_engineering.nodes import clean_data
from {{ cookiecutter.python_package }}.pipelines.data_science.nodes import (
    describe_model,
    train_model,
)
from {{ cookiecutter.python_package }}.pipelines.serving import create_pipeline
from {{ cookiecutter.python_package }}.pipelines.serving.nodes import (
    predict_table,
    prepare_batch,
    prepare_table,
)
from {{ cookiecutter.python_package }}.spark_frames import to_pandas, with_positions

TOLERANCE = 1e-9


@pytest.fixture(scope="module")
def trained(raw_sample, params):
    dataset, features = params["dataset"], params["features"]
    labelled = raw_sample.dropna(subset=[dataset["target"]])
    train = build_features(normalise_types(labelled, dataset), dataset, features)
    train[dataset["target"]] = train[dataset["target"]].astype(str)
    model, _search = train_model(train, dataset, features, params["model"])
    return model, describe_model(model, train, dataset)


def by_row(frame: pd.DataFrame, dataset: dict) -> pd.DataFrame:
    keys = [dataset["id_column"]] if dataset["id_column"] else list(frame.columns)
    return frame.sort_values(keys, kind="stable").reset_index(drop=True)


def assert_same(pandas_frame, spark_frame, dataset, features):
    """The same columns, numbers within TOLERANCE, categories and timestamps equal."""
    expected, got = by_row(pandas_frame, dataset), by_row(spark_frame, dataset)
    assert len(expected) == len(got)
    for column in numeric_feature_columns(dataset, features):
        np.testing.assert_allclose(
            got[column].to_numpy(float), expected[column].to_numpy(float),
            rtol=0, atol=TOLERANCE, err_msg=column,
        )  # fmt: skip
    for column in dataset["categorical_features"]:
        assert (
            got[column].fillna("<na>").tolist()
            == expected[column].fillna("<na>").tolist()
        )
    if dataset.get("timestamp_column"):
        column = dataset["timestamp_column"]
        assert got[column].tolist() == expected[column].tolist()


def test_parity_of_training_features(raw_sample, raw_table, params):
    """The Spark data engineering and the pandas functions give the same features."""
    dataset, features = params["dataset"], params["features"]
    labelled = raw_sample.dropna(subset=[dataset["target"]])
    expected = build_features(normalise_types(labelled, dataset), dataset, features)
    table = build_table_features(clean_data(raw_table, dataset), dataset, features)
    got = to_pandas(table, dataset)
    assert set(feature_columns(dataset, features)) <= set(got.columns)
    assert_same(expected, got, dataset, features)


def test_parity_of_batch_features_and_predictions(
    trained, batch_sample, batch_table, params
):
    """Online (pandas rows) and batch (Spark table) scoring: same features, same predictions
    within 1e-9, the same columns."""
    model, info = trained
    dataset, features, serving = (
        params["dataset"],
        params["features"],
        params["serving"],
    )
    expected = prepare_batch(batch_sample, dataset, features, serving)
    prepared = prepare_table(batch_table, dataset, features, serving)
    assert_same(expected, to_pandas(prepared, dataset), dataset, features)

    pandas_predictions = predict(model, info, expected, dataset, features, serving)
    spark_predictions = to_pandas(
        predict_table(model, info, prepared, dataset, features, serving), dataset
    )
    assert list(spark_predictions.columns) == list(pandas_predictions.columns)
    pandas_predictions = by_row(pandas_predictions, dataset)
    assert (
        spark_predictions["prediction"].tolist()
        == pandas_predictions["prediction"].astype(str).tolist()
    )
    np.testing.assert_allclose(
        spark_predictions["probability"], pandas_predictions["probability"],
        rtol=0, atol=TOLERANCE,
    )  # fmt: skip


def test_serving_scores_every_row(trained, batch_table, params):
    model, info = trained
    catalog = DataCatalog(
        {
            "model": MemoryDataset(model),
            "model_info": MemoryDataset(info),
            "production_batch": MemoryDataset(batch_table, copy_mode="assign"),
        }
    )
    for name in ("dataset", "features", "serving"):
        catalog[f"params:{name}"] = MemoryDataset(params[name])
    SequentialRunner().run(create_pipeline(), catalog)
    predictions = catalog.load("predictions").toPandas()
    assert len(predictions) == batch_table.count()
    assert predictions["probability"].between(0, 1).all()
    assert (predictions["model_version"] == info["version"]).all()


def test_batch_without_a_feature_is_refused(batch_table, params):
    column = params["dataset"]["categorical_features"][0]
    with pytest.raises(DataValidationError, match=f"'{column}'"):
        prepare_table(
            batch_table.drop(column),
            params["dataset"],
            params["features"],
            params["serving"],
        )


def test_batch_without_rows_is_refused(batch_table, params):
    with pytest.raises(DataValidationError, match="the file has no rows"):
        prepare_table(
            batch_table.limit(0),
            params["dataset"],
            params["features"],
            params["serving"],
        )


def test_rows_without_an_id_are_numbered_in_table_order_across_partitions(spark):
    """The ``row`` of a table without ids: 0, 1, ... in table order, whatever its partitions
    (no row moves between them)."""
    table = spark.range(0, 10_007, numPartitions=7).withColumnRenamed("id", "position")
    numbered = with_positions(table).toPandas()
    assert (
        numbered["row"].tolist() == numbered["position"].tolist() == list(range(10_007))
    )
    assert with_positions(table.limit(0)).count() == 0
