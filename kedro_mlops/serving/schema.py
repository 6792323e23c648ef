"""The typed request rows of the serving API, made from the project's feature configuration.

Which fields a row has comes from ``params:dataset`` (id, timestamp, numeric and categorical
columns); each field's JSON type and whether it may be ``null`` come from the logged model's input
signature when there is one (else from the columns' role). Pure: no I/O.
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Annotated, Any

from pydantic import AfterValidator, ConfigDict, Field, TypeAdapter, ValidationError
from typing_extensions import TypedDict

from kedro_mlops.errors import validation_message

# the longest text a field takes: category labels and dates are short, and every served row is
# kept in the traffic log
MAX_TEXT = 10_000
# how many field errors a response lists (a 10,000-row body can have 100,000 of them)
MAX_ERRORS = 20
_TEXT = Annotated[str, Field(max_length=MAX_TEXT)]
# MLflow signature column types -> Python types accepted in a request (strict: no coercion of
# strings to numbers, no bools as numbers; integers within the column type's range)
_SIGNATURE_TYPES: dict[str, Any] = {
    "double": float,
    "float": float,
    "long": Annotated[int, Field(ge=-(2**63), le=2**63 - 1)],
    "integer": Annotated[int, Field(ge=-(2**31), le=2**31 - 1)],
    "boolean": bool,
    "string": _TEXT,
    "datetime": _TEXT,
}
# with no id column (``params:dataset.id_column`` null), the starter's pipeline identifies each
# output row by its position in the batch, in this column
ROW_COLUMN = "row"
# pandas dtype kinds -> the same names
_DTYPE_KINDS = {"f": "double", "i": "long", "u": "long", "b": "boolean", "M": "datetime"}


class RequestError(ValueError):
    """A request that does not match the schema; ``errors`` name the row and the field."""

    def __init__(self, message: str, errors: list[dict[str, Any]] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.errors = errors or []


@dataclass(frozen=True)
class Column:
    """One field of a request row."""

    name: str
    type: str  # an MLflow signature type name: double, long, string, boolean, datetime
    nullable: bool
    role: str  # id | timestamp | numeric | categorical


def _check_timestamp(value: str) -> str:
    try:
        datetime.fromisoformat(value)
    except ValueError:
        raise ValueError(f"{value!r} is not an ISO date or date-time, e.g. 2025-08-18") from None
    return value


_TIMESTAMP = Annotated[_TEXT, AfterValidator(_check_timestamp)]


@dataclass(frozen=True)
class FeatureSchema:
    """The request row: ordered columns, and a strict validator of one or many rows."""

    columns: tuple[Column, ...]

    @property
    def names(self) -> list[str]:
        return [column.name for column in self.columns]

    @property
    def id_column(self) -> str | None:
        return next((c.name for c in self.columns if c.role == "id"), None)

    def to_json(self) -> list[dict[str, Any]]:
        return [asdict(column) for column in self.columns]

    @classmethod
    def from_json(cls, data: list[dict[str, Any]]) -> FeatureSchema:
        return cls(tuple(Column(**column) for column in data))

    def row_type(self, *, check_timestamps: bool = True) -> type:
        """A ``TypedDict`` of one row: every field required, unknown fields refused.

        Args:
            check_timestamps: whether the timestamp's text must be an ISO date (else any text,
                for a caller that checks the dates itself).
        """
        fields: dict[str, Any] = {}
        for column in self.columns:
            if column.role == "timestamp":
                python = _TIMESTAMP if check_timestamps else _TEXT
            else:
                python = _python_type(column.type)
            fields[column.name] = python | None if column.nullable else python
        row = TypedDict("Row", fields)  # type: ignore[operator]
        row.__pydantic_config__ = ConfigDict(  # type: ignore[attr-defined]
            extra="forbid", strict=True, allow_inf_nan=False, title="Row"
        )
        return row

    def adapter(self) -> TypeAdapter[list[Any]]:
        return TypeAdapter(list[self.row_type()])  # type: ignore[misc]

    def validator(self) -> RowValidator:
        return RowValidator(self)

    def request_schema(self) -> dict[str, Any]:
        """The OpenAPI/JSON schema of a ``/predict`` body: one row or a list of rows."""
        row = TypeAdapter(self.row_type()).json_schema(ref_template="#/components/schemas/{model}")
        return {
            "oneOf": [
                {"$ref": "#/components/schemas/Row"},
                {"type": "array", "items": {"$ref": "#/components/schemas/Row"}, "minItems": 1},
            ],
            "x-row": row,
        }


# a key followed by blanks before its colon: the fast path's key count does not apply
_SPACED_COLON = re.compile(rb'"\s+:')


class RowValidator:
    """Validates request bodies of a schema's rows.

    Well-formed JSON takes a fast path: parsed and validated in one pass by pydantic-core (with
    no Python call per row: timestamps are checked afterwards, column by column), then checked
    for repeated keys by counting them (pydantic keeps the last of a repeated key, we refuse it).
    Anything else (any error, any doubt) takes the careful path: ``json`` with repeated-key
    detection, then validation with messages naming the row and the field. Both accept the same
    bodies and give the same rows.
    """

    def __init__(self, schema: FeatureSchema) -> None:
        row = schema.row_type()
        self.rows: TypeAdapter[list[Any]] = TypeAdapter(list[row])  # type: ignore[valid-type]
        fast = schema.row_type(check_timestamps=False)
        self._fast_rows: TypeAdapter[list[Any]] = TypeAdapter(list[fast])  # type: ignore[valid-type]
        self._fast_one: TypeAdapter[Any] = TypeAdapter(fast)
        self._timestamps = [c.name for c in schema.columns if c.role == "timestamp"]
        self._width = len(schema.columns)

    def body(self, body: bytes, *, max_rows: int) -> list[dict[str, Any]]:
        """The rows of a ``/predict`` body: one JSON object or an array of them.

        Raises:
            RequestError: naming what is wrong (the row and the field for field errors).
            TooManyRowsError: above ``max_rows``.
        """
        rows = self._fast(body)
        if rows is not None and len(rows) <= max_rows:
            return rows
        value = parse_json(body)
        return validate_rows(
            self.rows, [value] if isinstance(value, dict) else value, max_rows=max_rows
        )

    def _fast(self, body: bytes) -> list[dict[str, Any]] | None:
        first = body.lstrip()[:1]
        if first not in (b"{", b"["):
            return None
        try:
            value = (self._fast_one if first == b"{" else self._fast_rows).validate_json(body)
        except ValidationError:
            return None
        rows = [value] if first == b"{" else value
        if not rows or not _keys_once(body, len(rows) * self._width):
            return None
        if not all(_dates([row[name] for row in rows]) for name in self._timestamps):
            return None
        return rows


def _keys_once(body: bytes, fields: int) -> bool:
    """Whether the JSON text of rows holding ``fields`` fields in all gives no key twice.

    Every key of the text is followed by a colon. As many colons as fields: no more keys than
    fields, so none repeated (a colon in a value, e.g. a time of day, only takes the second
    test). Else: every key is a `"name":` (no blank before the colon) and there are as many of
    those as fields (a string value holding `":` only sends the body down the careful path).
    """
    if body.count(b":") == fields:
        return True
    return body.count(b'":') == fields and not _SPACED_COLON.search(body)


def _dates(values: list[Any]) -> bool:
    """Whether every value is ``None`` or an ISO date or date-time (as ``_check_timestamp``)."""
    try:
        for value in values:
            if value is not None:
                datetime.fromisoformat(value)
    except ValueError:
        return False
    return True


def _python_type(name: str) -> Any:  # noqa: ANN401 - a type or an Annotated type
    return _SIGNATURE_TYPES.get(name, _TEXT)


def build_schema(
    dataset: dict[str, Any], signature: list[dict[str, Any]] | None = None
) -> FeatureSchema:
    """The request row of a project: ``params:dataset``'s columns, typed by ``signature``.

    Args:
        dataset: ``params:dataset`` (``id_column``, ``timestamp_column``, ``numeric_features``,
            ``categorical_features``; the id and timestamp may be missing or null).
        signature: the model's input columns as MLflow records them (``name``, ``type``,
            ``required``), or ``None``.
    """
    typed = {column["name"]: column for column in signature or [] if "name" in column}
    roles: list[tuple[str, str]] = []
    if dataset.get("id_column"):
        roles.append((str(dataset["id_column"]), "id"))
    if dataset.get("timestamp_column"):
        roles.append((str(dataset["timestamp_column"]), "timestamp"))
    roles += [(str(name), "numeric") for name in dataset.get("numeric_features") or []]
    roles += [(str(name), "categorical") for name in dataset.get("categorical_features") or []]
    columns = []
    for name, role in dict(roles).items():
        known = typed.get(name, {})
        kind = known.get("type") or {"numeric": "double", "timestamp": "datetime"}.get(
            role, "string"
        )
        if role == "numeric":
            kind = "double"  # ints are accepted for numbers; the pipeline makes them floats
        nullable = role in ("numeric", "categorical") and not known.get("required", False)
        columns.append(Column(name=name, type=kind, nullable=nullable, role=role))
    return FeatureSchema(tuple(columns))


def signature_of_frame(frame: Any) -> list[dict[str, Any]]:  # noqa: ANN401 - a pandas DataFrame
    """Signature-like column records of a DataFrame (type from the dtype, nulls -> optional)."""
    return [
        {
            "name": str(name),
            "type": _DTYPE_KINDS.get(frame[name].dtype.kind, "string"),
            "required": not bool(frame[name].isna().any()),
        }
        for name in frame.columns
    ]


class _Repeated(dict):
    """A JSON object that held a key more than once: refused where its place is known."""

    repeated: tuple[str, ...] = ()


def _no_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    row = dict(pairs)
    if len(row) == len(pairs):
        return row
    seen: set[str] = set()
    marked = _Repeated(row)
    marked.repeated = tuple(sorted({key for key, _ in pairs if key in seen or seen.add(key)}))
    return marked


def repeated_keys(value: Any) -> tuple[str, ...]:  # noqa: ANN401 - any parsed JSON
    """The keys a parsed JSON object held more than once (none for other values)."""
    return value.repeated if isinstance(value, _Repeated) else ()


def parse_json(body: bytes) -> Any:  # noqa: ANN401 - any JSON value
    """Parse a request body; invalid UTF-8, bad JSON and too deep nesting are refused. Objects
    with a repeated key are marked (see :func:`repeated_keys`): the row they are is named."""
    if not body.strip():
        raise RequestError("the body is empty: send a JSON object or an array of objects")
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise RequestError("the body is not UTF-8 encoded JSON") from None
    try:
        return json.loads(text, object_pairs_hook=_no_duplicate_keys)
    except json.JSONDecodeError as exc:
        raise RequestError(f"the body is not valid JSON: {exc}") from None
    except RecursionError:
        raise RequestError("the body is nested too deeply: rows are flat objects") from None


def validate_rows(
    adapter: TypeAdapter[list[Any]],
    rows: Any,  # noqa: ANN401 - any parsed JSON
    *,
    max_rows: int,
) -> list[dict[str, Any]]:
    """Validate a list of row objects; errors name the row index and the field.

    Raises:
        RequestError: for a non-list, an empty list, a non-object row or a field error.
        TooManyRowsError: above ``max_rows``.
    """
    if not isinstance(rows, list):
        raise RequestError(
            f"expected a JSON object (one row) or an array of objects, got {_json_type(rows)}"
        )
    if not rows:
        raise RequestError("no rows: send one object or a non-empty array of objects")
    if len(rows) > max_rows:
        raise TooManyRowsError(f"{len(rows)} rows, above serving.max_rows = {max_rows}")
    errors = [
        {"row": index, "field": _short(key), "message": "given more than once", "type": "repeated"}
        for index, row in enumerate(rows)
        for key in repeated_keys(row)
    ]
    if not errors:
        try:
            return adapter.validate_python(rows)
        except ValidationError as exc:
            errors = [_describe(error) for error in exc.errors(include_url=False)]
    first = errors[0]
    where = f"row {first['row']}" if first["row"] is not None else "the body"
    field = f", field {first['field']!r}" if first["field"] is not None else ""
    more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
    raise RequestError(f"{where}{field}: {first['message']}{more}", errors[:MAX_ERRORS])


class TooManyRowsError(RequestError):
    """More rows than ``serving.max_rows`` (HTTP 413)."""


def _describe(error: dict[str, Any]) -> dict[str, Any]:
    loc = list(error["loc"])
    row = loc[0] if loc and isinstance(loc[0], int) else None
    rest = [str(part) for part in loc[1:] if not str(part).startswith(("function-", "nullable"))]
    field = _short(rest[0]) if rest else None
    message = validation_message(error)
    if error["type"] == "extra_forbidden":
        message = "unknown field"
    elif error["type"] in ("model_type", "dict_type"):
        message = f"expected an object of fields, got {_json_type(error.get('input'))}"
    elif error["type"].endswith("_type") and error.get("input", ...) is None:
        message = f"{message}, got null (a value is required)"
    return {"row": row, "field": field, "message": message, "type": error["type"]}


def _short(name: str, limit: int = 100) -> str:
    """A field name as an error shows it (a client's unknown key may be megabytes long)."""
    return name if len(name) <= limit else f"{name[:limit]}... ({len(name)} characters)"


def _json_type(value: Any) -> str:  # noqa: ANN401
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    return "an object" if isinstance(value, dict) else type(value).__name__
