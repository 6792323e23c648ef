"""The REST API through FastAPI's TestClient, on the tiny real pipeline: malformed requests of
every kind are answered 4xx with a body naming the row and the field, and the server keeps
serving; health, readiness, metadata, metrics and the OpenAPI schema (MLflow's scoring protocol:
test_invocations.py)."""

from __future__ import annotations

import json
import warnings

import pandas as pd
import pytest

from kedro_mlops.serving.app import Limits, ModelHolder, create_app
from kedro_mlops.serving.model import MODEL_COLUMNS
from kedro_mlops.serving.traffic import TrafficLog, csv_partitions
from tests.serving.conftest import JSON, MB, assert_serves, body, openapi_types, rows_of
from tests.serving.pipeline import serving_model

with warnings.catch_warnings():  # starlette's notice about httpx2, not ours to act on
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

LIMITS = Limits(max_body_bytes=3 * MB, max_rows=50)
GOOD = rows_of(1)[0]


def with_field(name: str, raw: str) -> bytes:
    """The good row with ``name``'s value replaced by a raw JSON text (e.g. ``NaN``)."""
    row = {**GOOD, name: "@@"}
    return json.dumps(row).replace('"@@"', raw).encode()


def field_error(row: int, field: str, message: str, kind: str, more: int = 0) -> dict:
    suffix = f" (and {more} more)" if more else ""
    return {
        "detail": f"row {row}, field {field!r}: {message}{suffix}",
        "errors": [{"row": row, "field": field, "message": message, "type": kind}],
    }


def body_error(detail: str) -> dict:
    return {"detail": detail, "errors": []}


NOT_ROWS = "expected a JSON object (one row) or an array of objects, got {}"
NULL = ", got null (a value is required)"
LONG = "x" * (2 * MB)
BIG = body([{**GOOD, "region": "x" * 9000}] * 400)  # valid rows, 3.5 MB

MALFORMED = [
    ("string for a number", body({**GOOD, "tenure_months": "45"}), JSON, 422,
     field_error(0, "tenure_months", "Input should be a valid number", "float_type")),
    ("bool for a number", body({**GOOD, "age": True}), JSON, 422,
     field_error(0, "age", "Input should be a valid number", "float_type")),
    ("number for a string", body({**GOOD, "region": 5}), JSON, 422,
     field_error(0, "region", "Input should be a valid string", "string_type")),
    ("float for an integer id", body({**GOOD, "customer_id": 1000.5}), JSON, 422,
     field_error(0, "customer_id", "Input should be a valid integer", "int_type")),
    ("id beyond 64 bits", body({**GOOD, "customer_id": 2**64}), JSON, 422,
     field_error(0, "customer_id", "Input should be less than or equal to 9223372036854775807",
                 "less_than_equal")),
    ("NaN", with_field("tenure_months", "NaN"), JSON, 422,
     field_error(0, "tenure_months", "Input should be a finite number", "finite_number")),
    ("Infinity", with_field("age", "Infinity"), JSON, 422,
     field_error(0, "age", "Input should be a finite number", "finite_number")),
    ("-Infinity", with_field("monthly_charges", "-Infinity"), JSON, 422,
     field_error(0, "monthly_charges", "Input should be a finite number", "finite_number")),
    ("null id", body({**GOOD, "customer_id": None}), JSON, 422,
     field_error(0, "customer_id", "Input should be a valid integer" + NULL, "int_type")),
    ("null in a required number", body({**GOOD, "tenure_months": None}), JSON, 422,
     field_error(0, "tenure_months", "Input should be a valid number" + NULL, "float_type")),
    ("nested object", body({**GOOD, "region": {"name": "north"}}), JSON, 422,
     field_error(0, "region", "Input should be a valid string", "string_type")),
    ("array value", body({**GOOD, "age": [40]}), JSON, 422,
     field_error(0, "age", "Input should be a valid number", "float_type")),
    ("2 MB string", body({**GOOD, "contract_type": LONG}), JSON, 422,
     field_error(0, "contract_type", "String should have at most 10000 characters",
                 "string_too_long")),
    ("unicode column name", body({**GOOD, "régiön": "north"}), JSON, 422,
     field_error(0, "régiön", "unknown field", "extra_forbidden")),
    ("unknown field", body({**GOOD, "churn": "yes"}), JSON, 422,
     field_error(0, "churn", "unknown field", "extra_forbidden")),
    ("missing field", body({k: v for k, v in GOOD.items() if k != "signup_date"}), JSON, 422,
     field_error(0, "signup_date", "Field required", "missing")),
    ("not a date", body({**GOOD, "signup_date": "last tuesday"}), JSON, 422,
     field_error(0, "signup_date", "'last tuesday' is not an ISO date or date-time, e.g. "
                 "2025-08-18", "value_error")),
    ("duplicate keys", body(GOOD)[:-1] + b', "region": "south"}', JSON, 422,
     field_error(0, "region", "given more than once", "repeated")),
    ("duplicate keys in the 2nd row", b"[" + body(GOOD) + b"," + body(GOOD)[:-1]
     + b', "age": 3}]', JSON, 422, field_error(1, "age", "given more than once", "repeated")),
    ("a bad row after a good one", body([GOOD, {**GOOD, "age": "old"}]), JSON, 422,
     field_error(1, "age", "Input should be a valid number", "float_type")),
    ("array of scalars", body([1, 2]), JSON, 422, {
        "detail": "row 0: expected an object of fields, got a number (and 1 more)",
        "errors": [
            {"row": 0, "field": None, "message": "expected an object of fields, got a number",
             "type": "dict_type"},
            {"row": 1, "field": None, "message": "expected an object of fields, got a number",
             "type": "dict_type"},
        ]}),
    ("array of arrays", body([list(GOOD.values())]), JSON, 422, {
        "detail": "row 0: expected an object of fields, got an array",
        "errors": [{"row": 0, "field": None, "message":
                    "expected an object of fields, got an array", "type": "dict_type"}]}),
    ("bare number", b"42", JSON, 422, body_error(NOT_ROWS.format("a number"))),
    ("bare string", b'"hello"', JSON, 422, body_error(NOT_ROWS.format("a string"))),
    ("bare null", b"null", JSON, 422, body_error(NOT_ROWS.format("null"))),
    ("bare boolean", b"true", JSON, 422, body_error(NOT_ROWS.format("a boolean"))),
    ("empty list", b"[]", JSON, 422,
     body_error("no rows: send one object or a non-empty array of objects")),
    ("empty body", b"", JSON, 422,
     body_error("the body is empty: send a JSON object or an array of objects")),
    ("truncated JSON", body(GOOD)[:40], JSON, 422,
     body_error("the body is not valid JSON: Unterminated string starting at: line 1 column 38 "
                "(char 37)")),
    ("not JSON at all", b"customer_id=1000", JSON, 422,
     body_error("the body is not valid JSON: Expecting value: line 1 column 1 (char 0)")),
    ("invalid UTF-8", b'{"region": "\xff\xfe"}', JSON, 422,
     body_error("the body is not UTF-8 encoded JSON")),
    ("nested 100,000 deep", b"[" * 100_000 + b"]" * 100_000, JSON, 422,
     body_error("the body is nested too deeply: rows are flat objects")),
    ("wrong content type", body(GOOD), "text/plain", 415,
     body_error("send the rows as application/json")),
    ("form content type", b"customer_id=1000", "application/x-www-form-urlencoded", 415,
     body_error("send the rows as application/json")),
    ("no content type", body(GOOD), None, 415, body_error("send the rows as application/json")),
    ("body over max_body_mb", BIG, JSON, 413,
     body_error(f"the body ({len(BIG)} bytes) is above serving.max_body_mb (3 MB)")),
    ("rows over max_rows", body([GOOD] * 51), JSON, 413,
     body_error("51 rows, above serving.max_rows = 50")),
]  # fmt: skip


