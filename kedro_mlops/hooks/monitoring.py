"""Monitoring: run each configured drift check as soon as its current dataset is produced.

A check never stops a run half-way: its outputs (summary, HTML, MLflow metrics) are written and
the verdicts are enforced once the pipeline has finished, so predictions and reports are saved
even when ``on_drift: fail`` turns the run's exit code non-zero.
"""

from __future__ import annotations

import json
import logging
import os
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kedro.framework.hooks import hook_impl
from kedro.io import DatasetError

from kedro_mlops.config import MlopsConfig, load_project_config
from kedro_mlops.errors import KedroMlopsError
from kedro_mlops.tracking.runs import active_run_id

if TYPE_CHECKING:
    from collections.abc import Generator

    from kedro.framework.context import KedroContext
    from kedro.io import CatalogProtocol
    from kedro.pipeline import Pipeline
    from kedro.pipeline.node import Node

    from kedro_mlops.config import DriftCheckConfig

logger = logging.getLogger(__name__)

_ENV_STAMP = "KEDRO_MLOPS_DRIFT_STAMP"


class DriftPolicyError(KedroMlopsError):
    """A check with ``on_drift: fail`` found drift (or could not run); outputs are saved."""


class MonitoringHook:
    """The kedro-mlops monitoring integration (one instance, registered by entry point)."""

    def __init__(self) -> None:
        self.config: MlopsConfig | None = None
        self._project_path: Path | None = None
        self._catalog: CatalogProtocol | None = None
        self._checks: list[DriftCheckConfig] = []
        self._produced: dict[str, dict[str, Any]] = {}
        self._done: set[str] = set()
        self._stamp: str | None = None

    @hook_impl
    def after_context_created(self, context: KedroContext) -> None:
        self._project_path = Path(context.project_path)
        self.config = load_project_config(context.config_loader, self._project_path)

    @hook_impl
    def before_pipeline_run(self, pipeline: Pipeline, catalog: CatalogProtocol) -> None:
        """Select the checks whose current datasets this pipeline produces."""
        monitoring = self.config.monitoring if self.config else None
        self._checks, self._produced, self._done = [], {}, set()
        if monitoring is None or not monitoring.enabled:
            return
        outputs = pipeline.all_outputs()
        self._checks = [c for c in monitoring.checks if set(_needed(c)) <= outputs]
        if self._checks:
            self._catalog = catalog
            self._stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S.%fZ")
            os.environ[_ENV_STAMP] = self._stamp  # worker processes write under the same stamp

    @hook_impl
    def after_node_run(self, node: Node, outputs: dict[str, Any]) -> None:
        """Run every check whose datasets are now all produced."""
        if not self._checks:
            return
        for check in self._checks:
            if check.name in self._done:
                continue
            produced = self._produced.setdefault(check.name, {})
            produced.update({name: outputs[name] for name in _needed(check) if name in outputs})
            if set(_needed(check)) <= set(produced):
                self._done.add(check.name)
                self._run(check, produced)
                self._produced.pop(check.name, None)

    def _run(self, check: DriftCheckConfig, produced: dict[str, Any]) -> None:
        from kedro_mlops.monitoring.check import CheckResult, log_to_mlflow  # noqa: PLC0415
        from kedro_mlops.monitoring.plan import run_configured  # noqa: PLC0415

        monitoring = self.config.monitoring  # type: ignore[union-attr]
        directory = self._output_dir() / check.name / self._run_stamp()
        try:
            reference = self._catalog.load(check.reference)  # type: ignore[union-attr]
            features = self._features(monitoring.features_from)
            prediction = check.prediction.dataset if check.prediction else None
            prediction_frame = produced.get(prediction) if prediction else None
            result, paths = run_configured(
                check,
                reference,
                produced[check.current],
                features=features,
                prediction_frame=prediction_frame,
                directory=directory,
                html=monitoring.html,
                min_rows=monitoring.min_rows,
            )
        except Exception as exc:  # a check must not stop the run: record it, enforce at the end
            if not isinstance(exc, DatasetError):  # a missing dataset needs no traceback
                logger.exception("kedro-mlops: drift check %r failed", check.name)
            from kedro_mlops.monitoring.check import write_outputs  # noqa: PLC0415

            error = f"{type(exc).__name__}: {exc}"
            result = CheckResult(name=check.name, status="error", error=error)
            paths = write_outputs(result, directory, html_inputs=None)
        run_id = active_run_id()
        if run_id:
            log_to_mlflow(run_id, result, paths, prefixed=len(monitoring.checks) > 1)
        log = logger.warning if result.status != "no_drift" else logger.info
        log("kedro-mlops: %s", result.summary(self._relative(directory)))

    @hook_impl(wrapper=True)
    def after_pipeline_run(self) -> Generator[None, None, None]:
        """After every other hook (the model is logged, the run closed): enforce the policy."""
        result = yield
        checks, self._checks = self._checks, []
        failing = []
        for check in checks:
            if check.on_drift != "fail":
                continue
            summary = self._output_dir() / check.name / self._run_stamp() / "summary.json"
            status = json.loads(summary.read_text())["status"] if summary.exists() else "error"
            if status != "no_drift":
                failing.append(f"{check.name!r} ({status})")
        os.environ.pop(_ENV_STAMP, None)
        if failing:
            raise DriftPolicyError(
                f"drift check(s) {', '.join(failing)} failed with on_drift: fail. All outputs "
                f"and reports are saved under {self._relative(self._output_dir())}."
            )
        return result

    # ------------------------------------------------------------------ helpers
    def _output_dir(self) -> Path:
        output = Path(self.config.monitoring.output_dir)  # type: ignore[union-attr]
        return output if output.is_absolute() else (self._project_path or Path.cwd()) / output

    def _run_stamp(self) -> str:
        return self._stamp or os.environ.get(_ENV_STAMP) or "latest"

    def _relative(self, path: Path) -> str:
        try:
            return str(path.relative_to(self._project_path or Path.cwd()))
        except ValueError:
            return str(path)

    def _features(self, key: str) -> dict[str, Any] | None:
        name = f"params:{key}"
        catalog = self._catalog
        if catalog is None or name not in catalog:
            return None
        value = catalog.get(name).load()
        return value if isinstance(value, dict) else None


def _needed(check: DriftCheckConfig) -> list[str]:
    """The datasets a check waits for in a run."""
    needed = [check.current]
    if check.prediction is not None and check.prediction.dataset:
        needed.append(check.prediction.dataset)
    return needed
