"""The REST API: ``/predict`` (typed rows), ``/invocations`` (MLflow's scoring protocol),
``/health``, ``/ready``, ``/metadata`` and ``/metrics`` (Prometheus).

Request bodies are read and validated here rather than by FastAPI's body parsing, so that size
limits, duplicate keys and error messages (row and field) are ours; the OpenAPI document still
shows the typed row. A malformed request is always answered 4xx.
"""

from __future__ import annotations

import gc
import json
import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response

from kedro_mlops.serving.feedback import describe as describe_feedback
from kedro_mlops.serving.metrics import Measure, Metrics
from kedro_mlops.serving.model import MODEL_COLUMNS
from kedro_mlops.serving.payloads import MediaTypeError, is_json, mlflow_records
from kedro_mlops.serving.rollout import Rollout
from kedro_mlops.serving.schema import RequestError, TooManyRowsError, validate_rows

if TYPE_CHECKING:
    from collections.abc import Callable

    import pandas as pd

    from kedro_mlops.serving.batching import Scored
    from kedro_mlops.serving.model import ServingModel
    from kedro_mlops.serving.rollout import ChallengerSlot, RolloutSettings
    from kedro_mlops.serving.traffic import TrafficLog

MB = 1024 * 1024


@dataclass(frozen=True)
class Limits:
    """Request limits and batching (``serving:`` of mlops.yml)."""

    max_body_bytes: int = 10 * MB
    max_rows: int = 10_000
    batch_wait_s: float = 0.002


class BodyTooLargeError(RequestError):
    """The body is larger than ``serving.max_body_mb`` (HTTP 413)."""


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


def create_app(  # noqa: PLR0915 - one closure per route reads best
    holder: ModelHolder,
    limits: Limits = Limits(),
    *,
    traffic: TrafficLog | None = None,
    on_start: Callable[[], None] | None = None,
    on_stop: Callable[[], None] | None = None,
    rollout: RolloutSettings | None = None,
    challenger: ChallengerSlot | None = None,
    feedback: TrafficLog | None = None,
    score_column: str = "probability",
) -> FastAPI:
    """The FastAPI application serving ``holder``'s model (and, with an active ``rollout``,
    trying ``challenger``'s beside it)."""
    from contextlib import asynccontextmanager  # noqa: PLC0415

    from kedro_mlops.serving.batching import MicroBatcher, View  # noqa: PLC0415
    from kedro_mlops.serving.data_warnings import DataWarnings  # noqa: PLC0415

    metrics = Metrics()
    metrics.serving(None, holder.model)
    holder.listeners.append(metrics.serving)
    data_warnings = DataWarnings(lambda kind: metrics.data_warnings.labels(kind).inc())
    trial = Rollout.of(rollout, challenger, holder, metrics, traffic)
    if trial is not None:
        trial.scoring = data_warnings.capture
    predict_view, invocations_view = View(MODEL_COLUMNS), View()
    if trial is not None:
        from kedro_mlops.config.rollout import ANSWERED_BY  # noqa: PLC0415
        from kedro_mlops.serving.rollout import LOG_ONLY  # noqa: PLC0415

        # each row names the version that answered it
        predict_view = View((*MODEL_COLUMNS, *LOG_ONLY), ((ANSWERED_BY, "model_version"),))
        invocations_view = View(LOG_ONLY)

    def on_batch(model: ServingModel, rows: pd.DataFrame, output: pd.DataFrame) -> None:
        if trial is not None:
            trial.record(rows, output, model.prediction_column)
            return
        column = model.prediction_column
        if column in output.columns:
            scores = output[score_column] if score_column in output.columns else None
            metrics.observe(model.meta.version, output[column].tolist(), scores)
        if traffic is not None:
            traffic.append(rows, output)

    batcher = MicroBatcher(
        lambda: holder.model,
        max_wait_s=limits.batch_wait_s,
        on_batch=on_batch,
        scoring=data_warnings.capture,
        score=_scorer(holder, trial),
    )

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
        data_warnings.close()
        if on_stop:
            on_stop()
        if trial is not None:
            trial.close()  # its last shadow batches go to the log before it closes
        if feedback is not None:
            feedback.close()
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

    app.add_middleware(Measure, metrics=metrics, activity=traffic.activity if traffic else None)

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

    async def score_rows(rows: list[dict[str, Any]], view: View) -> Scored:
        metrics.request_rows.observe(len(rows))
        return await batcher.score(rows, view)

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
        if not is_json(request.headers.get("content-type", "")):
            return problem(415, "send the rows as application/json")
        try:
            rows = holder.validator.body(await read_body(request), max_rows=limits.max_rows)
        except RequestError as exc:
            return problem(status_of(exc), exc)
        try:
            scored = await score_rows(rows, predict_view)
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
            records = mlflow_records(body, content_type, text_columns)
            rows = validate_rows(holder.validator.rows, records, max_rows=limits.max_rows)
        except BodyTooLargeError as exc:
            return _mlflow_error(413, exc.message)
        except RequestError as exc:
            return _mlflow_error(415 if isinstance(exc, MediaTypeError) else 400, exc.message)
        try:
            scored = await score_rows(rows, invocations_view)
        except (ValueError, TypeError, KeyError) as exc:
            return _mlflow_error(400, f"the inference pipeline refused the rows: {exc}")
        return _json_text(f'{{"predictions":{scored.json}}}')

    @app.post(
        "/feedback",
        summary="Labels of served rows as they become known: one {id, label} or an array",
        status_code=202,
        responses={
            404: {"description": "No serving.feedback_dataset"},
            413: {"description": "More labels than serving.max_rows"},
            422: {"description": "An unknown id shape or a label outside the model's classes"},
        },
    )
    async def feedback_route(request: Request) -> Response:
        from kedro_mlops.serving.feedback import feedback_rows  # noqa: PLC0415

        if feedback is None:
            return problem(404, "no feedback here: set serving.feedback_dataset in mlops.yml")
        if not is_json(request.headers.get("content-type", "")):
            return problem(415, "send the labels as application/json")
        try:
            rows = feedback_rows(await read_body(request), holder.model, max_rows=limits.max_rows)
        except RequestError as exc:
            return problem(status_of(exc), exc)
        feedback.append(rows, rows.iloc[:, :0])  # written off the request path
        return JSONResponse({"accepted": len(rows)}, 202)

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
            "rollout": trial.metadata() if trial is not None else {"mode": "none"},
            "feedback": describe_feedback(model) if feedback is not None else None,
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


def _scorer(holder: ModelHolder, trial: Rollout | None) -> Any:  # noqa: ANN401 - a Score
    """How the batcher scores: the rollout's scoring, and a ``prediction_id`` per row when the
    rows have no id column (what ``/feedback`` names them by); ``None``: the model's own."""
    score = trial.score if trial is not None else None
    if holder.model.schema.id_column is not None:
        return score
    from kedro_mlops.serving.feedback import with_prediction_ids  # noqa: PLC0415

    def identified(model: ServingModel, frame: pd.DataFrame) -> pd.DataFrame:
        output = model.score(frame) if score is None else score(model, frame)
        return with_prediction_ids(output)

    return identified


def _json_text(content: str) -> Response:
    return Response(content.encode(), media_type="application/json")


def _too_large(size: int, limit: int) -> str:
    return f"the body ({size} bytes) is above serving.max_body_mb ({limit / MB:g} MB)"


def _mlflow_error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"error_code": "BAD_REQUEST", "message": message}, status)
