"""Run a configured check of ``mlops.yml``: the one runner of ``kedro run`` (the monitoring hook,
its parts in a worker process as soon as their datasets exist) and ``kedro mlops monitor
--check`` (all at once, in this process).

A check has two parts: the feature columns with the HTML report, and the prediction / target
columns. :class:`ConfiguredCheck` hands each part to ``submit`` when its frames are all there and
joins them into one :class:`~kedro_mlops.monitoring.check.CheckResult`.
"""

from __future__ import annotations

import logging
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from kedro_mlops.errors import EXIT_DRIFT, KedroMlopsError
from kedro_mlops.monitoring import alerts, history, spark_check
from kedro_mlops.monitoring.check import (
    CheckResult,
    combine,
    extra_verdicts,
    feature_verdicts,
    log_to_mlflow,
    write_summary,
)
from kedro_mlops.monitoring.columns import CheckInputError
from kedro_mlops.monitoring.plan import check_datasets, methods_of, plan_extras, plan_features

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable
    from pathlib import Path

    from kedro_mlops.config import DriftCheckConfig, MonitoringConfig
    from kedro_mlops.config.monitoring import AlertsConfig

logger = logging.getLogger(__name__)

FEATURE_ROLES = ("reference", "current")
NOT_PRODUCED = "its datasets were not produced"


class DriftPolicyError(KedroMlopsError):
    """A check with ``on_drift: fail`` found drift (or could not run); outputs are saved."""

    exit_code = EXIT_DRIFT


def policy_error(failing: list[str], output_dir: str) -> DriftPolicyError:
    return DriftPolicyError(
        f"drift check(s) {', '.join(failing)} failed with on_drift: fail. All outputs "
        f"and reports are saved under {output_dir}."
    )


