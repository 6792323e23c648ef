from __future__ import annotations

import pandas as pd
import pytest
from kedro.io import DataCatalog, MemoryDataset
from kedro.runner import SequentialRunner

from {{ cookiecutter.python_package }}.features import (
    DataValidationError,
    build_features,
    check_features,
    feature_columns,
)
from {{ cookiecutter.python_package }}.pipelines.data_engineering import create_pipeline
from {{ cookiecutter.python_package }}.pipelines.data_engineering.nodes import (
    clean_data,
    split_data,
    validate_data,
)


def test_validate_accepts_the_raw_data(raw_sample, params):
    validated = validate_data(raw_sample, params["dataset"], params["validation"])
    pd.testing.assert_frame_equal(validated, raw_sample)


def test_validate_names_a_missing_column(raw_sample, params):
    column = params["dataset"]["numeric_features"][0]
    broken = raw_sample.drop(columns=column)
    with pytest.raises(DataValidationError, match=f"missing column.*'{column}'"):
        validate_data(broken, params["dataset"], params["validation"])


def test_validate_rejects_a_single_class_target(raw_sample, params):
    dataset = params["dataset"]
    single = raw_sample.assign(**{dataset["target"]: dataset["positive_class"]})
    with pytest.raises(DataValidationError, match="exactly 2 classes"):
        validate_data(single, dataset, params["validation"])


def test_validate_reports_values_out_of_range(raw_sample, params):
    ranges = params["validation"]["ranges"]
    if not ranges:
        pytest.skip("no ranges configured")
    column, (low, _high) = next(iter(ranges.items()))
    broken = raw_sample.copy()
    broken.loc[:2, column] = low - 1
    with pytest.raises(DataValidationError, match=f"'{column}' has 3 value"):
        validate_data(broken, params["dataset"], params["validation"])


def test_validate_reports_non_numeric_values(raw_sample, params):
    column = params["dataset"]["numeric_features"][0]
    broken = raw_sample.astype({column: object})
    broken.loc[0, column] = "not-a-number"
    with pytest.raises(DataValidationError, match="not-a-number"):
        validate_data(broken, params["dataset"], params["validation"])


def test_features_and_split(raw_sample, params):
    dataset, split = params["dataset"], params["split"]
    features = build_features(
        clean_data(raw_sample, dataset), dataset, params["features"]
    )
    assert set(feature_columns(dataset, params["features"])) <= set(features.columns)
    train, test = split_data(features, dataset, split)
    assert len(train) + len(test) == len(features)
    again, _ = split_data(features, dataset, split)
    pd.testing.assert_frame_equal(train, again)  # seeded


def test_pipeline_runs_in_memory(raw_sample, params):
    catalog = DataCatalog({"raw_data": MemoryDataset(raw_sample)})
    for name in ("dataset", "features", "validation", "split"):
        catalog[f"params:{name}"] = MemoryDataset(params[name])
    SequentialRunner().run(create_pipeline(), catalog)
    reference = catalog.load("reference_features")
    test = catalog.load("test_set")
    assert 0 < len(reference) + len(test) <= len(raw_sample)
    assert len(reference) > len(test)
    assert params["dataset"]["target"] in reference.columns


def test_a_zero_denominator_is_counted(raw_sample, params, caplog):
    ratios = params["features"].get("ratios") or {}
    if not ratios:
        pytest.skip("no ratio configured")
    name, (_numerator, denominator) = next(iter(ratios.items()))
    data = clean_data(raw_sample, params["dataset"]).copy()
    data.loc[:4, denominator] = 0
    zeros = int((data[denominator] == 0).sum())
    with caplog.at_level("WARNING"):
        features = build_features(data, params["dataset"], params["features"])
    assert features.loc[:4, name].isna().all()
    assert f"{denominator} is 0 in {zeros} of {len(data)} rows" in caplog.text


def test_validate_refuses_a_file_without_rows(raw_sample, params):
    with pytest.raises(DataValidationError, match="the file has no rows"):
        validate_data(raw_sample.iloc[:0], params["dataset"], params["validation"])


@pytest.mark.parametrize(
    ("features", "message"),
    [
        ({"timestamp_parts": ["month"], "ratios": {"a": ["x", "d_month"]}}, None),
        ({"ratios": {"a": ["x", "y"], "b": ["a", "x"]}}, None),  # a ratio of a ratio
        ({"ratios": {"a": ["x", "z"]}}, r"ratios\.a divides column\(s\) \['z'\]"),
        ({"ratios": {"a": ["x"]}}, r"ratios\.a should be \[numerator, denominator\]"),
        ({"timestamp_parts": ["mnth"]}, "'mnth' is not a date part"),
    ],
)
def test_derived_features_name_what_the_data_has(features, message):
    dataset = {"timestamp_column": "d"}
    if message is None:
        check_features(["x", "y", "d"], dataset, features)
    else:
        with pytest.raises(DataValidationError, match=message):
            check_features(["x", "y", "d"], dataset, features)
