"""``/invocations``, MLflow's scoring protocol, through FastAPI's TestClient on the tiny real
pipeline: every format MLflow's clients send gives the pipeline's output; malformed bodies are
answered MLflow's way (400 ``BAD_REQUEST``, 415)."""

from __future__ import annotations

import json
import warnings

import pandas as pd
import pytest

from kedro_mlops.serving.app import Limits
from tests.serving.conftest import JSON, MB, assert_serves, body, rows_of

with warnings.catch_warnings():  # starlette's notice about httpx2, not ours to act on
    warnings.simplefilter("ignore")

LIMITS = Limits(max_body_bytes=3 * MB, max_rows=50)
GOOD = rows_of(1)[0]


NOT_ROWS = "expected a JSON object (one row) or an array of objects, got {}"
NULL = ", got null (a value is required)"
BIG = body([{**GOOD, "region": "x" * 9000}] * 400)  # valid rows, 3.5 MB


ROWS = rows_of(7, seed=9)
FRAME = pd.DataFrame(ROWS)
SPLIT = {"columns": list(GOOD), "data": [list(row.values()) for row in ROWS]}
INVOCATIONS = {
    "dataframe_split": (body({"dataframe_split": SPLIT}), JSON),
    "dataframe_split with index": (
        body({"dataframe_split": {**SPLIT, "index": list(range(len(ROWS)))}}),
        JSON,
    ),
    "dataframe_split by pandas": (
        b'{"dataframe_split": ' + FRAME.to_json(orient="split", index=False).encode() + b"}",
        JSON,
    ),
    "dataframe_records": (body({"dataframe_records": ROWS}), JSON),
    "inputs as records": (body({"inputs": ROWS}), JSON),
    "inputs as columns": (
        body({"inputs": {name: [row[name] for row in ROWS] for name in GOOD}}),
        JSON,
    ),
    "instances": (body({"instances": ROWS}), JSON),
    "CSV": (FRAME.to_csv(index=False).encode(), "text/csv"),
    "CSV with charset": (FRAME.to_csv(index=False).encode(), "text/csv; charset=utf-8"),
    "JSON with charset and params": (
        body({"dataframe_records": ROWS, "params": {}}),
        "application/json; charset=utf-8",
    ),
}


@pytest.mark.parametrize(("content", "content_type"), INVOCATIONS.values(), ids=INVOCATIONS)
def test_invocations_formats(client, model, content, content_type):
    response = client.post("/invocations", content=content, headers={"content-type": content_type})
    assert response.status_code == 200, response.text
    expected = model.score(model.frame(ROWS))
    predictions = pd.DataFrame(response.json()["predictions"])
    pd.testing.assert_frame_equal(predictions, expected, rtol=0, atol=1e-15)


def test_invocations_keeps_text_columns_as_text_in_csv(client):
    csv = pd.DataFrame([{**GOOD, "region": "007"}]).to_csv(index=False)
    response = client.post("/invocations", content=csv, headers={"content-type": "text/csv"})
    assert response.status_code == 200, response.text


def test_invocations_reads_nan_as_missing_like_mlflow(client, model):
    """MLflow's client sends a DataFrame's missing values as NaN literals."""
    rows = [{**GOOD, "age": None, "region": None}, GOOD]
    content = json.dumps({"dataframe_split": FRAME.head(0).to_dict(orient="split")})
    nan = content.replace(
        '"data": []',
        '"data": ['
        + ", ".join(json.dumps(list(row.values())).replace("null", "NaN") for row in rows)
        + "]",
    )
    assert nan.count("NaN") == 2
    response = client.post("/invocations", content=nan, headers={"content-type": JSON})
    assert response.status_code == 200, response.text
    expected = model.score(model.frame(rows))
    pd.testing.assert_frame_equal(pd.DataFrame(response.json()["predictions"]), expected)
    required = content.replace(
        '"data": []',
        '"data": ['
        + json.dumps(list(GOOD.values())).replace(str(GOOD["tenure_months"]), "NaN")
        + "]",
    )
    response = client.post("/invocations", content=required, headers={"content-type": JSON})
    assert response.json() == mlflow_error(
        "row 0, field 'tenure_months': Input should be a valid number" + NULL
    )
    repeated = b'{"dataframe_records": [{"age": NaN, "age": 1}]}'
    response = client.post("/invocations", content=repeated, headers={"content-type": JSON})
    assert response.json() == mlflow_error("row 0, field 'age': given more than once")


