"""Prometheus metrics of the REST API (``/metrics``) and the ASGI middleware that counts and times
every request."""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter, deque
from typing import TYPE_CHECKING, Any

from fastapi.responses import JSONResponse

if TYPE_CHECKING:
    from collections.abc import Iterator

    from starlette.types import ASGIApp, Message, Receive, Scope, Send

    from kedro_mlops.serving.model import ServingModel
    from kedro_mlops.serving.traffic import Activity

logger = logging.getLogger(__name__)

SHARE_WINDOW = 1000  # answered rows the rolling class share is taken over, per version
SCORE_BUCKETS = (0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0)


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

        self.share = Gauge(
            "kedro_mlops_prediction_share",
            f"Share of each predicted class among a version's last {SHARE_WINDOW} answered rows.",
            ["model_version", "prediction"],
            registry=self.registry,
        )
        self._windows: dict[str, _Window] = {}  # by version
        self.scores = ScoreHistogram()
        self.registry.register(self.scores)

    def observe(self, version: str, predictions: list[Any], scores: Any = None) -> None:  # noqa: ANN401 - numbers
        """One batch of a version's answers: counted by class, the rolling class share, and
        the histogram of its scores (the positive class's probability) when given."""
        # counted as Python values (a third of the time of pandas' value_counts)
        counts = Counter(
            {str(value): n for value, n in Counter(predictions).items() if _answered(value)}
        )
        for prediction, count in counts.items():
            self.predictions.labels(prediction, version).inc(count)
        window = self._windows.setdefault(version, _Window())
        window.add(counts)
        total = window.total
        for prediction, count in window.counts.items():  # a class that left the window: 0
            self.share.labels(version, prediction).set(count / total if total else 0)
        if scores is not None:
            self.scores.add(version, scores)

    def serving(self, old: ServingModel | None, new: ServingModel) -> None:
        if old is not None:
            self.model.remove(old.meta.name, old.meta.version, old.meta.run_id)
        self.model.labels(new.meta.name, new.meta.version, new.meta.run_id).set(1)

    def render(self) -> tuple[bytes, str]:
        from prometheus_client import CONTENT_TYPE_LATEST, generate_latest  # noqa: PLC0415

        return generate_latest(self.registry), CONTENT_TYPE_LATEST


class _Window:
    """A version's last answered rows (at least ``SHARE_WINDOW``, whole batches), counted by
    class as batches come and go: no recount of the window per batch."""

    def __init__(self) -> None:
        self.batches: deque[tuple[Counter[str], int]] = deque()
        self.counts: Counter[str] = Counter()  # every class seen stays, at 0 once it has left
        self.total = 0

    def add(self, counts: Counter[str]) -> None:
        rows = sum(counts.values())
        self.batches.append((counts, rows))
        self.counts.update(counts)
        self.total += rows
        while len(self.batches) > 1 and self.total - self.batches[0][1] >= SHARE_WINDOW:
            old, old_rows = self.batches.popleft()
            self.counts.subtract(old)
            self.total -= old_rows


def _answered(value: object) -> bool:
    """Not a missing answer (``None``, or NaN: a version that failed on the row)."""
    return value is not None and value == value  # noqa: PLR0124 - NaN is not equal to itself


class ScoreHistogram:
    """``kedro_mlops_prediction_score``: a Prometheus histogram of the scores by model version,
    counted a batch at a time with numpy (prometheus_client's Histogram observes one value per
    Python call: a 1,000-row request would make 1,000)."""

    def __init__(self) -> None:
        self._counts: dict[str, tuple[Any, float]] = {}  # version -> (bucket counts, sum)
        self._lock = threading.Lock()

    def add(self, version: str, scores: Any) -> None:  # noqa: ANN401 - an array of numbers
        import numpy as np  # noqa: PLC0415

        values = np.asarray(scores, dtype="float64")
        values = values[~np.isnan(values)]
        # cumulative counts of values <= each bound (Prometheus' ``le``), and of all (+Inf)
        counts = np.searchsorted(np.sort(values), SCORE_BUCKETS, side="right")
        counts = np.append(counts, len(values))
        with self._lock:
            old, total = self._counts.get(version, (np.zeros(len(counts), dtype="int64"), 0.0))
            self._counts[version] = (old + counts, total + float(values.sum()))

    def collect(self) -> Iterator[Any]:
        from prometheus_client.core import HistogramMetricFamily  # noqa: PLC0415

        family = HistogramMetricFamily(
            "kedro_mlops_prediction_score",
            "Scores (the positive class's probability) of the answered rows, by model version.",
            labels=["model_version"],
        )
        with self._lock:
            counts = dict(self._counts)
        for version, (buckets, total) in counts.items():
            bounds = [*(f"{bound:g}" for bound in SCORE_BUCKETS), "+Inf"]
            family.add_metric(
                [version], list(zip(bounds, (int(c) for c in buckets), strict=True)), total
            )
        yield family


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
