"""The REST API: ``/predict`` (typed rows), ``/invocations`` (MLflow's scoring protocol),
``/health``, ``/ready``, ``/metadata`` and ``/metrics`` (Prometheus).

Request bodies are read and validated here rather than by FastAPI's body parsing, so that size
limits, duplicate keys and error messages (row and field) are ours; the OpenAPI document still
shows the typed row. A malformed request is always answered 4xx.
"""

from __future__ import annotations

import gc
import io
import json
import logging
import threading
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response

from kedro_mlops.serving.model import MODEL_COLUMNS
from kedro_mlops.serving.schema import (
    RequestError,
    TooManyRowsError,
    parse_json,
    repeated_keys,
    validate_rows,
)

if TYPE_CHECKING:
    from collections.abc import Callable

    import pandas as pd
    from starlette.types import ASGIApp, Message, Receive, Scope, Send

    from kedro_mlops.serving.batching import Scored
    from kedro_mlops.serving.model import ServingModel
    from kedro_mlops.serving.traffic import TrafficLog

logger = logging.getLogger(__name__)

MB = 1024 * 1024


@dataclass(frozen=True)
class Limits:
    """Request limits and batching (``serving:`` of mlops.yml)."""

    max_body_bytes: int = 10 * MB
    max_rows: int = 10_000
    batch_wait_s: float = 0.002


class BodyTooLargeError(RequestError):
    """The body is larger than ``serving.max_body_mb`` (HTTP 413)."""


class MediaTypeError(RequestError):
    """A body in a format the route does not read (HTTP 415)."""


class ModelHolder:
    """The model being served; swapped atomically by a reload (readers take one reference)."""

    def __init__(self, model: ServingModel) -> None:
        self._model = model
        self._lock = threading.Lock()
        self.validator = model.schema.validator()
        self.listeners: list[Callable[[ServingModel, ServingModel], None]] = []

    @property
    def model(self) -> ServingModel:
        return self._model

    def swap(self, model: ServingModel) -> None:
        with self._lock:
            old, self._model = self._model, model
            if model.schema != old.schema:
                self.validator = model.schema.validator()
        for listener in self.listeners:
            listener(old, model)


