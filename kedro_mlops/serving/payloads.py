"""The rows of an MLflow scoring request (``/invocations``): ``dataframe_split``,
``dataframe_records``, ``inputs`` (rows or columns), ``instances`` or CSV, as a list of row objects
that the schema then validates. Pure: no I/O."""

from __future__ import annotations

import io
import json
from typing import Any

from kedro_mlops.serving.schema import RequestError, parse_json, repeated_keys


class MediaTypeError(RequestError):
    """A body in a format the route does not read (HTTP 415)."""


def is_json(content_type: str) -> bool:
    """Whether a ``Content-Type`` header names JSON (``application/json`` or ``...+json``)."""
    media = content_type.split(";", 1)[0].strip().lower()
    return media == "application/json" or (
        media.startswith("application/") and media.endswith("+json")
    )


def mlflow_records(body: bytes, content_type: str, text_columns: list[str]) -> Any:  # noqa: ANN401
    """The rows of an MLflow scoring request, as a list of objects (validated afterwards).

    Raises:
        MediaTypeError: for a body neither JSON nor CSV.
        RequestError: for a body that is not one of MLflow's formats.
    """
    media = content_type.split(";", 1)[0].strip().lower()
    if media == "text/csv":
        return _csv_records(body, text_columns)
    if not is_json(media):
        raise MediaTypeError(
            f"unsupported content type {content_type or 'none'!r}: use application/json or text/csv"
        )
    data = parse_json(body)
    if not isinstance(data, dict):
        raise RequestError(
            "expected a JSON object with one of dataframe_split, dataframe_records, inputs, "
            "instances"
        )
    if repeated_keys(data):
        raise RequestError(f"the body gives {list(repeated_keys(data))} more than once")
    keys = [
        key
        for key in ("dataframe_split", "dataframe_records", "inputs", "instances")
        if key in data
    ]
    if len(keys) != 1:
        raise RequestError(
            "give exactly one of dataframe_split, dataframe_records, inputs, instances "
            f"(got {sorted(data)})"
        )
    payload = data[keys[0]]
    if keys[0] == "dataframe_split":
        records = _split_records(payload)
    elif isinstance(payload, dict) and keys[0] == "inputs":
        records = _columnar_records(payload)
    else:
        records = payload
    # MLflow's clients send a DataFrame's missing values as NaN (json.dumps of pandas' NaN), and
    # MLflow's server reads them as missing: so do we (only here: /predict refuses NaN)
    if b"NaN" in body and isinstance(records, list):
        records = [_nan_as_null(row) for row in records]
    return records


def _nan_as_null(row: Any) -> Any:  # noqa: ANN401 - a row object, or anything a client sent
    if not isinstance(row, dict) or repeated_keys(row):  # refused as it is when validated
        return row
    return {key: None if value != value else value for key, value in row.items()}  # noqa: PLR0124 - NaN


def _csv_records(body: bytes, text_columns: list[str]) -> list[dict[str, Any]]:
    """CSV rows as objects; text columns stay text (``"01"``, ``"1"`` are category labels)."""
    import pandas as pd  # noqa: PLC0415

    try:
        frame = pd.read_csv(io.BytesIO(body), dtype=dict.fromkeys(text_columns, "string"))
    except Exception as exc:
        raise RequestError(f"the CSV body cannot be read: {exc}") from None
    return json.loads(frame.to_json(orient="records"))


def _split_records(payload: Any) -> list[dict[str, Any]]:  # noqa: ANN401
    """``dataframe_split``: ``{"columns": [names], "data": [[values], ...]}``."""
    if not isinstance(payload, dict) or not isinstance(payload.get("columns"), list):
        raise RequestError("dataframe_split needs 'columns' (a list) and 'data' (rows)")
    columns, rows = payload["columns"], payload.get("data")
    if repeated_keys(payload) or not all(isinstance(name, str) for name in columns):
        raise RequestError("dataframe_split 'columns' must be a list of column names")
    if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
        raise RequestError("dataframe_split 'data' must be a list of rows (lists)")
    if len(set(columns)) != len(columns):
        raise RequestError("dataframe_split 'columns' holds a name twice")
    bad = next((i for i, row in enumerate(rows) if len(row) != len(columns)), None)
    if bad is not None:
        raise RequestError(
            f"dataframe_split row {bad} has {len(rows[bad])} values for {len(columns)} columns"
        )
    return [dict(zip(columns, row, strict=True)) for row in rows]


def _columnar_records(payload: dict[str, Any]) -> list[dict[str, Any]]:
    """Columnar ``inputs``: ``{"column": [values], ...}``."""
    if repeated_keys(payload):
        raise RequestError(f"'inputs' gives {list(repeated_keys(payload))} more than once")
    lengths = {len(v) if isinstance(v, list) else -1 for v in payload.values()}
    if len(lengths) != 1 or -1 in lengths:
        raise RequestError("columnar 'inputs' needs a list of the same length per column")
    (count,) = lengths
    return [{name: values[i] for name, values in payload.items()} for i in range(count)]
