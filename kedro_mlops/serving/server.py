"""Run the API with uvicorn: port checks, worker processes, and the alias watcher (hot reload)."""

from __future__ import annotations

import json
import logging
import os
import socket
import tempfile
import threading
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kedro_mlops.config import ServingConfig
from kedro_mlops.config.serving import KNOWN_AT
from kedro_mlops.errors import InputError
from kedro_mlops.serving.model import load_bundle
from kedro_mlops.serving.rollout import ChallengerSlot, RolloutSettings

if TYPE_CHECKING:
    from collections.abc import Callable

    from fastapi import FastAPI

    from kedro_mlops.serving.app import ModelHolder
    from kedro_mlops.serving.model import ServingModel

logger = logging.getLogger(__name__)

ENV_SETTINGS = "KEDRO_MLOPS_SERVE"
DEFAULTS = ServingConfig()


class ServeError(InputError):
    """The server cannot start (port, model, options); exit code 2."""


@dataclass(frozen=True)
class ServeSettings:
    """What a server process needs besides the model (passed to worker processes as JSON)."""

    model_uri: str | None = None  # a registry alias URI is watched for reloads
    reload_interval_s: float = DEFAULTS.reload_interval_s
    max_body_mb: float = DEFAULTS.max_body_mb
    max_rows: int = DEFAULTS.max_rows
    batch_wait_ms: float = DEFAULTS.batch_wait_ms
    log_dir: str | None = None  # where served rows are appended as CSV partitions
    feedback_dir: str | None = None  # where POST /feedback appends labels as CSV partitions
    bundle: str | None = None  # a saved model, for worker processes and the serving image
    rollout: RolloutSettings = field(default_factory=RolloutSettings)  # the challenger, if any

    def to_env(self) -> str:
        return json.dumps(asdict(self))

    @classmethod
    def from_env(cls) -> ServeSettings:
        values = json.loads(os.environ[ENV_SETTINGS])
        return cls(**{**values, "rollout": RolloutSettings(**values.get("rollout", {}))})