def run_now(function: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:  # noqa: ANN401
    """A ``submit`` that runs ``function`` at once, in this process."""
    future: Future[Any] = Future()
    try:
        future.set_result(function(*args, **kwargs))
    except Exception as exc:
        future.set_exception(exc)
    return future


@dataclass
class ConfiguredCheck:
    """One configured check on its way to a result: its datasets by role, the frames it has and
    the futures of its parts.

    ``contain``: an unexpected error (a bug, a worker that died) becomes an ``error`` result,
    logged with its traceback (a check never stops a ``kedro run``); otherwise it is raised.
    """

    check: DriftCheckConfig
    min_rows: int
    directory: Path
    html: bool
    produced: set[str] = field(default_factory=set)  # roles the pipeline produces
    contain: bool = False
    datasets: dict[str, str] = field(init=False)  # role -> catalog dataset
    frames: dict[str, Any] = field(default_factory=dict)
    features: Future[CheckResult] | None = None
    extras: Future[tuple[list[Any], str | None]] | None = None
    notes: dict[str, str] = field(default_factory=dict)
    error: str | None = None

    def __post_init__(self) -> None:
        self.datasets = check_datasets(self.check)

    def advance(
        self,
        *,
        load: Callable[[str], Any],
        features: Callable[[], dict[str, Any] | None],
        submit: Callable[..., Future[Any]] = run_now,
        final: bool,
    ) -> None:
        """Submit the parts whose frames are all here; ``load`` reads a dataset this pipeline
        does not produce (``final``: every missing one). Input errors are recorded."""
        if self.error:
            return
        try:
            if self.features is None and self._frames(FEATURE_ROLES, load, final):
                self._submit_features(features(), submit)
            others = [role for role in self.datasets if role not in FEATURE_ROLES]
            if (
                self.features is not None
                and self.extras is None
                and self._frames([*FEATURE_ROLES, *others], load, final)
            ):
                self._submit_extras(submit)
        except CheckInputError as exc:  # a missing dataset, no column: no traceback
            self.error = str(exc)
        except Exception as exc:
            if not self.contain:
                raise
            logger.exception("kedro-mlops: drift check %r failed", self.check.name)
            self.error = f"{type(exc).__name__}: {exc}"

    def _frames(self, roles: Iterable[str], load: Callable[[str], Any], final: bool) -> bool:
        for role in roles:
            if role not in self.datasets or role in self.frames:
                continue
            if role in self.produced and not final:
                return False
            self.frames[role] = load(self.datasets[role])
        return True

    def _submit_features(
        self, features: dict[str, Any] | None, submit: Callable[..., Future[Any]]
    ) -> None:
        check, frames = self.check, self.frames
        if spark_check.any_spark(frames["reference"], frames["current"]):
            self._submit_spark_features(features, submit)
            return
        plan = plan_features(check, frames["reference"], features)
        logger.debug("kedro-mlops: drift check %r: feature part handed over", check.name)
        self.features = submit(
            feature_verdicts,
            check.name,
            frames["reference"],
            frames["current"],
            plan.kinds,
            methods=plan.methods,
            drift_share=check.drift_share,
            min_rows=self.min_rows,
            explicit=plan.explicit,
            names=(check.reference, check.current),
            html_path=self.directory / "report.html" if self.html else None,
            html_max_rows=check.report_max_rows,
        )

    def _submit_spark_features(
        self, features: dict[str, Any] | None, submit: Callable[..., Future[Any]]
    ) -> None:
        """Spark tables: the aggregates are computed here (where the session is), the tests
        evaluated by ``submit``."""
        check, frames = self.check, self.frames
        plan = plan_features(check, spark_check.schema_frame(frames["reference"]), features)
        prepared, html_inputs = spark_check.prepare_features(
            frames["reference"],
            frames["current"],
            plan.kinds,
            plan.methods,
            names=(check.reference, check.current),
            min_rows=self.min_rows,
            html_max_rows=check.report_max_rows,
            html=self.html,
        )
        self.features = submit(
            spark_check.feature_verdicts,
            check.name,
            prepared,
            drift_share=check.drift_share,
            html_path=self.directory / "report.html" if self.html else None,
            html_inputs=html_inputs,
        )

    def _submit_extras(self, submit: Callable[..., Future[Any]]) -> None:
        frames = self.frames
        if spark_check.any_spark(*frames.values()):
            pairs, self.notes = spark_check.prepare_extras(
                self.check,
                frames["reference"],
                frames["current"],
                frames.get("predictions"),
                frames.get("reference_predictions"),
            )
            self.extras = submit(spark_check.extra_verdicts, pairs)
            return
        extras, self.notes = plan_extras(
            self.check,
            frames["reference"],
            frames["current"],
            frames.get("predictions"),
            frames.get("reference_predictions"),
        )
        self.extras = submit(extra_verdicts, extras, methods_of(self.check))

    def result(self) -> CheckResult:
        """The joined result (waits for the parts); an ``error`` result when it could not run."""
        error = self.error or (None if self.features else NOT_PRODUCED)
        if error is None:
            try:
                result = self.features.result()  # type: ignore[union-attr]
                columns, problem = self.extras.result() if self.extras else ([], None)
                return combine(result, columns, problem, self.notes)
            except Exception as exc:  # the worker process failed
                if not self.contain:
                    raise
                error = f"{type(exc).__name__}: {exc}"
        return CheckResult(name=self.check.name, status="error", error=error)


def checks_of_run(
    monitoring: MonitoringConfig, outputs: set[str], output_dir: Path, stamp: str
) -> list[ConfiguredCheck]:
    """The checks of a ``kedro run`` whose current dataset the pipeline produces (``outputs``),
    each writing under ``output_dir/<check>/<stamp>``; their errors are contained."""
    runs = []
    for check in monitoring.checks:
        if check.kind != "drift" or check.current not in outputs:
            continue  # performance checks run with `kedro mlops monitor --check`
        run = ConfiguredCheck(
            check,
            min_rows=monitoring.min_rows,
            directory=output_dir / check.name / stamp,
            html=monitoring.html,
            contain=True,
        )
        run.produced = {role for role, name in run.datasets.items() if name in outputs}
        runs.append(run)
    return runs


def run_configured(
    check: DriftCheckConfig,
    frames: dict[str, Any],
    *,
    features: dict[str, Any] | None,
    directory: Path,
    html: bool,
    min_rows: int,
) -> tuple[CheckResult, dict[str, Path]]:
    """Plan, run and write one configured check in this process; input errors become an
    ``error`` result.

    ``frames`` holds the check's datasets by role: ``reference``, ``current`` and, when the
    check has them, ``predictions`` and ``reference_predictions``.
    """
    run = ConfiguredCheck(check, min_rows=min_rows, directory=directory, html=html)
    run.frames.update(frames)
    run.advance(load=_missing, features=lambda: features, final=True)
    result = run.result()
    return result, write_summary(result, directory)


def _missing(dataset: str) -> Any:  # noqa: ANN401
    raise CheckInputError(f"dataset {dataset!r} was not given")


def report(
    run: ConfiguredCheck,
    *,
    run_id: str | None,
    prefixed: bool,
    location: str,
    history_path: Path | None = None,
    alerting: AlertsConfig | None = None,
) -> tuple[CheckResult, str | None]:
    """Write, log to run ``run_id``, append to the monitoring history at ``history_path`` (and
    call the ``alerting`` webhooks on a state change) and print one finished check of a ``kedro
    run``; the result and why it fails its policy, if it does. A history that cannot be read is
    reported, never a reason to stop the run."""
    result = run.result()
    paths = write_summary(result, run.directory)
    if run_id:
        log_to_mlflow(run_id, result, paths, prefixed=prefixed)
    if history_path is not None:
        entry = history.entry_of(result)
        try:
            prior = history.append(history_path, entry)
            if alerting is not None:
                alerts.notify(alerting, prior, entry, result.summary())
        except history.HistoryError as exc:
            logger.error("kedro-mlops: %s", exc.message)
    log = logger.warning if result.status != "no_drift" else logger.info
    log("kedro-mlops: %s", result.summary(location))
    if run.check.on_drift == "fail" and result.status != "no_drift":
        return result, f"{run.check.name!r} ({result.status})"
    return result, None