class _Metrics:
    """Prometheus metrics of one app (own registry: several apps may live in one process)."""

    def __init__(self) -> None:
        from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram  # noqa: PLC0415

        self.registry = CollectorRegistry()
        self.requests = Counter(
            "kedro_mlops_requests",
            "HTTP requests by route, method and status code.",
            ["route", "method", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "kedro_mlops_request_duration_seconds",
            "Request latency by route.",
            ["route"],
            buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
            registry=self.registry,
        )
        self.predictions = Counter(
            "kedro_mlops_predictions",
            "Predicted rows by class and model version.",
            ["prediction", "model_version"],
            registry=self.registry,
        )
        self.request_rows = Histogram(
            "kedro_mlops_request_rows",
            "Rows per scoring request.",
            buckets=(1, 2, 5, 10, 50, 100, 500, 1000, 5000, 10000),
            registry=self.registry,
        )
        self.model = Gauge(
            "kedro_mlops_model_info",
            "The model being served (value 1).",
            ["name", "version", "run_id"],
            registry=self.registry,
        )
        self.reloads = Counter(
            "kedro_mlops_model_reloads",
            "Model reloads by result (swapped, failed).",
            ["result"],
            registry=self.registry,
        )

    def serving(self, old: ServingModel | None, new: ServingModel) -> None:
        if old is not None:
            self.model.remove(old.meta.name, old.meta.version, old.meta.run_id)
        self.model.labels(new.meta.name, new.meta.version, new.meta.run_id).set(1)

    def render(self) -> tuple[bytes, str]:
        from prometheus_client import CONTENT_TYPE_LATEST, generate_latest  # noqa: PLC0415

        return generate_latest(self.registry), CONTENT_TYPE_LATEST


class _Measure:
    """Counts and times every request by route and status (a plain ASGI middleware: FastAPI's
    ``@app.middleware`` costs a task and a stream per request); an unexpected error is a logged,
    counted 500, never a traceback to the client."""

    def __init__(self, app: ASGIApp, metrics: _Metrics) -> None:
        self.app = app
        self.metrics = metrics
        self._paths: frozenset[str] | None = None  # the app's routes (all without parameters)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500
        responded = False

        async def sending(message: Message) -> None:
            nonlocal status, responded
            if message["type"] == "http.response.start":
                status, responded = message["status"], True
            await send(message)

        try:
            await self.app(scope, receive, sending)
        except Exception:
            logger.exception("kedro-mlops: error while serving %s", scope.get("path"))
            if responded:
                raise
            status = 500
            await JSONResponse({"detail": "internal error; see the server log"}, 500)(
                scope, receive, send
            )
        finally:
            path = self._route(scope)
            self.metrics.requests.labels(path, scope["method"], str(status)).inc()
            self.metrics.latency.labels(path).observe(time.perf_counter() - started)

    def _route(self, scope: Scope) -> str:
        """The route's path (FastAPI sets ``scope["route"]`` for its API routes only, not for
        ``/docs`` or ``/openapi.json``); ``unmatched`` for any other path."""
        route = getattr(scope.get("route"), "path", None)
        if route:
            return route
        if self._paths is None:
            self._paths = frozenset(getattr(r, "path", "") for r in scope["app"].routes)
        return scope["path"] if scope["path"] in self._paths else "unmatched"


def create_app(  # noqa: PLR0915 - one closure per route reads best
    holder: ModelHolder,
    limits: Limits = Limits(),
    *,
    traffic: TrafficLog | None = None,
    on_start: Callable[[], None] | None = None,
    on_stop: Callable[[], None] | None = None,
) -> FastAPI:
    """The FastAPI application serving ``holder``'s model."""
    from contextlib import asynccontextmanager  # noqa: PLC0415

    from kedro_mlops.serving.batching import MicroBatcher  # noqa: PLC0415

    metrics = _Metrics()
    metrics.serving(None, holder.model)
    holder.listeners.append(metrics.serving)

    def on_batch(model: ServingModel, rows: pd.DataFrame, output: pd.DataFrame) -> None:
        column = model.prediction_column
        if column in output.columns:
            for value, count in output[column].value_counts(dropna=False).items():
                metrics.predictions.labels(str(value), model.meta.version).inc(count)
        if traffic is not None:
            traffic.append(rows, output)

    batcher = MicroBatcher(lambda: holder.model, max_wait_s=limits.batch_wait_s, on_batch=on_batch)

    @asynccontextmanager
    async def lifespan(_app: FastAPI):  # noqa: ANN202
        if on_start:
            on_start()
        # what is loaded by now (libraries, the model: ~400,000 objects for the starter's) is
        # left out of garbage collection: a full collection over it stalls every request in
        # flight for ~0.3 s, the p99 of a busy server
        gc.collect()
        gc.freeze()
        yield
        gc.unfreeze()
        batcher.close()
        if on_stop:
            on_stop()
        if traffic is not None:
            traffic.close()

    meta = holder.model.meta
    app = FastAPI(
        title=f"{meta.name} model",
        summary="kedro-mlops online serving of the project's inference pipeline",
        version=meta.version,
        lifespan=lifespan,
    )
    app.state.holder = holder
    app.state.metrics = metrics

    app.add_middleware(_Measure, metrics=metrics)

    def problem(status: int, error: RequestError | str) -> JSONResponse:
        if isinstance(error, RequestError):
            return JSONResponse({"detail": error.message, "errors": error.errors}, status)
        return JSONResponse({"detail": error, "errors": []}, status)

    async def read_body(request: Request) -> bytes:
        declared = request.headers.get("content-length")
        if declared and declared.isdigit() and int(declared) > limits.max_body_bytes:
            raise BodyTooLargeError(_too_large(int(declared), limits.max_body_bytes))
        chunks, size = [], 0
        async for chunk in request.stream():
            size += len(chunk)
            if size > limits.max_body_bytes:
                raise BodyTooLargeError(_too_large(size, limits.max_body_bytes))
            chunks.append(chunk)
        return b"".join(chunks)

    async def score_rows(rows: list[dict[str, Any]], hidden: tuple[str, ...] = ()) -> Scored:
        metrics.request_rows.observe(len(rows))
        return await batcher.score(rows, hidden)

    def status_of(error: RequestError) -> int:
        return 413 if isinstance(error, (BodyTooLargeError, TooManyRowsError)) else 422

    row_ref = {"$ref": "#/components/schemas/Row"}
    text_columns = [c.name for c in holder.model.schema.columns if c.type in ("string", "datetime")]

    @app.post(
        "/predict",
        summary="Predict one row (a JSON object) or many (an array of objects)",
        openapi_extra={
            "requestBody": {
                "required": True,
                "content": {
                    "application/json": {
                        "schema": {
                            "oneOf": [row_ref, {"type": "array", "items": row_ref, "minItems": 1}]
                        }
                    }
                },
            }
        },
        responses={
            413: {"description": "Body above serving.max_body_mb or rows above serving.max_rows"},
            415: {"description": "Not application/json"},
            422: {"description": "Invalid rows: `errors` name the row and the field"},
        },
    )
    async def predict(request: Request) -> Response:
        if not _is_json(request.headers.get("content-type", "")):
            return problem(415, "send the rows as application/json")
        try:
            rows = holder.validator.body(await read_body(request), max_rows=limits.max_rows)
        except RequestError as exc:
            return problem(status_of(exc), exc)
        try:
            scored = await score_rows(rows, MODEL_COLUMNS)
        except (ValueError, TypeError, KeyError) as exc:  # the pipeline refused these rows
            return problem(422, f"the inference pipeline refused the rows: {exc}")
        brief = json.dumps(scored.model.meta.brief(), separators=(",", ":"))
        return _json_text(f'{{"model":{brief},"predictions":{scored.json}}}')

    @app.post(
        "/invocations",
        summary="MLflow's scoring protocol: dataframe_split, dataframe_records, inputs, CSV",
    )
    async def invocations(request: Request) -> Response:
        content_type = request.headers.get("content-type", "")
        try:
            body = await read_body(request)
            records = _mlflow_records(body, content_type, text_columns)
            rows = validate_rows(holder.validator.rows, records, max_rows=limits.max_rows)
        except BodyTooLargeError as exc:
            return _mlflow_error(413, exc.message)
        except RequestError as exc:
            return _mlflow_error(415 if isinstance(exc, MediaTypeError) else 400, exc.message)
        try:
            scored = await score_rows(rows)
        except (ValueError, TypeError, KeyError) as exc:
            return _mlflow_error(400, f"the inference pipeline refused the rows: {exc}")
        return _json_text(f'{{"predictions":{scored.json}}}')

    @app.get("/health", summary="The process is alive")
    async def health() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/ping", summary="The process is alive (MLflow's scoring server route)")
    async def ping() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/ready", summary="A model is loaded and can score")
    async def ready() -> dict[str, Any]:
        return {"ready": True, "model": holder.model.meta.brief()}

    @app.get("/metadata", summary="The model being served and its request schema")
    async def metadata() -> dict[str, Any]:
        model = holder.model
        return {
            "model": {
                "name": model.meta.name,
                "version": model.meta.version,
                "aliases": list(model.meta.aliases),
                "run_id": model.meta.run_id,
                "model_uri": model.meta.model_uri,
                "source": model.meta.source,
                "git_sha": model.meta.git_sha,
                "loaded_at": model.meta.loaded_at,
            },
            "input": {"name": model.input_name, "columns": model.schema.to_json()},
            "output": {"name": model.output_name, "prediction_column": model.prediction_column},
            "limits": {"max_body_bytes": limits.max_body_bytes, "max_rows": limits.max_rows},
        }

    @app.get("/metrics", summary="Prometheus metrics")
    async def prometheus() -> Response:
        content, media_type = metrics.render()
        return Response(content, media_type=media_type)

    _add_row_schema(app, holder)
    return app


def _add_row_schema(app: FastAPI, holder: ModelHolder) -> None:
    """Put the typed row into the OpenAPI document's components (as ``Row``)."""
    from fastapi.openapi.utils import get_openapi  # noqa: PLC0415
    from pydantic import TypeAdapter  # noqa: PLC0415

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            document = get_openapi(
                title=app.title, version=app.version, summary=app.summary, routes=app.routes
            )
            row = TypeAdapter(holder.model.schema.row_type()).json_schema()
            document.setdefault("components", {}).setdefault("schemas", {})["Row"] = row
            app.openapi_schema = document
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def _json_text(content: str) -> Response:
    return Response(content.encode(), media_type="application/json")


def _too_large(size: int, limit: int) -> str:
    return f"the body ({size} bytes) is above serving.max_body_mb ({limit / MB:g} MB)"


def _is_json(content_type: str) -> bool:
    media = content_type.split(";", 1)[0].strip().lower()
    return media == "application/json" or (
        media.startswith("application/") and media.endswith("+json")
    )


def _mlflow_error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"error_code": "BAD_REQUEST", "message": message}, status)


def _mlflow_records(body: bytes, content_type: str, text_columns: list[str]) -> Any:  # noqa: ANN401
    """The rows of an MLflow scoring request, as a list of objects (validated afterwards)."""
    media = content_type.split(";", 1)[0].strip().lower()
    if media == "text/csv":
        return _csv_records(body, text_columns)
    if not _is_json(media):
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
