from __future__ import annotations

import json

import pandas as pd
import pytest

from kedro_mlops.serving.schema import (
    MAX_ERRORS,
    Column,
    FeatureSchema,
    RequestError,
    TooManyRowsError,
    build_schema,
    parse_json,
    signature_of_frame,
    validate_rows,
)

DATASET = {
    "id_column": "customer_id",
    "timestamp_column": "signup_date",
    "numeric_features": ["tenure", "age"],
    "categorical_features": ["region"],
}


@pytest.mark.parametrize(
    ("dataset", "signature", "expected"),
    [
        pytest.param(
            DATASET,
            None,
            [
                Column("customer_id", "string", False, "id"),
                Column("signup_date", "datetime", False, "timestamp"),
                Column("tenure", "double", True, "numeric"),
                Column("age", "double", True, "numeric"),
                Column("region", "string", True, "categorical"),
            ],
            id="no signature: types from the roles, features nullable",
        ),
        pytest.param(
            DATASET,
            [
                {"name": "customer_id", "type": "long", "required": True},
                {"name": "signup_date", "type": "string", "required": True},
                {"name": "tenure", "type": "long", "required": True},
                {"name": "age", "type": "double", "required": False},
                {"name": "region", "type": "string", "required": True},
                {"name": "not_a_feature", "type": "double", "required": True},
            ],
            [
                Column("customer_id", "long", False, "id"),
                Column("signup_date", "string", False, "timestamp"),
                Column("tenure", "double", False, "numeric"),  # ints are numbers
                Column("age", "double", True, "numeric"),
                Column("region", "string", False, "categorical"),
            ],
            id="signature: types and required columns; columns outside params:dataset ignored",
        ),
        pytest.param(
            {**DATASET, "id_column": None, "timestamp_column": None},
            [{"name": "tenure", "type": "double", "required": False}],
            [
                Column("tenure", "double", True, "numeric"),
                Column("age", "double", True, "numeric"),
                Column("region", "string", True, "categorical"),
            ],
            id="no id and no timestamp column",
        ),
        pytest.param(
            {"numeric_features": ["x"], "categorical_features": []},
            [{"type": "tensor"}],  # a tensor signature has no column names
            [Column("x", "double", True, "numeric")],
            id="keys missing from params:dataset; nameless signature entries",
        ),
    ],
)
def test_build_schema(dataset, signature, expected):
    schema = build_schema(dataset, signature)
    assert list(schema.columns) == expected
    assert schema.id_column == next((c.name for c in expected if c.role == "id"), None)
    assert FeatureSchema.from_json(json.loads(json.dumps(schema.to_json()))) == schema


def test_signature_of_frame():
    frame = pd.DataFrame(
        {
            "id": [1, 2],
            "x": [1.5, None],
            "flag": [True, False],
            "when": pd.to_datetime(["2025-01-01", "2025-01-02"]),
            "name": ["a", "b"],
        }
    )
    assert signature_of_frame(frame) == [
        {"name": "id", "type": "long", "required": True},
        {"name": "x", "type": "double", "required": False},
        {"name": "flag", "type": "boolean", "required": True},
        {"name": "when", "type": "datetime", "required": True},
        {"name": "name", "type": "string", "required": True},
    ]


SCHEMA = build_schema(
    DATASET,
    [
        {"name": "customer_id", "type": "long", "required": True},
        {"name": "region", "type": "string", "required": False},
    ],
)
ADAPTER = SCHEMA.adapter()
GOOD = {"customer_id": 7, "signup_date": "2025-01-31", "tenure": 3, "age": None, "region": "north"}


def refused(body: object, max_rows: int = 10) -> RequestError:
    with pytest.raises(RequestError) as raised:
        validate_rows(ADAPTER, body, max_rows=max_rows)
    return raised.value


