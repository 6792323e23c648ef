"""The MLflow dataset input of a Spark table: a content digest computed in Spark, in one pass.

What is hashed: the column names and types, the row count, and two sums over all rows of
Spark's row hashes (``xxhash64`` and the 32-bit ``hash`` of every column's value and of
whether it is null, summed as exact decimals). A Spark table has no row order, so neither has
the digest: the same rows in any order or partitioning give the same digest; changing, adding
or removing any value changes it. The pandas digest (``lineage.frame_digest``) hashes rows in
order: a table read by both engines has two different digests.
"""

from __future__ import annotations

import hashlib
import json
import warnings
from typing import TYPE_CHECKING, Any

from kedro_mlops import internals

if TYPE_CHECKING:
    from mlflow.entities import DatasetInput


def spark_digest(frame: Any) -> tuple[str, int]:  # noqa: ANN401 - a Spark DataFrame
    """The digest of a Spark table (see the module) and its row count."""
    from pyspark.sql import functions as F  # noqa: PLC0415 - only for Spark tables

    values = [frame[column] for column in frame.columns]
    nulls = [frame[column].isNull() for column in frame.columns]
    row = frame.agg(
        F.count(F.lit(1)).alias("rows"),
        F.sum(F.xxhash64(*values, *nulls).cast("decimal(38,0)")).alias("xx"),
        F.sum(F.hash(*values, *nulls).cast("decimal(38,0)")).alias("mm"),
    ).collect()[0]
    digest = hashlib.sha256()
    digest.update("\x1f".join(f"{name}:{kind}" for name, kind in frame.dtypes).encode())
    digest.update(f"{row['rows']}\x1f{row['xx'] or 0}\x1f{row['mm'] or 0}".encode())
    return digest.hexdigest()[:16], int(row["rows"])


def spark_dataset_input(
    frame: Any,  # noqa: ANN401 - a Spark DataFrame
    name: str,
    source: Any,  # noqa: ANN401 - an MLflow DatasetSource or a path
    context: str = "input",
) -> DatasetInput:
    """An MLflow ``DatasetInput`` of a Spark table: our digest, the source, the schema (from
    Spark's, no data read) and the exact row count as its profile."""
    from mlflow.entities import Dataset, DatasetInput, InputTag  # noqa: PLC0415

    digest, rows = spark_digest(frame)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            schema = json.dumps({"mlflow_colspec": internals.infer_schema(frame).to_dict()})
    except Exception:  # a schema MLflow cannot express is left out, as MLflow does itself
        schema = None
    source_type = source._get_source_type() if hasattr(source, "_get_source_type") else "local"
    source_json = source.to_json() if hasattr(source, "to_json") else json.dumps({"uri": source})
    dataset = Dataset(
        name=name,
        digest=digest,
        source_type=source_type,
        source=source_json,
        schema=schema,
        profile=json.dumps({"num_rows": rows}),
    )
    return DatasetInput(dataset=dataset, tags=[InputTag(key="mlflow.data.context", value=context)])