def check_port(host: str, port: int) -> None:
    """Raises:
    ServeError: when ``host:port`` cannot be listened on (in use, not an address of this host).
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        try:
            probe.bind((host, port))
        except OSError as exc:
            reason = "is already in use" if exc.errno == 98 else f"cannot be used: {exc.strerror}"  # noqa: PLR2004 - EADDRINUSE
            raise ServeError(
                f"Port {port} on {host} {reason}; choose another with --port (or serving.port "
                "in mlops.yml)."
            ) from None


class AliasWatcher:
    """Every ``interval_s``, check what a ``models:/<name>@<alias>`` URI points at and swap to a
    new version once it has loaded; a version that fails to load is logged and skipped. With
    ``clear_when_gone`` (a rollout's challenger), an alias that names nothing any more (a
    promotion, a rollback) empties the slot until it names a version again."""

    def __init__(
        self,
        holder: ModelHolder | ChallengerSlot,
        current_version: Callable[[], str | None],
        load: Callable[[], ServingModel],
        interval_s: float,
        *,
        clear_when_gone: bool = False,
    ) -> None:
        self._holder = holder
        self._clear_when_gone = clear_when_gone
        self._current_version = current_version
        self._load = load
        self._interval = interval_s
        self.on_result: Callable[[str], None] | None = None  # e.g. a metrics counter
        self._stop = threading.Event()
        self._failed: str | None = None
        self._thread = threading.Thread(target=self._run, name="kedro-mlops-reload", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()

    def check(self) -> bool:
        """One check; ``True`` when a new version is now served."""
        try:
            version = self._current_version()
        except Exception as exc:
            logger.warning("kedro-mlops: cannot check the model alias: %s", exc)
            return False
        served = self._holder.model
        if version is None:
            if self._clear_when_gone and served is not None:
                self._holder.swap(None)  # type: ignore[arg-type] - a ChallengerSlot
                logger.info(
                    "kedro-mlops: the challenger alias names no version now: version %s is no "
                    "longer tried",
                    served.meta.version,
                )
                self._report("removed")
            return False
        if version in (served.meta.version if served else None, self._failed):
            return False
        try:
            model = self._load()
        except Exception as exc:
            self._failed = version
            logger.error(
                "kedro-mlops: model version %s failed to load, still serving version %s: %s",
                version,
                served.meta.version if served else "none",
                exc,
            )
            self._report("failed")
            return False
        self._holder.swap(model)
        self._failed = None
        what = "trying challenger" if self._clear_when_gone else "serving"
        was = served.meta.version if served else "none"
        logger.info("kedro-mlops: now %s version %s (was %s)", what, model.meta.version, was)
        self._report("swapped")
        return True

    def _report(self, result: str) -> None:
        if self.on_result:
            self.on_result(result)

    def _run(self) -> None:
        while not self._stop.wait(self._interval):
            self.check()


def build_app(
    model: ServingModel, settings: ServeSettings, challenger: ServingModel | None = None
) -> FastAPI:
    """The application with its traffic log, for an alias URI its reload watcher and, with an
    active ``settings.rollout``, the ``challenger`` (else the rollout's saved bundle) beside
    the model, watched too."""
    from kedro_mlops.serving.app import Limits, ModelHolder, create_app  # noqa: PLC0415
    from kedro_mlops.serving.traffic import TrafficLog, csv_partitions  # noqa: PLC0415

    # Node.run logs every call at INFO: here that is once per request, on the request path
    logging.getLogger("kedro.pipeline.node").setLevel(logging.WARNING)
    holder = ModelHolder(model)
    traffic = TrafficLog(csv_partitions(Path(settings.log_dir))) if settings.log_dir else None
    feedback = (
        TrafficLog(csv_partitions(Path(settings.feedback_dir)), stamp_column=KNOWN_AT)
        if settings.feedback_dir
        else None
    )
    limits = Limits(
        max_body_bytes=int(settings.max_body_mb * 1024 * 1024),
        max_rows=settings.max_rows,
        batch_wait_s=settings.batch_wait_ms / 1000,
    )
    rollout = settings.rollout
    slot = None
    if rollout.active:
        if challenger is None and rollout.challenger_bundle:
            challenger = load_bundle(Path(rollout.challenger_bundle))
        slot = ChallengerSlot(challenger)
    watchers = [
        watcher
        for watcher in (
            _watcher(holder, settings.model_uri, settings, model.prediction_column),
            _watcher(slot, rollout.challenger_uri, settings, model.prediction_column),
        )
        if watcher is not None
    ]
    app = create_app(
        holder,
        limits,
        traffic=traffic,
        on_start=lambda: [watcher.start() for watcher in watchers],
        on_stop=lambda: [watcher.stop() for watcher in watchers],
        rollout=rollout,
        challenger=slot,
        feedback=feedback,
        score_column=rollout.score_column,
    )
    metrics = app.state.metrics
    for watcher in watchers:
        watcher.on_result = lambda result: metrics.reloads.labels(result).inc()
    app.state.watcher = watchers[0] if watchers else None
    app.state.watchers = watchers
    return app


def _watcher(
    holder: ModelHolder | ChallengerSlot | None,
    uri: str | None,
    settings: ServeSettings,
    prediction_column: str,
) -> AliasWatcher | None:
    """A watcher of ``uri`` for ``holder``: the champion, or a rollout's challenger (whose
    alias may name nothing for a while)."""
    if holder is None or not uri or "@" not in uri or settings.reload_interval_s <= 0:
        return None
    from mlflow.tracking import MlflowClient  # noqa: PLC0415

    from kedro_mlops.serving.source import (  # noqa: PLC0415
        ModelSourceError,
        alias_version,
        load_from_mlflow,
    )

    challenger = isinstance(holder, ChallengerSlot)

    def current_version() -> str | None:
        try:
            return alias_version(MlflowClient(), uri)
        except ModelSourceError:
            if challenger:  # the alias was removed: nothing to try for now
                return None
            raise

    return AliasWatcher(
        holder,
        current_version,
        lambda: load_from_mlflow(MlflowClient(), uri, prediction_column=prediction_column),
        settings.reload_interval_s,
        clear_when_gone=challenger,
    )


def app_from_environment() -> FastAPI:
    """uvicorn's app factory in worker processes: the bundle and settings from the environment."""
    settings = ServeSettings.from_env()
    return build_app(load_bundle(Path(str(settings.bundle))), settings)


def serve(
    model: ServingModel,
    settings: ServeSettings,
    *,
    challenger: ServingModel | None = None,
    host: str,
    port: int,
    workers: int = 1,
    echo: Callable[[str], Any] = logger.info,
) -> None:
    """Serve ``model`` until interrupted (one process, or ``workers`` processes)."""
    import uvicorn  # noqa: PLC0415

    check_port(host, port)
    options: dict[str, Any] = {
        "host": host,
        "port": port,
        "access_log": False,
        "log_level": "warning",
        "timeout_graceful_shutdown": 10,
    }
    meta = model.meta
    echo(
        f"Serving {meta.name} version {meta.version} ({meta.model_uri or meta.source}) on "
        f"http://{host}:{port} (docs: /docs, {workers} worker{'s' if workers > 1 else ''})"
    )
    if settings.rollout.active:
        tried = f"version {challenger.meta.version}" if challenger else "none loaded"
        share = (
            f" {settings.rollout.fraction:g} of rows" if settings.rollout.mode == "canary" else ""
        )
        echo(f"Rollout {settings.rollout.mode}{share}: challenger {tried}")
    if workers <= 1:
        uvicorn.run(build_app(model, settings, challenger), **options)
        return
    with tempfile.TemporaryDirectory(prefix="kedro-mlops-serve-") as scratch:
        bundle = settings.bundle or str(model.save_bundle(Path(scratch) / "model"))
        rollout = settings.rollout
        if challenger is not None and not rollout.challenger_bundle:
            saved = challenger.save_bundle(Path(scratch) / "challenger")
            rollout = replace(rollout, challenger_bundle=str(saved))
        os.environ[ENV_SETTINGS] = replace(settings, bundle=bundle, rollout=rollout).to_env()
        uvicorn.run(
            "kedro_mlops.serving.server:app_from_environment",
            factory=True,
            workers=workers,
            **options,
        )