def test_valid_rows_keep_their_values():
    rows = [GOOD, {**GOOD, "customer_id": 8, "age": 41.5, "signup_date": "2025-02-01T10:00"}]
    assert validate_rows(ADAPTER, rows, max_rows=2) == rows


@pytest.mark.parametrize(
    ("rows", "message", "errors"),
    [
        (
            [{**GOOD, "tenure": "3"}],
            "row 0, field 'tenure': Input should be a valid number",
            [{"row": 0, "field": "tenure", "type": "float_type"}],
        ),
        (
            [GOOD, {**GOOD, "customer_id": None}],
            "row 1, field 'customer_id': Input should be a valid integer, got null "
            "(a value is required)",
            [{"row": 1, "field": "customer_id", "type": "int_type"}],
        ),
        (
            [{**GOOD, "customer_id": 2**63}],
            "row 0, field 'customer_id': Input should be less than or equal to 9223372036854775807",
            [{"row": 0, "field": "customer_id", "type": "less_than_equal"}],
        ),
        (
            [{**GOOD, "age": float("nan")}],
            "row 0, field 'age': Input should be a finite number",
            [{"row": 0, "field": "age", "type": "finite_number"}],
        ),
        (
            [{**GOOD, "signup_date": "31/01/2025"}],
            "row 0, field 'signup_date': '31/01/2025' is not an ISO date or date-time, "
            "e.g. 2025-08-18",
            [{"row": 0, "field": "signup_date", "type": "value_error"}],
        ),
        (
            [{**GOOD, "region": "x" * 10_001}],
            "row 0, field 'region': String should have at most 10000 characters",
            [{"row": 0, "field": "region", "type": "string_too_long"}],
        ),
        (
            [{**GOOD, "x" * 500: 1}],
            f"row 0, field '{'x' * 100}... (500 characters)': unknown field",
            [{"row": 0, "field": f"{'x' * 100}... (500 characters)", "type": "extra_forbidden"}],
        ),
        (
            [{key: value for key, value in GOOD.items() if key != "age"}, 5],
            "row 0, field 'age': Field required (and 1 more)",
            [
                {"row": 0, "field": "age", "type": "missing"},
                {"row": 1, "field": None, "type": "dict_type"},
            ],
        ),
    ],
)
def test_field_errors_name_the_row_and_the_field(rows, message, errors):
    error = refused(rows)
    assert error.message == message
    assert [{k: e[k] for k in ("row", "field", "type")} for e in error.errors] == errors
    assert error.errors[0]["message"] == message.split(": ", 1)[1].removesuffix(" (and 1 more)")


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"a": 1}, "expected a JSON object (one row) or an array of objects, got an object"),
        (3, "expected a JSON object (one row) or an array of objects, got a number"),
        (None, "expected a JSON object (one row) or an array of objects, got null"),
        ([], "no rows: send one object or a non-empty array of objects"),
    ],
)
def test_bodies_that_are_not_rows(body, message):
    error = refused(body)
    assert (error.message, error.errors) == (message, [])


def test_too_many_rows_and_errors_capped():
    with pytest.raises(TooManyRowsError, match=r"^11 rows, above serving.max_rows = 10$"):
        validate_rows(ADAPTER, [GOOD] * 11, max_rows=10)
    error = refused([{}] * 10)  # 5 missing fields a row
    assert error.message == "row 0, field 'customer_id': Field required (and 49 more)"
    assert len(error.errors) == MAX_ERRORS


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"", "the body is empty: send a JSON object or an array of objects"),
        (b"  \n", "the body is empty: send a JSON object or an array of objects"),
        (b'{"a": "\xff"}', "the body is not UTF-8 encoded JSON"),
        (
            b'{"a": 1',
            "the body is not valid JSON: Expecting ',' delimiter: line 1 column 8 (char 7)",
        ),
        (b"[" * 100_000, "the body is nested too deeply: rows are flat objects"),
    ],
)
def test_parse_json_refuses(body, message):
    with pytest.raises(RequestError) as raised:
        parse_json(body)
    assert raised.value.message == message


