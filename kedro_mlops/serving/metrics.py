"""Prometheus metrics of the REST API (``/metrics``) and the ASGI middleware that counts and times
every request."""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING

from fastapi.responses import JSONResponse

if TYPE_CHECKING:
    from starlette.types import ASGIApp, Message, Receive, Scope, Send

    from kedro_mlops.serving.model import ServingModel
    from kedro_mlops.serving.traffic import Activity

logger = logging.getLogger(__name__)


class Metrics:
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
        self.data_warnings = Counter(
            "kedro_mlops_data_warnings",
            "Warnings the model's code gave while scoring, by kind (logger and message template, "
            "or warning category and place).",
            ["kind"],
            registry=self.registry,
        )
        self.model_rows = Counter(
            "kedro_mlops_model_rows",
            "Rows scored by model version (a rollout: the champion and the challenger).",
            ["model_version"],
            registry=self.registry,
        )
        self.model_errors = Counter(
            "kedro_mlops_model_errors",
            "Rows a model version failed to score (a rollout's challenger: answered by the "
            "champion instead).",
            ["model_version"],
            registry=self.registry,
        )
        self.scoring_seconds = Histogram(
            "kedro_mlops_scoring_duration_seconds",
            "Time to score one batch, by model version (a rollout: the champion and the "
            "challenger).",
            ["model_version"],
            buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5),
            registry=self.registry,
        )
        self.rollout = Gauge(
            "kedro_mlops_rollout_info",
            "The rollout (value 1): mode, champion and challenger versions.",
            ["mode", "champion", "challenger"],
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


class Measure:
    """Counts and times every request by route and status (a plain ASGI middleware: FastAPI's
    ``@app.middleware`` costs a task and a stream per request); an unexpected error is a logged,
    counted 500, never a traceback to the client. Each request is counted in ``activity``
    while it is in flight (the inference log writes when there is none)."""

    def __init__(self, app: ASGIApp, metrics: Metrics, activity: Activity | None = None) -> None:
        self.app = app
        self.metrics = metrics
        self.activity = activity
        self._paths: frozenset[str] | None = None  # the app's routes (all without parameters)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500
        responded = False
        if self.activity is not None:
            self.activity.begin()

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
            if self.activity is not None:
                self.activity.end()
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
