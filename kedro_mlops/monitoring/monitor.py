"""``kedro mlops monitor``: a configured check on catalog datasets, or two files."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kedro_mlops.config import DEFAULT_DRIFT_SHARE
from kedro_mlops.errors import InputError, KedroMlopsError
from kedro_mlops.monitoring import alerts, history
from kedro_mlops.monitoring.check import CheckResult, run_check, write_outputs
from kedro_mlops.monitoring.columns import CheckInputError, infer_kinds
from kedro_mlops.monitoring.drift import Methods
from kedro_mlops.monitoring.files import read_table
from kedro_mlops.monitoring.performance import DEGRADED, PerformanceResult
from kedro_mlops.monitoring.plan import check_datasets
from kedro_mlops.monitoring.quality import log_run, run_performance
from kedro_mlops.monitoring.report import HtmlInputs
from kedro_mlops.monitoring.runner import run_configured

if TYPE_CHECKING:
    from collections.abc import Callable

    from kedro.framework.context import KedroContext

    from kedro_mlops.config import MlopsConfig, MonitoringConfig


def run_named(
    context: KedroContext,
    config: MlopsConfig,
    name: str,
    *,
    stamp: str,
    output: Path | None,
    html: bool,
    model_name: str = "",
    experiment: str = "",
) -> tuple[CheckResult | PerformanceResult, dict[str, Path], str]:
    """Run check ``name`` of ``mlops.yml`` on its catalog datasets as they are on disk now
    (``model_name``: the registered model, for a performance check's versions; a performance
    check is recorded as a run of ``experiment`` when one is named)."""
    monitoring = config.monitoring
    checks = {check.name: check for check in monitoring.checks}
    if name not in checks:
        raise CheckInputError(
            f"no check {name!r} in monitoring.checks of mlops.yml; configured: {sorted(checks)}"
        )
    check = checks[name]
    catalog = context.catalog
    if check.kind == "performance":
        dataset = context.params.get(monitoring.features_from)
        result, paths = run_performance(
            check,
            config,
            lambda dataset_name: load_dataset(catalog, dataset_name),
            lambda dataset_name: load_optional(catalog, dataset_name),
            dataset if isinstance(dataset, dict) else {},
            model_name=model_name,
            directory=output or context.project_path / monitoring.output_dir / name / stamp,
            html_page=html,
        )
        if experiment and result.status != "error":
            log_run(experiment, result, paths)
        return result, paths, check.on_drift
    frames = {
        role: load_dataset(catalog, dataset) for role, dataset in check_datasets(check).items()
    }
    features = context.params.get(monitoring.features_from)
    directory = output or context.project_path / monitoring.output_dir / name / stamp
    result, paths = run_configured(
        check,
        frames,
        features=features if isinstance(features, dict) else None,
        directory=directory,
        html=html,
        min_rows=monitoring.min_rows,
    )
    return result, paths, check.on_drift


def load_dataset(catalog: Any, dataset: str) -> Any:  # noqa: ANN401 - whatever the catalog holds
    if dataset not in catalog:
        raise CheckInputError(f"dataset {dataset!r} is not in the catalog")
    try:
        data = catalog.load(dataset)
        if isinstance(data, dict) and data and all(callable(part) for part in data.values()):
            return _concat_partitions(data)
    except Exception as exc:  # any loading failure is reported the same way
        raise CheckInputError(
            f"dataset {dataset!r} cannot be loaded ({exc}); a `kedro run` of the pipeline "
            "that produces it writes it (served_traffic: `kedro mlops serve` logs it)"
        ) from None
    return data


def load_optional(catalog: Any, dataset: str) -> Any:  # noqa: ANN401
    """``dataset`` as ``load_dataset`` gives it, or ``None`` while it cannot be loaded (an empty
    folder of labels); a dataset missing from the catalog is still an error."""
    if dataset not in catalog:
        raise CheckInputError(f"dataset {dataset!r} is not in the catalog")
    try:
        return load_dataset(catalog, dataset)
    except CheckInputError:
        return None


def catalog_features(catalog: Any, features_from: str) -> dict[str, Any] | None:  # noqa: ANN401
    """The feature lists parameter (``monitoring.features_from``) of a run's catalog, if any."""
    name = f"params:{features_from}"
    if catalog is None or name not in catalog:
        return None
    value = catalog.get(name).load()
    return value if isinstance(value, dict) else None


