"""The digest of a Spark table: what is hashed (see kedro_mlops.tracking.spark_lineage)."""

from __future__ import annotations

import json

import pandas as pd

from kedro_mlops.tracking.spark_lineage import spark_dataset_input, spark_digest

FRAME = pd.DataFrame({"id": [1, 2, 3, 4], "a": [1.5, None, 3.0, 4.0], "b": ["x", "y", None, "z"]})


def test_the_digest_ignores_row_order_and_partitioning(spark):
    table = spark.createDataFrame(FRAME)
    digest, rows = spark_digest(table)
    assert rows == 4
    shuffled = spark.createDataFrame(FRAME.iloc[::-1]).repartition(3)
    assert spark_digest(shuffled)[0] == digest


def test_any_value_a_null_or_a_column_changes_the_digest(spark):
    digest, _rows = spark_digest(spark.createDataFrame(FRAME))
    changed = FRAME.copy()
    changed.loc[0, "a"] = 1.25
    moved_null = FRAME.copy()
    moved_null.loc[[0, 1], "a"] = [float("nan"), 1.5]
    renamed = FRAME.rename(columns={"b": "c"})
    for other in (changed, moved_null, renamed, FRAME.iloc[:3]):
        assert spark_digest(spark.createDataFrame(other))[0] != digest


def test_the_dataset_input_carries_digest_schema_and_rows(spark):
    table = spark.createDataFrame(FRAME)
    entry = spark_dataset_input(table, "raw_data", "data/01_raw/customers.csv")
    assert entry.dataset.name == "raw_data"
    assert entry.dataset.digest == spark_digest(table)[0]
    assert json.loads(entry.dataset.profile) == {"num_rows": 4}
    columns = json.loads(entry.dataset.schema)["mlflow_colspec"]
    assert [column["name"] for column in columns] == ["id", "a", "b"]
    assert [tag.value for tag in entry.tags] == ["input"]
