"""Monitoring: run each configured drift check of a ``kedro run``, once, whatever the runner.

The checks run in a worker process (``monitoring.background``) started with the pipeline: each
part of a check is handed over as soon as its datasets exist in this process (the feature part
when the reference and the current data are ready, the prediction part when the predictions
are), and whatever was not handed over during the run (``ParallelRunner`` produces datasets in
other processes) is loaded from the catalog at its end. The run waits for the results after
every other ``after_pipeline_run`` hook (the model is logged and gated meanwhile), writes the
summaries, logs them to the MLflow run, prints one line per check and enforces the policy. A
check never stops a run half-way: with ``on_drift: fail`` the exit code is non-zero only once
the predictions, the model and the reports are saved.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kedro.framework.hooks import hook_impl

from kedro_mlops.config import MlopsConfig, load_project_config
from kedro_mlops.errors import EXIT_DRIFT, KedroMlopsError
from kedro_mlops.tracking.runs import active_run_id

if TYPE_CHECKING:
    from collections.abc import Generator
    from concurrent.futures import Future

    import pandas as pd
    from kedro.framework.context import KedroContext
    from kedro.io import CatalogProtocol
    from kedro.pipeline import Pipeline
    from kedro.pipeline.node import Node

    from kedro_mlops.config import DriftCheckConfig
    from kedro_mlops.monitoring.background import CheckWorker
    from kedro_mlops.monitoring.check import CheckResult

logger = logging.getLogger(__name__)

FEATURE_ROLES = ("reference", "current")


class DriftPolicyError(KedroMlopsError):
    """A check with ``on_drift: fail`` found drift (or could not run); outputs are saved."""

    exit_code = EXIT_DRIFT


@dataclass
class _CheckRun:
    """One check during one run: its datasets by role, the frames it has, its parts' futures."""

    check: DriftCheckConfig
    datasets: dict[str, str]  # role -> catalog dataset
    produced: set[str]  # the roles this pipeline produces (the others are read from the catalog)
    directory: Path
    frames: dict[str, Any] = field(default_factory=dict)
    features: Future[CheckResult] | None = None
    extras: Future[tuple[list[Any], str | None]] | None = None
    notes: dict[str, str] = field(default_factory=dict)
    error: str | None = None


