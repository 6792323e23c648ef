"""Monitoring: run each configured drift check of a ``kedro run``, once, whatever the runner.

The checks run in a worker process (``monitoring.background``) started with the ``kedro run``
command: each part of a check is handed over as soon as its datasets exist in this process
(the feature part when the reference and the current data are ready, the prediction part when
the predictions are), and whatever was not handed over during the run (``ParallelRunner``
produces datasets in other processes) is loaded from the catalog at its end. The run waits for
the results after every other ``after_pipeline_run`` hook (the model is logged and gated
meanwhile), writes the summaries, logs them to the MLflow run, prints one line per check and
enforces the policy. A check never stops a run half-way: with ``on_drift: fail`` the exit code
is non-zero only once the predictions, the model and the reports are saved.

A thin adapter: ``kedro_mlops.monitoring.runner`` runs the checks (the same runner as
``kedro mlops monitor --check``).
"""

from __future__ import annotations

import logging
import os
import threading
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kedro.framework.hooks import hook_impl

from kedro_mlops.frames import is_spark
from kedro_mlops.hooks.cli import click_error, click_errors
from kedro_mlops.hooks.project import context_config
from kedro_mlops.mlflow_run import active_run_id

if TYPE_CHECKING:
    from collections.abc import Generator

    import pandas as pd
    from kedro.framework.context import KedroContext
    from kedro.io import CatalogProtocol
    from kedro.pipeline import Pipeline
    from kedro.pipeline.node import Node

    from kedro_mlops.config import MlopsConfig
    from kedro_mlops.monitoring.background import CheckWorker
    from kedro_mlops.monitoring.runner import ConfiguredCheck

logger = logging.getLogger(__name__)


class MonitoringHook:
    """The kedro-mlops monitoring integration (one instance, registered by entry point)."""

    def __init__(self) -> None:
        self.config: MlopsConfig | None = None
        self._project_path: Path | None = None
        self._catalog: CatalogProtocol | None = None
        self._runs: list[ConfiguredCheck] = []
        self._worker: CheckWorker | None = None
        self._pid: int | None = None
        self._run_id: str | None = None
        self._lock = threading.Lock()  # ThreadRunner calls after_node_run from its threads

    @hook_impl
    def after_context_created(self, context: KedroContext) -> None:
        with click_errors():
            self._project_path = Path(context.project_path)
            self.config = context_config(context)

    @hook_impl
    def before_pipeline_run(self, pipeline: Pipeline, catalog: CatalogProtocol) -> None:
        """Select the checks whose current dataset this pipeline produces; start the worker."""
        from kedro_mlops.monitoring import background  # noqa: PLC0415
        from kedro_mlops.monitoring.runner import checks_of_run  # noqa: PLC0415

        self._stop_worker(cancel=True)
        self._runs = []
        monitoring = self.config.monitoring if self.config else None
        if monitoring is not None and monitoring.enabled:
            stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S.%fZ")
            self._runs = checks_of_run(
                monitoring, set(pipeline.all_outputs()), self._output_dir(), stamp
            )
        if not self._runs:
            background.discard()  # started with `kedro run`, not needed by this pipeline
            return
        self._catalog, self._pid = catalog, os.getpid()
        self._worker = background.claim()

    @hook_impl
    def after_node_run(self, node: Node, outputs: dict[str, Any]) -> None:
        """Hand each check's parts to the worker as soon as their datasets are produced."""
        if not self._runs or os.getpid() != self._pid:
            return  # ParallelRunner's workers: the main process reads the datasets at the end
        with self._lock:
            for run in self._runs:
                for role, name in run.datasets.items():
                    # a Spark output is a plan, not data: the check reads what was saved
                    if name in outputs and role not in run.frames and not is_spark(outputs[name]):
                        run.frames[role] = outputs[name]
                self._advance(run, final=False)

    @hook_impl(wrapper=True)
    def after_pipeline_run(self) -> Generator[None, None, None]:
        """Hand over what is left, let the other hooks log and gate the model, then collect."""
        from kedro_mlops.monitoring.runner import policy_error, report  # noqa: PLC0415

        with self._lock:
            self._run_id = active_run_id()  # kedro-mlflow ends the run in its own hook
            for run in self._runs:
                self._advance(run, final=True)
        try:
            result = yield
        except BaseException:  # another hook failed: no check to report, no worker left behind
            self._runs = []
            self._stop_worker(cancel=True)
            raise
        runs, self._runs = self._runs, []
        waited = time.perf_counter()
        try:
            # metric names carry the check's name only when several checks log into the run
            failing = [
                report(
                    run,
                    run_id=self._run_id,
                    prefixed=len(runs) > 1,
                    location=self._relative(run.directory),
                    history_path=self._history_path(),
                    alerting=self.config.monitoring.alerts,  # type: ignore[union-attr]
                )[1]
                for run in runs
            ]
        finally:
            self._stop_worker(cancel=False)
        logger.debug(
            "kedro-mlops: the run waited %.2f s for its drift checks", time.perf_counter() - waited
        )
        failing = [reason for reason in failing if reason]
        if failing:
            raise click_error(policy_error(failing, self._relative(self._output_dir())))
        return result

    @hook_impl
    def on_pipeline_error(self) -> None:
        self._runs = []
        self._stop_worker(cancel=True)

    # ------------------------------------------------------------------ helpers
    def _advance(self, run: ConfiguredCheck, *, final: bool) -> None:
        run.advance(
            load=self._load,
            features=self._features,
            submit=self._worker.submit,  # type: ignore[union-attr]
            final=final,
        )

    def _stop_worker(self, *, cancel: bool) -> None:
        worker, self._worker = self._worker, None
        if worker is not None:
            worker.shutdown(cancel=cancel)

    def _load(self, dataset: str) -> pd.DataFrame:
        from kedro_mlops.monitoring.monitor import load_dataset  # noqa: PLC0415

        return load_dataset(self._catalog, dataset)

    def _features(self) -> dict[str, Any] | None:
        from kedro_mlops.monitoring.monitor import catalog_features  # noqa: PLC0415

        return catalog_features(self._catalog, self.config.monitoring.features_from)  # type: ignore[union-attr]

    def _output_dir(self) -> Path:
        output = Path(self.config.monitoring.output_dir)  # type: ignore[union-attr]
        return output if output.is_absolute() else (self._project_path or Path.cwd()) / output

    def _history_path(self) -> Path:
        path = Path(self.config.monitoring.history)  # type: ignore[union-attr]
        return path if path.is_absolute() else (self._project_path or Path.cwd()) / path

    def _relative(self, path: Path) -> str:
        try:
            return str(path.relative_to(self._project_path or Path.cwd()))
        except ValueError:
            return str(path)