def test_there_are_over_20_kinds_of_malformed_request():
    assert len({case[0] for case in MALFORMED}) == len(MALFORMED) > 30


@pytest.mark.parametrize(
    ("content", "content_type", "status", "expected"),
    [case[1:] for case in MALFORMED],
    ids=[case[0] for case in MALFORMED],
)
def test_malformed_requests_are_4xx_and_the_server_keeps_serving(
    client, model, content, content_type, status, expected
):
    headers = {"content-type": content_type} if content_type else {}
    response = client.post("/predict", content=content, headers=headers)
    assert (response.status_code, response.json()) == (status, expected)
    assert response.headers["content-type"] == "application/json"
    assert_serves(client, model)


def test_a_chunked_body_over_the_limit_is_413(client, model):
    def chunks():
        for _ in range(4):
            yield b" " * MB

    response = client.post("/predict", content=chunks(), headers={"content-type": JSON})
    assert "content-length" not in response.request.headers
    assert (response.status_code, response.json()) == (
        413,
        body_error("the body (4194304 bytes) is above serving.max_body_mb (3 MB)"),
    )
    assert_serves(client, model)


def test_many_errors_are_capped(client):
    response = client.post("/predict", json=[{"age": "x"}] * 50)
    assert response.status_code == 422
    content = response.json()
    assert content["detail"] == "row 0, field 'customer_id': Field required (and 349 more)"
    assert len(content["errors"]) == 20


def test_predictions_are_the_pipeline_output(client, model):
    rows = rows_of(40, seed=5)
    response = client.post("/predict", json=rows)
    assert response.status_code == 200
    content = response.json()
    assert content["model"] == {"name": "churn", "version": "1", "run_id": "run1"}
    expected = model.score(model.frame(rows)).drop(columns=list(MODEL_COLUMNS))
    pd.testing.assert_frame_equal(
        pd.DataFrame(content["predictions"]), expected, rtol=0, atol=1e-15
    )