class MonitoringHook:
    """The kedro-mlops monitoring integration (one instance, registered by entry point)."""

    def __init__(self) -> None:
        self.config: MlopsConfig | None = None
        self._project_path: Path | None = None
        self._catalog: CatalogProtocol | None = None
        self._runs: list[_CheckRun] = []
        self._worker: CheckWorker | None = None
        self._pid: int | None = None
        self._run_id: str | None = None
        self._lock = threading.Lock()  # ThreadRunner calls after_node_run from its threads

    @hook_impl
    def after_context_created(self, context: KedroContext) -> None:
        self._project_path = Path(context.project_path)
        self.config = load_project_config(context.config_loader, self._project_path)

    @hook_impl
    def before_pipeline_run(self, pipeline: Pipeline, catalog: CatalogProtocol) -> None:
        """Select the checks whose current dataset this pipeline produces; start the worker."""
        from kedro_mlops.monitoring.plan import check_datasets  # noqa: PLC0415

        self._stop_worker(cancel=True)
        self._runs = []
        monitoring = self.config.monitoring if self.config else None
        checks = monitoring.checks if monitoring is not None and monitoring.enabled else []
        outputs = pipeline.all_outputs()
        stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S.%fZ")
        for check in checks:
            if check.current not in outputs:
                continue
            datasets = check_datasets(check)
            self._runs.append(
                _CheckRun(
                    check=check,
                    datasets=datasets,
                    produced={role for role, name in datasets.items() if name in outputs},
                    directory=self._output_dir() / check.name / stamp,
                )
            )
        from kedro_mlops.monitoring import background  # noqa: PLC0415

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
                    if name in outputs and role not in run.frames:
                        run.frames[role] = outputs[name]
                self._advance(run, final=False)

    @hook_impl(wrapper=True)
    def after_pipeline_run(self) -> Generator[None, None, None]:
        """Hand over what is left, let the other hooks log and gate the model, then collect."""
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
            failing = [self._finish(run, prefixed=len(runs) > 1) for run in runs]
        finally:
            self._stop_worker(cancel=False)
        logger.debug(
            "kedro-mlops: the run waited %.2f s for its drift checks", time.perf_counter() - waited
        )
        failing = [reason for reason in failing if reason]
        if failing:
            raise DriftPolicyError(
                f"drift check(s) {', '.join(failing)} failed with on_drift: fail. All outputs "
                f"and reports are saved under {self._relative(self._output_dir())}."
            )
        return result

    @hook_impl
    def on_pipeline_error(self) -> None:
        self._runs = []
        self._stop_worker(cancel=True)

    # ------------------------------------------------------------------ the parts of a check
    def _advance(self, run: _CheckRun, *, final: bool) -> None:
        """Submit the parts of ``run`` whose frames are all here (``final``: read the missing
        ones from the catalog)."""
        if run.error:
            return
        try:
            if run.features is None and self._frames(run, FEATURE_ROLES, final):
                self._submit_features(run)
            extra_roles = [*FEATURE_ROLES, *(r for r in run.datasets if r not in FEATURE_ROLES)]
            if (
                run.features is not None
                and run.extras is None
                and self._frames(run, extra_roles, final)
            ):
                self._submit_extras(run)
        except Exception as exc:  # a check must not stop the run: record it, report it at the end
            from kedro_mlops.monitoring import CheckInputError  # noqa: PLC0415

            if isinstance(exc, CheckInputError):  # a missing dataset, no column: no traceback
                run.error = str(exc)
            else:
                logger.exception("kedro-mlops: drift check %r failed", run.check.name)
                run.error = f"{type(exc).__name__}: {exc}"

    def _frames(self, run: _CheckRun, roles: Any, final: bool) -> bool:  # noqa: ANN401
        """Whether ``run`` has the frames of ``roles``; those this pipeline does not produce (or
        all missing ones, when ``final``) are read from the catalog."""
        for role in roles:
            if role not in run.datasets or role in run.frames:
                continue
            if role in run.produced and not final:
                return False
            run.frames[role] = self._load(run.datasets[role])
        return True

    def _submit_features(self, run: _CheckRun) -> None:
        from kedro_mlops.monitoring.check import feature_verdicts  # noqa: PLC0415
        from kedro_mlops.monitoring.plan import plan_features  # noqa: PLC0415

        check, monitoring = run.check, self.config.monitoring  # type: ignore[union-attr]
        plan = plan_features(check, run.frames["reference"], self._features())
        logger.debug("kedro-mlops: drift check %r: feature part handed over", check.name)
        run.features = self._worker.submit(  # type: ignore[union-attr]
            feature_verdicts,
            check.name,
            run.frames["reference"],
            run.frames["current"],
            plan.kinds,
            methods=plan.methods,
            drift_share=check.drift_share,
            min_rows=monitoring.min_rows,
            explicit=plan.explicit,
            names=(check.reference, check.current),
            html_path=run.directory / "report.html" if monitoring.html else None,
            html_max_rows=check.report_max_rows,
        )

    def _submit_extras(self, run: _CheckRun) -> None:
        from kedro_mlops.monitoring.check import extra_verdicts  # noqa: PLC0415
        from kedro_mlops.monitoring.plan import methods_of, plan_extras  # noqa: PLC0415

        frames = run.frames
        extras, run.notes = plan_extras(
            run.check,
            frames["reference"],
            frames["current"],
            frames.get("predictions"),
            frames.get("reference_predictions"),
        )
        run.extras = self._worker.submit(extra_verdicts, extras, methods_of(run.check))  # type: ignore[union-attr]

    def _finish(self, run: _CheckRun, *, prefixed: bool) -> str | None:
        """Collect, write, log and print one check; why it fails its policy, if it does."""
        from kedro_mlops.monitoring.check import (  # noqa: PLC0415
            CheckResult,
            combine,
            log_to_mlflow,
            write_summary,
        )

        check = run.check
        error = run.error or (None if run.features else "its datasets were not produced")
        if error is None:
            try:
                result = run.features.result()  # type: ignore[union-attr]
                columns, problem = run.extras.result() if run.extras else ([], None)
                combine(result, columns, problem, run.notes)
            except Exception as exc:  # the worker process failed
                error = f"{type(exc).__name__}: {exc}"
        if error is not None:
            result = CheckResult(name=check.name, status="error", error=error)
        paths = write_summary(result, run.directory)
        if self._run_id:
            log_to_mlflow(self._run_id, result, paths, prefixed=prefixed)
        log = logger.warning if result.status != "no_drift" else logger.info
        log("kedro-mlops: %s", result.summary(self._relative(run.directory)))
        if check.on_drift == "fail" and result.status != "no_drift":
            return f"{check.name!r} ({result.status})"
        return None

    # ------------------------------------------------------------------ helpers
    def _stop_worker(self, *, cancel: bool) -> None:
        worker, self._worker = self._worker, None
        if worker is not None:
            worker.shutdown(cancel=cancel)

    def _load(self, dataset: str) -> pd.DataFrame:
        from kedro_mlops.monitoring.monitor import load_dataset  # noqa: PLC0415

        return load_dataset(self._catalog, dataset)

    def _output_dir(self) -> Path:
        output = Path(self.config.monitoring.output_dir)  # type: ignore[union-attr]
        return output if output.is_absolute() else (self._project_path or Path.cwd()) / output

    def _relative(self, path: Path) -> str:
        try:
            return str(path.relative_to(self._project_path or Path.cwd()))
        except ValueError:
            return str(path)

    def _features(self) -> dict[str, Any] | None:
        name = f"params:{self.config.monitoring.features_from}"  # type: ignore[union-attr]
        catalog = self._catalog
        if catalog is None or name not in catalog:
            return None
        value = catalog.get(name).load()
        return value if isinstance(value, dict) else None
