"""Without an ID column, rows are identified by their position: in the batch file's predictions
(the starter's `row` column) and, online, within each request, whatever the micro-batching."""

from __future__ import annotations

import json
import re

import numpy as np
import pandas as pd
from kedro.pipeline import node

from kedro_mlops.serving.batching import score_jobs
from kedro_mlops.serving.model import ModelMeta, ServingModel
from kedro_mlops.serving.schema import ROW_COLUMN, build_schema
from kedro_mlops.starters import project_template_dir


def positions(batch: pd.DataFrame) -> pd.DataFrame:
    """Shaped like the starter's predict without an id column."""
    return pd.DataFrame({ROW_COLUMN: np.arange(len(batch)), "doubled": batch["x"] * 2})


def model() -> ServingModel:
    return ServingModel(
        nodes=[node(positions, "batch", "predictions")],
        values={},
        input_name="batch",
        output_name="predictions",
        schema=build_schema({"id_column": None, "numeric_features": ["x"]}),
        meta=ModelMeta(name="m", version="1"),
    )


def test_the_starter_names_the_position_column_as_serving_does():
    features = next(project_template_dir().glob("src/*/features.py"))
    (name,) = re.findall(r'^ROW_COLUMN = "(\w+)"$', features.read_text(), flags=re.MULTILINE)
    assert name == ROW_COLUMN


def test_requests_scored_together_number_their_own_rows():
    first, second, third = [{"x": 1.0}, {"x": 2.0}], [{"x": 3.0}], [{"x": 4.0}, {"x": 5.0}]
    texts = score_jobs(model(), [(first, ()), (second, ()), (third, ())])
    assert [json.loads(text) for text in texts] == [
        [{"row": 0, "doubled": 2.0}, {"row": 1, "doubled": 4.0}],
        [{"row": 0, "doubled": 6.0}],
        [{"row": 0, "doubled": 8.0}, {"row": 1, "doubled": 10.0}],
    ]


def test_an_id_column_is_left_as_it_is():
    with_id = model()
    with_id.schema = build_schema({"id_column": "row", "numeric_features": ["x"]})
    texts = score_jobs(with_id, [([{"row": 7, "x": 1.0}], ()), ([{"row": 9, "x": 2.0}], ())])
    assert [json.loads(text)[0]["row"] for text in texts] == [0, 1]  # the pipeline's own values