# ------------------------------------------------------------------ the other routes
def test_health_ready_and_metadata(client, model):
    assert client.get("/health").json() == {"status": "ok"}
    assert client.get("/ping").json() == {"status": "ok"}  # what MLflow's clients wait for
    assert client.get("/ready").json() == {
        "ready": True,
        "model": {"name": "churn", "version": "1", "run_id": "run1"},
    }
    assert client.get("/metadata").json() == {
        "model": {
            "name": "churn",
            "version": "1",
            "aliases": ["champion"],
            "run_id": "run1",
            "model_uri": "models:/churn@champion",
            "source": "registry",
            "git_sha": "",
            "loaded_at": "",
        },
        "input": {"name": "production_batch", "columns": model.schema.to_json()},
        "output": {"name": "predictions", "prediction_column": "prediction"},
        "limits": {"max_body_bytes": 3 * MB, "max_rows": 50},
        "rollout": {"mode": "none"},
        "feedback": None,
    }


def test_openapi_shows_typed_fields(client):
    document = client.get("/openapi.json").json()
    row = document["components"]["schemas"]["Row"]
    assert row["additionalProperties"] is False
    assert row["required"] == list(GOOD)
    assert openapi_types(row) == {
        "customer_id": "integer",
        "signup_date": "string",
        "tenure_months": "number",
        "monthly_charges": "number",
        "age": ["number", "null"],
        "contract_type": "string",
        "region": ["string", "null"],
    }
    request = document["paths"]["/predict"]["post"]["requestBody"]["content"][JSON]["schema"]
    assert request["oneOf"][0] == {"$ref": "#/components/schemas/Row"}
    assert client.get("/docs").status_code == 200


def metric_lines(client: TestClient, name: str) -> dict[str, float]:
    lines = client.get("/metrics").text.splitlines()
    return {
        line.rsplit(" ", 1)[0]: float(line.rsplit(" ", 1)[1])
        for line in lines
        if line.startswith(name + "{")
    }


def test_metrics_count_requests_and_predictions_and_no_5xx(client):
    requests = metric_lines(client, "kedro_mlops_requests_total")
    assert requests['kedro_mlops_requests_total{method="POST",route="/predict",status="200"}'] > 30
    assert requests['kedro_mlops_requests_total{method="POST",route="/predict",status="422"}'] > 25
    assert requests['kedro_mlops_requests_total{method="POST",route="/predict",status="413"}'] == 3
    assert requests['kedro_mlops_requests_total{method="POST",route="/predict",status="415"}'] == 3
    assert not [key for key in requests if 'status="5' in key]
    predictions = metric_lines(client, "kedro_mlops_predictions_total")
    assert set(predictions) == {
        'kedro_mlops_predictions_total{model_version="1",prediction="no"}',
        'kedro_mlops_predictions_total{model_version="1",prediction="yes"}',
    }
    assert metric_lines(client, "kedro_mlops_model_info") == {
        'kedro_mlops_model_info{name="churn",run_id="run1",version="1"}': 1.0
    }
    assert client.get("/metrics").headers["content-type"].startswith("text/plain; version=")


# ------------------------------------------------------------------ a reload, the traffic log
def test_a_swapped_model_answers_and_is_named_everywhere(model):
    holder = ModelHolder(model)
    with TestClient(create_app(holder, LIMITS)) as client:
        before = client.post("/predict", json=GOOD).json()
        holder.swap(serving_model("2", c=0.01))
        after = client.post("/predict", json=GOOD).json()
        metadata = client.get("/metadata").json()
        info = metric_lines(client, "kedro_mlops_model_info")
    assert before["model"]["version"] == "1"
    assert after["model"] == {"name": "churn", "version": "2", "run_id": "run2"}
    assert after["predictions"] != before["predictions"]
    assert metadata["model"]["version"] == "2"
    assert info == {'kedro_mlops_model_info{name="churn",run_id="run2",version="2"}': 1.0}


def test_served_rows_are_logged_with_their_predictions(model, tmp_path):
    traffic = TrafficLog(csv_partitions(tmp_path / "served"), flush_s=3600)
    rows = rows_of(5, seed=11)
    with TestClient(create_app(ModelHolder(model), LIMITS, traffic=traffic)) as client:
        assert client.post("/predict", json=rows[:2]).status_code == 200
        assert client.post("/predict", json={**rows[2], "age": "x"}).status_code == 422
        assert client.post("/invocations", json={"inputs": rows[3:]}).status_code == 200
    # every request was counted while in flight: the log writes when none is
    assert (traffic.activity.started, traffic.activity.in_flight) == (3, 0)
    # the app's shutdown flushed the log
    logged = pd.concat(pd.read_csv(f) for f in sorted((tmp_path / "served").glob("*.csv")))
    served = [rows[0], rows[1], rows[3], rows[4]]
    assert logged["customer_id"].tolist() == [row["customer_id"] for row in served]
    expected = model.score(model.frame(served))
    assert logged["prediction"].tolist() == expected["prediction"].tolist()
    assert logged["probability"].to_numpy() == pytest.approx(expected["probability"].to_numpy())
