from __future__ import annotations

import pytest
from kedro.io import DataCatalog, MemoryDataset
from kedro.runner import SequentialRunner
from pyspark.sql import functions as F  # noqa: N812

from {{ cookiecutter.python_package }}.features import DataValidationError, feature_columns
from {{ cookiecutter.python_package }}.pipelines.data_engineering import create_pipeline
from {{ cookiecutter.python_package }}.pipelines.data_engineering.nodes import (
    build_features,
    clean_data,
    snapshot_reference,
    split_data,
    validate_data,
)


def test_validate_accepts_the_raw_data(raw_table, params):
    assert (
        validate_data(raw_table, params["dataset"], params["validation"]) is raw_table
    )


def test_validate_names_a_missing_column(raw_table, params):
    column = params["dataset"]["numeric_features"][0]
    with pytest.raises(DataValidationError, match=f"missing column.*'{column}'"):
        validate_data(raw_table.drop(column), params["dataset"], params["validation"])


def test_validate_rejects_a_single_class_target(raw_table, params):
    dataset = params["dataset"]
    single = raw_table.withColumn(dataset["target"], F.lit(dataset["positive_class"]))
    with pytest.raises(DataValidationError, match="exactly 2 classes.*found 1"):
        validate_data(single, dataset, params["validation"])


def test_validate_reports_values_out_of_range(raw_table, params):
    ranges = params["validation"]["ranges"]
    if not ranges:
        pytest.skip("no ranges configured")
    column, (low, high) = next(iter(ranges.items()))
    id_column = params["dataset"]["id_column"] or column
    first = sorted(r[0] for r in raw_table.select(id_column).limit(3).collect())
    broken = raw_table.withColumn(
        column,
        F.when(F.col(id_column).isin(first), F.lit(low - 1)).otherwise(F.col(column)),
    )
    source = params["validation"]["source"]
    with pytest.raises(DataValidationError) as error:
        validate_data(broken, params["dataset"], params["validation"])
    assert str(error.value).startswith(
        f"{source}: column '{column}' has 3 value(s) outside [{low}, {high}], e.g. "
    )


def test_validate_reports_non_numeric_values(raw_table, params):
    column = params["dataset"]["numeric_features"][0]
    id_column = params["dataset"]["id_column"] or column
    first = raw_table.select(id_column).limit(1).collect()[0][0]
    broken = raw_table.withColumn(
        column,
        F.when(F.col(id_column) == first, F.lit("not-a-number")).otherwise(
            F.col(column).cast("string")
        ),
    )
    source = params["validation"]["source"]
    with pytest.raises(DataValidationError) as error:
        validate_data(broken, params["dataset"], params["validation"])
    assert str(error.value) == (
        f"{source}: column '{column}' should be numeric but has 1 non-numeric value(s), "
        "e.g. ['not-a-number']"
    )


def test_validate_refuses_a_file_without_rows(raw_table, params):
    with pytest.raises(DataValidationError, match="the file has no rows"):
        validate_data(raw_table.limit(0), params["dataset"], params["validation"])


def test_features_split_and_reference(raw_table, params):
    dataset, split = params["dataset"], params["split"]
    features = build_features(
        clean_data(raw_table, dataset), dataset, params["features"]
    ).cache()
    assert set(feature_columns(dataset, params["features"])) <= set(features.columns)
    train, test = split_data(features, dataset, split)
    assert train.count() + test.count() == features.count()
    assert train.count() > test.count() > 0
    again, _ = split_data(features, dataset, split)
    assert sorted(map(tuple, train.collect())) == sorted(map(tuple, again.collect()))
    capped = snapshot_reference(
        train, dataset, params["features"], {"max_rows": 50, "random_state": 1}
    )
    assert capped.count() == 50
    rows = sorted(map(tuple, capped.collect()))
    assert rows == sorted(map(tuple, capped.collect()))  # seeded: the same rows


def test_pipeline_runs_in_memory(raw_table, params):
    catalog = DataCatalog({"raw_data": MemoryDataset(raw_table, copy_mode="assign")})
    for name in ("dataset", "features", "validation", "split", "reference"):
        catalog[f"params:{name}"] = MemoryDataset(params[name])
    SequentialRunner().run(create_pipeline(), catalog)
    reference = catalog.load("reference_features")
    test = catalog.load("test_set")
    assert 0 < reference.count() + test.count() <= raw_table.count()
    assert params["dataset"]["target"] in reference.columns