def _concat_partitions(partitions: dict[str, Any]) -> Any:  # noqa: ANN401 - a DataFrame
    """A ``PartitionedDataset``'s partitions as one frame, in partition order."""
    import pandas as pd  # noqa: PLC0415

    return pd.concat([partitions[key]() for key in sorted(partitions)], ignore_index=True)


def run_files(
    reference_path: Path,
    current_path: Path,
    monitoring: MonitoringConfig,
    *,
    name: str,
    columns: list[str],
    categorical: list[str],
    drift_share: float,
    max_rows: int | None,
    directory: Path,
    html: bool,
) -> tuple[CheckResult, dict[str, Path]]:
    """Compare two CSV/Parquet files: the given columns (each must be in both files), or every
    column the two files share (the others are listed as not tested)."""
    reference, current = read_table(reference_path), read_table(current_path)
    shared = [column for column in reference.columns if column in current.columns]
    tested = list(columns) or [column for column in shared if column not in categorical]
    tested += [column for column in categorical if column not in tested]
    kinds = infer_kinds(reference, tested, categorical)
    result = run_check(
        name,
        reference,
        current,
        kinds,
        drift_share=drift_share,
        min_rows=monitoring.min_rows,
        explicit=frozenset(columns) | frozenset(categorical),
        names=(str(reference_path), str(current_path)),
    )
    if not columns:
        for column, path, other in (
            *((c, reference_path, current) for c in reference.columns),
            *((c, current_path, reference) for c in current.columns),
        ):
            if column not in other.columns:
                result.skipped[str(column)] = f"only in {path}"
    inputs = HtmlInputs(reference, current, kinds, Methods(), max_rows)
    return result, write_outputs(result, directory, html_inputs=inputs if html else None)


class MonitorError(InputError):
    """A check could not run (exit code 2, as the command's help says)."""


@dataclass(frozen=True)
class MonitorReport:
    """A check's result, where its outputs are and whether drift or degradation ends the
    command (exit 1)."""

    result: CheckResult | PerformanceResult
    location: Path
    fail_on_drift: bool

    def lines(self) -> list[str]:
        """The check's line, then the columns it could not test."""
        lines = [self.result.summary(str(self.location) if self.location.parts else "")]
        lines += [f"  not tested: {col}: {why}" for col, why in self.result.skipped.items()]
        return lines

    @property
    def failed(self) -> bool:
        """Drift or degradation under a ``fail`` policy (or ``--fail-on-alert``)."""
        return self.result.status in ("drift", DEGRADED) and self.fail_on_drift

    def raise_for_error(self) -> None:
        """Raises ``MonitorError`` when the check could not run."""
        if self.result.status == "error":
            kind = "performance" if isinstance(self.result, PerformanceResult) else "drift"
            error = self.result.error or ""
            if error.startswith(("drift check", "performance check")):
                raise MonitorError(error)  # already says which check
            raise MonitorError(f"{kind} check {self.result.name!r} could not run: {error}")


def _as_monitor_error(function: Callable[..., MonitorReport]) -> Callable[..., MonitorReport]:
    """Whatever stops a check before it has a result ends the command with exit 2, never 1:
    an orchestrator retrains on exit 1."""

    @functools.wraps(function)
    def guarded(*args: Any, **kwargs: Any) -> MonitorReport:  # noqa: ANN401
        try:
            return function(*args, **kwargs)
        except CheckInputError as exc:
            raise MonitorError(str(exc)) from None
        except KedroMlopsError as exc:  # e.g. an invalid mlops.yml
            raise MonitorError(exc.message) from None
        except Exception as exc:
            raise MonitorError(f"drift check failed: {type(exc).__name__}: {exc}") from exc

    return guarded


def _stamp() -> str:
    return datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S.%fZ")


