from __future__ import annotations

import json

import pandas as pd
import pytest
from kedro.pipeline import Pipeline, node

from kedro_mlops.serving.app import ModelHolder
from kedro_mlops.serving.model import ModelMeta, ScoringError, from_pipeline, load_bundle
from tests.serving.conftest import rows_of
from tests.serving.pipeline import (
    DATASET,
    SERVING,
    SIGNATURE,
    inference_pipeline,
    raw_rows,
    serving_model,
)


def run_with_kedro(model, batch: pd.DataFrame) -> pd.DataFrame:
    """The same pipeline through Kedro's own runner and catalog, as a batch run scores."""
    from kedro.io import DataCatalog, MemoryDataset  # noqa: PLC0415
    from kedro.runner import SequentialRunner  # noqa: PLC0415

    catalog = DataCatalog(
        {
            name: MemoryDataset(value)
            for name, value in {**model.values, "production_batch": batch}.items()
        }
    )
    SequentialRunner().run(inference_pipeline(), catalog)
    return catalog.load("predictions")


def test_scores_like_a_kedro_run(model):
    batch = raw_rows(50, seed=3)
    expected = run_with_kedro(model, batch)
    pd.testing.assert_frame_equal(model.score(batch), expected)
    # request rows (JSON values) give the same frame, hence the same predictions
    pd.testing.assert_frame_equal(model.score(model.frame(rows_of(50, seed=3))), expected)
    assert (expected["prediction"] == "yes").any() and (expected["prediction"] == "no").any()


def test_frame_is_shaped_like_the_batch_file(model):
    frame = model.frame([{**rows_of(1)[0], "tenure_months": 3, "age": None}])
    assert list(frame.columns) == model.schema.names
    assert frame["tenure_months"].dtype == "float64"
    assert frame["age"].isna().all()
    assert frame["customer_id"].dtype == "int64"


def test_a_pipeline_that_drops_rows_cannot_serve(model):
    dropping = Pipeline(
        [*inference_pipeline().nodes, node(lambda frame: frame.head(1), "predictions", "kept")]
    )
    served = from_pipeline(
        dropping, model.values, input_name="production_batch", meta=model.meta, signature=None
    )
    with pytest.raises(
        ScoringError,
        match=r"^the inference pipeline returned 1 rows for 2: online serving needs one output "
        r"row per input row$",
    ):
        served.score(served.frame(rows_of(2)))


@pytest.mark.parametrize(
    ("pipeline", "values", "message"),
    [
        (
            inference_pipeline() + Pipeline([node(len, "batch_features", "count")]),
            {},
            r"must have exactly one output to serve, it has \['count', 'predictions'\]",
        ),
        (
            inference_pipeline(),
            {"params:dataset": DATASET, "params:serving": SERVING},
            r"no value for the inference pipeline's input\(s\) \['model', 'model_info'\]",
        ),
    ],
)
def test_from_pipeline_refuses(model, pipeline, values, message):
    with pytest.raises(ScoringError, match=message):
        from_pipeline(
            pipeline,
            values or model.values,
            input_name="production_batch",
            meta=model.meta,
            signature=None,
        )


def test_bundle_round_trip(model, tmp_path):
    loaded = load_bundle(model.save_bundle(tmp_path / "bundle"))
    assert loaded.meta == ModelMeta(
        **{**model.meta.__dict__, "source": "bundle", "loaded_at": loaded.meta.loaded_at}
    )
    assert loaded.meta.loaded_at
    assert (loaded.schema, loaded.input_name, loaded.output_name) == (
        model.schema,
        model.input_name,
        model.output_name,
    )
    batch = raw_rows(20)
    pd.testing.assert_frame_equal(loaded.score(batch), model.score(batch))


def test_bundle_refuses_unpicklable_nodes(model, tmp_path):
    lambdas = Pipeline(
        [node(lambda batch: batch, "production_batch", "predictions", name="identity")]
    )
    served = from_pipeline(
        lambdas, {}, input_name="production_batch", meta=model.meta, signature=None
    )
    with pytest.raises(ScoringError, match="must be importable module-level functions"):
        served.save_bundle(tmp_path / "bundle")


def test_holder_swap_changes_model_adapter_and_tells_listeners(model):
    holder = ModelHolder(model)
    seen = []
    holder.listeners.append(lambda old, new: seen.append((old.meta.version, new.meta.version)))
    same_schema = serving_model("2", c=0.01)
    validator = holder.validator
    holder.swap(same_schema)
    assert holder.model is same_schema
    assert holder.validator is validator  # same schema: the validator is kept
    narrower = from_pipeline(
        inference_pipeline(),
        {**model.values, "params:dataset": {**DATASET, "categorical_features": ["contract_type"]}},
        input_name="production_batch",
        meta=ModelMeta(name="churn", version="3"),
        signature=SIGNATURE,
    )
    holder.swap(narrower)
    assert holder.validator is not validator
    without_region = {key: value for key, value in rows_of(1)[0].items() if key != "region"}
    assert holder.validator.body(json.dumps(without_region).encode(), max_rows=1) == [
        without_region
    ]
    assert seen == [("1", "2"), ("2", "3")]