def test_repeated_keys_are_named_with_their_row():
    rows = parse_json(b'[{"customer_id": 1}, {"region": "a", "age": 1, "region": "b", "age": 2}]')
    error = refused(rows)
    assert error.message == "row 1, field 'age': given more than once (and 1 more)"
    assert error.errors == [
        {"row": 1, "field": "age", "message": "given more than once", "type": "repeated"},
        {"row": 1, "field": "region", "message": "given more than once", "type": "repeated"},
    ]


VALIDATOR = SCHEMA.validator()
ROW = json.dumps(GOOD)


@pytest.mark.parametrize(
    ("body", "rows"),
    [
        (ROW, [GOOD]),
        (f"[{ROW}, {ROW}]", [GOOD, GOOD]),
        (f" \n [{ROW}]\n", [GOOD]),
        (ROW.replace('"north"', r'"a \":\" b"'), [{**GOOD, "region": 'a ":" b'}]),
        (ROW.replace('": ', '" : '), [GOOD]),
        (ROW.replace('"age": null', '"age": 3'), [{**GOOD, "age": 3}]),
        (
            ROW.replace("2025-01-31", "2025-01-31T10:30:00+01:00"),
            [{**GOOD, "signup_date": "2025-01-31T10:30:00+01:00"}],
        ),
        (ROW.replace('"north"', '"a:b"'), [{**GOOD, "region": "a:b"}]),
    ],
    ids=[
        "object",
        "array",
        "blanks",
        "value holding a key-like text",
        "blank before colons",
        "int",
        "date-time (colons in a value)",
        "colon in a value",
    ],
)
def test_validator_takes_any_valid_body(body, rows):
    assert VALIDATOR.body(body.encode(), max_rows=2) == rows


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (ROW[:-1] + ', "region": "south"}', "row 0, field 'region': given more than once"),
        (ROW[:-1] + ', "region" : "south"}', "row 0, field 'region': given more than once"),
        (f"[{ROW}, {ROW[:-1]}, " + '"age": 1}]', "row 1, field 'age': given more than once"),
        (
            ROW.replace("2025-01-31", "2025-01-31T10:30").replace('"north"', '"a:b"')[:-1]
            + ', "tenure": 4}',
            "row 0, field 'tenure': given more than once",
        ),
        (
            f"[{ROW}, {ROW.replace('2025-01-31', '2025-02-30')}]",
            "row 1, field 'signup_date': '2025-02-30' is not an ISO date or date-time, e.g. "
            "2025-08-18",
        ),
        (ROW.replace("null", "NaN"), "row 0, field 'age': Input should be a finite number"),
        ("[]", "no rows: send one object or a non-empty array of objects"),
        ("7", "expected a JSON object (one row) or an array of objects, got a number"),
        (
            ROW.replace('"customer_id"', '"id"'),
            "row 0, field 'customer_id': Field required (and 1 more)",
        ),
    ],
)
def test_validator_refuses_like_the_careful_path(body, message):
    with pytest.raises(RequestError) as raised:
        VALIDATOR.body(body.encode(), max_rows=2)
    assert raised.value.message == message


def test_validator_counts_rows():
    with pytest.raises(TooManyRowsError, match=r"^3 rows, above serving.max_rows = 2$"):
        VALIDATOR.body(f"[{ROW}, {ROW}, {ROW}]".encode(), max_rows=2)


@pytest.mark.parametrize(
    "body",
    [json.dumps([GOOD] * 3), ROW.replace("2025-01-31", "2025-01-31T10:30:00")],
    ids=["json.dumps", "date-time"],
)
def test_well_formed_bodies_take_the_fast_path(body):
    # what clients send (json.dumps, pandas' to_json) is validated without the careful path
    rows = json.loads(body)
    assert VALIDATOR._fast(body.encode()) == (rows if isinstance(rows, list) else [rows])