def mlflow_error(message: str) -> dict:
    return {"error_code": "BAD_REQUEST", "message": message}


ONE_OF = "dataframe_split, dataframe_records, inputs, instances"
BAD_INVOCATIONS = [
    ("text/plain", body({"inputs": ROWS}), "text/plain", 415,
     "unsupported content type 'text/plain': use application/json or text/csv"),
    ("no content type", body({"inputs": ROWS}), None, 415,
     "unsupported content type 'none': use application/json or text/csv"),
    ("a list", body(ROWS), JSON, 400, f"expected a JSON object with one of {ONE_OF}"),
    ("no known key", body({"rows": ROWS}), JSON, 400,
     f"give exactly one of {ONE_OF} (got ['rows'])"),
    ("two keys", body({"inputs": ROWS, "instances": ROWS}), JSON, 400,
     f"give exactly one of {ONE_OF} (got ['inputs', 'instances'])"),
    ("repeated key", b'{"inputs": [], "inputs": []}', JSON, 400,
     "the body gives ['inputs'] more than once"),
    ("split without columns", body({"dataframe_split": {"data": [[1]]}}), JSON, 400,
     "dataframe_split needs 'columns' (a list) and 'data' (rows)"),
    ("split with a nested column name", body({"dataframe_split": {"columns": [["a"]],
     "data": [[1]]}}), JSON, 400, "dataframe_split 'columns' must be a list of column names"),
    ("split with rows that are not lists", body({"dataframe_split": {"columns": ["a"],
     "data": [1]}}), JSON, 400, "dataframe_split 'data' must be a list of rows (lists)"),
    ("split with a column twice", body({"dataframe_split": {"columns": ["a", "a"],
     "data": [[1, 2]]}}), JSON, 400, "dataframe_split 'columns' holds a name twice"),
    ("split with a short row", body({"dataframe_split": {"columns": ["a", "b"],
     "data": [[1, 2], [1]]}}), JSON, 400, "dataframe_split row 1 has 1 values for 2 columns"),
    ("ragged columns", body({"inputs": {"age": [1, 2], "region": ["a"]}}), JSON, 400,
     "columnar 'inputs' needs a list of the same length per column"),
    ("records not a list", body({"dataframe_records": 3}), JSON, 400, NOT_ROWS.format("a number")),
    ("no records", body({"dataframe_records": []}), JSON, 400,
     "no rows: send one object or a non-empty array of objects"),
    ("a wrong type", body({"dataframe_records": [GOOD, {**GOOD, "age": "x"}]}), JSON, 400,
     "row 1, field 'age': Input should be a valid number"),
    ("a field named like the media error", body({"inputs": [{**GOOD, "content type": 1}]}), JSON,
     400, "row 0, field 'content type': unknown field"),
    ("invalid JSON", b'{"inputs": [', JSON, 400,
     "the body is not valid JSON: Expecting value: line 1 column 13 (char 12)"),
    ("empty CSV", b"", "text/csv", 400,
     "the CSV body cannot be read: No columns to parse from file"),
    ("CSV missing a column", FRAME.drop(columns="age").to_csv(index=False).encode(), "text/csv",
     400, "row 0, field 'age': Field required (and 6 more)"),
    ("too many rows", body({"inputs": [GOOD] * 51}), JSON, 400,
     "51 rows, above serving.max_rows = 50"),
    ("too large", b'{"inputs": ' + BIG + b"}", JSON, 413,
     f"the body ({len(BIG) + 12} bytes) is above serving.max_body_mb (3 MB)"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("content", "content_type", "status", "message"),
    [case[1:] for case in BAD_INVOCATIONS],
    ids=[case[0] for case in BAD_INVOCATIONS],
)
def test_bad_invocations(client, model, content, content_type, status, message):
    headers = {"content-type": content_type} if content_type else {}
    response = client.post("/invocations", content=content, headers=headers)
    assert (response.status_code, response.json()) == (status, mlflow_error(message))
    assert_serves(client, model)


def test_csv_columns_in_any_order(client):
    shuffled = FRAME[list(reversed(FRAME.columns))]
    response = client.post(
        "/invocations",
        content=shuffled.to_csv(index=False).encode(),
        headers={"content-type": "text/csv"},
    )
    assert response.status_code == 200
    ids = [row["customer_id"] for row in response.json()["predictions"]]
    assert ids == [row["customer_id"] for row in ROWS]