@_as_monitor_error
def monitor_named(
    load: Callable[[], tuple[KedroContext, MlopsConfig]],
    name: str,
    *,
    output: Path | None = None,
    no_html: bool = False,
    fail_on_drift: bool = False,
    model_name: Callable[[KedroContext, MlopsConfig], str] | None = None,
    experiment: Callable[[KedroContext], str] | None = None,
) -> MonitorReport:
    """Run check ``name`` of ``mlops.yml`` (the project read by ``load``) on its datasets now;
    ``model_name`` gives the project's registered model and ``experiment`` its MLflow
    experiment (performance checks, recorded as a run there).

    Raises:
        MonitorError: when the check cannot run.
    """
    context, config = load()
    html = config.monitoring.html and not no_html
    result, paths, policy = run_named(
        context,
        config,
        name,
        stamp=_stamp(),
        output=output,
        html=html,
        model_name=model_name(context, config) if model_name else "",
        experiment=experiment(context) if experiment else "",
    )
    record(Path(context.project_path) / config.monitoring.history, result, config.monitoring)
    return MonitorReport(result, paths["summary"].parent, fail_on_drift or policy == "fail")


def monitor_checks(
    load: Callable[[], tuple[KedroContext, MlopsConfig]],
    names: list[str],
    **options: Any,  # noqa: ANN401 - monitor_named's keywords
) -> list[MonitorReport]:
    """Run each check of ``names`` (the project read once), in order; a check that cannot run
    gives an ``error`` report (``raise_for_error``) and the others still run."""
    loaded = functools.cache(load)
    try:
        loaded()  # a project that cannot be read stops every check: its own message, exit 2
    except KedroMlopsError as exc:
        raise MonitorError(exc.message) from None
    reports = []
    for name in names:
        try:
            reports.append(monitor_named(loaded, name, **options))
        except MonitorError as exc:
            failed = CheckResult(name=name, status="error", error=exc.message)
            reports.append(MonitorReport(failed, Path(), fail_on_drift=False))
    return reports


@_as_monitor_error
def monitor_files(
    load: Callable[[], MlopsConfig],
    project_path: Path,
    reference: Path,
    current: Path,
    *,
    name: str = "adhoc",
    columns: list[str] | None = None,
    categorical: list[str] | None = None,
    drift_share: float | None = None,
    max_rows: int | None = None,
    output: Path | None = None,
    no_html: bool = False,
    fail_on_drift: bool = False,
) -> MonitorReport:
    """Compare two files with the project's monitoring settings (read by ``load``); outputs
    under ``output``, else ``monitoring.output_dir/<name>/<stamp>``.

    Raises:
        MonitorError: when the check cannot run.
    """
    config = load()
    directory = output or project_path / config.monitoring.output_dir / name / _stamp()
    result, paths = run_files(
        reference,
        current,
        config.monitoring,
        name=name,
        columns=list(columns or ()),
        categorical=list(categorical or ()),
        drift_share=DEFAULT_DRIFT_SHARE if drift_share is None else drift_share,
        max_rows=max_rows,
        directory=directory,
        html=config.monitoring.html and not no_html,
    )
    record(project_path / config.monitoring.history, result, config.monitoring)
    return MonitorReport(result, paths["summary"].parent, fail_on_drift)


def record(
    path: Path, result: CheckResult | PerformanceResult, monitoring: MonitoringConfig
) -> None:
    """Append the check run to the project's monitoring history; alert on a state change.

    Raises:
        HistoryError: the history does not parse (it is left as it is; exit 2).
    """
    entry = history.entry_of(result)
    prior = history.append(path, entry)
    alerts.notify(monitoring.alerts, prior, entry, result.summary())


def _history_path(load: Callable[[], MlopsConfig], project_path: Path) -> Path:
    path = Path(load().monitoring.history)
    return path if path.is_absolute() else project_path / path


def show_history(
    load: Callable[[], MlopsConfig],
    project_path: Path,
    *,
    check: str | None = None,
    since: str | None = None,
) -> list[str]:
    """The timeline of ``kedro mlops monitor --history`` (one line per check run).

    Raises:
        HistoryError: the history does not parse, or ``since`` is not like 30d.
    """
    return history.timeline(_history_path(load, project_path), check=check, since=since)


def write_dashboard(
    load: Callable[[], MlopsConfig], project_path: Path, *, check: str | None = None
) -> Path:
    """``dashboard.html`` beside the history: every check run drawn (or those of ``check``).

    Raises:
        HistoryError: the history does not parse.
    """
    from kedro_mlops.monitoring.dashboard import page  # noqa: PLC0415

    path = _history_path(load, project_path)
    entries = history.select(history.read(path), check=check, since=None)
    target = path.parent / "dashboard.html"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(page(entries, path.name), encoding="utf-8")
    return target
