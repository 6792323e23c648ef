"""The private attributes of kedro, kedro-mlflow and MLflow that ``kedro_mlops.internals`` wraps
still exist in the installed versions: an upgrade that renames one fails here, loudly, instead
of silently in a user's run."""

from __future__ import annotations

import pandas as pd
import pytest
from kedro.framework.context import KedroContext
from kedro_datasets.pandas import CSVDataset
from kedro_mlflow.io.metrics import MlflowMetricDataset
from mlflow.data.dataset_source_registry import get_registered_sources
from mlflow.data.pandas_dataset import from_pandas
from mlflow.types import Schema

from kedro_mlops import internals
from kedro_mlops.tracking.lineage import dataset_source


def test_kedro_context_has_the_package_name_and_the_hook_manager():
    fields = {attribute.name for attribute in KedroContext.__attrs_attrs__}
    assert {"_package_name", "_hook_manager"} <= fields, (
        "kedro's KedroContext lost _package_name or _hook_manager: update kedro_mlops.internals"
    )


def test_kedro_mlflow_datasets_have_the_logging_switch():
    dataset = MlflowMetricDataset(key="m")
    assert hasattr(dataset, "_logging_activated"), (
        "kedro-mlflow's datasets lost _logging_activated: update internals.stop_dataset_logging"
    )
    assert internals.stop_dataset_logging(dataset)
    assert dataset._logging_activated is False


def test_kedro_datasets_describe_themselves_and_their_save_path(tmp_path):
    dataset = CSVDataset(filepath=str(tmp_path / "a.csv"))
    assert str(internals.describe(dataset)["filepath"]).endswith("a.csv")
    assert str(internals.save_path(dataset)).endswith("a.csv")


def test_mlflow_infers_a_schema_and_takes_one_in_the_dataset():
    frame = pd.DataFrame({"a": [1.0, 2.0], "b": ["x", "y"]})
    schema = internals.infer_schema(frame)
    assert isinstance(schema, Schema)
    dataset = from_pandas(frame, source=dataset_source("data.csv"), name="d", digest="0")
    internals.set_dataset_schema(dataset, schema)
    assert dataset.schema is schema, "MLflow's PandasDataset.schema is no cached property any more"
    entity = internals.dataset_entity(dataset)
    assert entity.name == "d"


@pytest.mark.parametrize("method", ["_can_resolve", "_resolve"])
def test_mlflow_dataset_sources_resolve_paths(method):
    sources = get_registered_sources()
    assert sources
    assert all(callable(getattr(source, method, None)) for source in sources), (
        f"MLflow's dataset sources lost {method}: update internals.resolve_source"
    )


def test_a_local_file_resolves_to_a_dataset_source(tmp_path):
    path = str(tmp_path / "data.csv")
    resolved = [internals.resolve_source(source, path) for source in get_registered_sources()]
    assert any(source is not None for source in resolved)
