"""Run a performance check of ``mlops.yml`` on a project: the predictions and labels from the
catalog, each version's test metrics from its MLflow run, ``summary.json`` and ``report.html``
written (the edge around the pure :mod:`kedro_mlops.monitoring.performance`)."""

from __future__ import annotations

import html
import json
import logging
import re
from typing import TYPE_CHECKING, Any

from kedro_mlops import mlflow_run
from kedro_mlops.config.monitoring import REGISTRY_COLUMN
from kedro_mlops.config.serving import PREDICTION_ID, label_key
from kedro_mlops.frames import as_text, is_spark
from kedro_mlops.monitoring.performance import (
    UNREGISTERED,
    PerformanceResult,
    Target,
    score_predictions,
    version_keys,
)
from kedro_mlops.names import CONTENT_VERSION_TAG, MODEL_TAG, VERSION_TAG

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

    import pandas as pd

    from kedro_mlops.config import DriftCheckConfig, MlopsConfig, PerformanceConfig

logger = logging.getLogger(__name__)
_CONTENT = re.compile(r"[A-Za-z0-9_.-]{1,128}")


def mlflow_baselines() -> Callable[[str], dict[str, float] | None]:
    """Each ``<model>/<version>``'s test metrics: the metrics of the run that logged it."""
    from mlflow.exceptions import MlflowException  # noqa: PLC0415
    from mlflow.tracking import MlflowClient  # noqa: PLC0415

    client = MlflowClient()
    found: dict[str, dict[str, float] | None] = {}

    def baseline(key: str) -> dict[str, float] | None:
        if key not in found:
            found[key] = None
            name, _, version = key.rpartition("/")
            if key != UNREGISTERED and name:
                try:
                    run_id = client.get_model_version(name, version).run_id
                    found[key] = dict(client.get_run(run_id).data.metrics) if run_id else None
                except MlflowException as exc:
                    logger.info("kedro-mlops: no test metrics for %s: %s", key, exc)
        return found[key]

    return baseline


def mlflow_registered() -> Callable[[str], str | None]:
    """The ``<model>/<version>`` a content version was registered as: the registry tags of the
    training run tagged with it (``tracking`` tags both), or ``None``."""
    from mlflow.exceptions import MlflowException  # noqa: PLC0415
    from mlflow.tracking import MlflowClient  # noqa: PLC0415

    client = MlflowClient()
    found: dict[str, str | None] = {}

    def registered(content: str) -> str | None:
        if content not in found:
            found[content] = None
            if not _CONTENT.fullmatch(content):  # a hash; anything else is no run's tag
                return None
            try:
                experiments = [e.experiment_id for e in client.search_experiments()]
                runs = client.search_runs(
                    experiments,
                    f"tags.`{CONTENT_VERSION_TAG}` = '{content}'",
                    order_by=["attributes.start_time DESC"],
                )
            except MlflowException as exc:
                logger.info("kedro-mlops: no registered version for %s: %s", content, exc)
                return None
            for run in runs:
                tags = run.data.tags
                if tags.get(MODEL_TAG) and tags.get(VERSION_TAG):
                    found[content] = f"{tags[MODEL_TAG]}/{tags[VERSION_TAG]}"
                    break
        return found[content]

    return registered


def with_registered(
    predictions: pd.DataFrame,
    settings: PerformanceConfig,
    target: Target,
    registered: Callable[[str], str | None],
) -> pd.DataFrame:
    """``predictions`` with the registered version (``model_registry``) of the rows no version
    column names, found by their content version (``settings.content_column``)."""
    column = settings.content_column
    if (
        not column
        or column not in predictions.columns
        or REGISTRY_COLUMN not in settings.version_columns
    ):
        return predictions
    unnamed = version_keys(predictions, settings.version_columns, target.model_name) == UNREGISTERED
    if not unnamed.any():
        return predictions
    contents = as_text(predictions[column])
    names = {c: registered(c) for c in contents[unnamed].unique() if c}
    names = {c: name for c, name in names.items() if name}
    if not names:
        return predictions
    # the rows no version column names take the version found (their registry is empty)
    found = contents.map(names).where(unnamed, predictions.get(REGISTRY_COLUMN))
    return predictions.assign(**{REGISTRY_COLUMN: found})


def run_performance(
    check: DriftCheckConfig,
    config: MlopsConfig,
    load: Callable[[str], Any],
    load_labels: Callable[[str], Any],
    dataset: dict[str, Any],
    *,
    model_name: str,
    directory: Path,
    html_page: bool,
    baselines: Callable[[str], dict[str, float] | None] | None = None,
    registered: Callable[[str], str | None] | None = None,
) -> tuple[PerformanceResult, dict[str, Path]]:
    """Score check ``check`` (``kind: performance``) and write its outputs under ``directory``.

    ``dataset`` is the project's dataset parameters (id column, target, positive class);
    ``load_labels`` gives ``None`` while no label has arrived (the verdict is then
    ``insufficient_labels``).
    """
    from kedro_mlops.monitoring.columns import CheckInputError  # noqa: PLC0415

    settings = check.performance
    assert settings is not None  # noqa: S101 - validated: kind performance has one
    try:
        predictions = load(check.current)
        if is_spark(predictions):  # a Spark project's predictions: its few columns as pandas
            predictions = predictions.toPandas()
        target = Target(
            id_column=join_column(dataset, list(predictions.columns), check),
            positive_class=str(dataset.get("positive_class", "")),
            metric=config.registry.gate.metric,
            direction=config.registry.gate.direction,
            model_name=model_name,
        )
        labels = load_labels(settings.labels)
        predictions = with_registered(
            predictions, settings, target, registered or mlflow_registered()
        )
        result = score_predictions(
            check.name,
            predictions,
            labels if labels is not None else no_labels(target.id_column),
            settings,
            target,
            labels_dataset=settings.labels,
            target_column=str(dataset.get("target", "label")),
            baselines=baselines or mlflow_baselines(),
        )
        if labels is None:
            result.skipped["labels"] = f"no labels in {settings.labels!r} yet"
    except CheckInputError as exc:
        result = PerformanceResult(name=check.name, status="error", error=str(exc))
    return result, write_outputs(result, directory, html_page=html_page)


def join_column(dataset: dict[str, Any], columns: list[str], check: DriftCheckConfig) -> str:
    """The column labels are joined to predictions by: the id column of the project's dataset,
    else the ``prediction_id`` the server gives each row it answers without one.

    Raises:
        CheckInputError: neither is there (a batch without an id column).
    """
    from kedro_mlops.monitoring.columns import CheckInputError  # noqa: PLC0415

    key = label_key(dataset.get("id_column"), columns)
    if key:
        return key
    raise CheckInputError(
        f"labels cannot be joined to {check.current!r}: params dataset.id_column is not set and "
        f"its rows have no {PREDICTION_ID!r} (only the server's answers have one); set an id "
        f"column or remove check {check.name!r} from monitoring.checks"
    )


RUN_NAME = "performance-check"


def log_run(experiment: str, result: PerformanceResult, paths: dict[str, Path]) -> str:
    """The check as an MLflow run of ``experiment``: per version ``quality.<version>.<metric>``
    (and ``.test``, ``.labelled_share``, ``.labelled_rows``), a verdict tag per version and for
    the check, the JSON and HTML as artifacts; the run's id."""
    from mlflow.tracking import MlflowClient  # noqa: PLC0415

    client = MlflowClient()
    found = client.get_experiment_by_name(experiment)
    experiment_id = found.experiment_id if found else client.create_experiment(experiment)
    run = client.create_run(experiment_id, run_name=f"{RUN_NAME} {result.name}")
    metrics: dict[str, float] = {}
    tags = {"mlops.monitoring.check": result.name, "quality.verdict": result.status}
    for quality in result.versions:
        prefix = f"quality.{quality.version}."
        values = {name: v for name, v in quality.metrics.items() if v is not None}
        values.update(labelled_rows=quality.labelled, labelled_share=quality.labelled_share)
        if quality.baseline is not None:
            values["test"] = quality.baseline
        metrics.update({prefix + name: value for name, value in values.items()})
        tags[f"quality.{quality.version}.verdict"] = quality.status
    mlflow_run.log_batch(run.info.run_id, metrics=metrics, tags=tags, client=client)
    for path in paths.values():
        client.log_artifact(run.info.run_id, str(path), f"quality/{result.name}")
    client.set_terminated(run.info.run_id)
    return run.info.run_id


def no_labels(id_column: str) -> Any:  # noqa: ANN401 - a DataFrame
    import pandas as pd  # noqa: PLC0415

    return pd.DataFrame({id_column: pd.Series(dtype=object), "label": pd.Series(dtype=object)})


def write_outputs(
    result: PerformanceResult, directory: Path, *, html_page: bool
) -> dict[str, Path]:
    """``summary.json``, and ``report.html`` unless the check could not run."""
    directory.mkdir(parents=True, exist_ok=True)
    paths = {"summary": directory / "summary.json"}
    if html_page and result.status != "error":
        paths["report"] = directory / "report.html"
        paths["report"].write_text(page(result), encoding="utf-8")
        result.report = paths["report"].name
    paths["summary"].write_text(
        json.dumps(result.to_dict(), indent=2, default=str), encoding="utf-8"
    )
    return paths


def _num(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.4g}"


def page(result: PerformanceResult) -> str:
    """A self-contained HTML page: one table per version, metrics against their test values."""
    esc = html.escape
    sections = []
    for quality in result.versions:
        rows = "".join(
            f"<tr><td>{esc(name)}</td><td>{_num(value)}</td>"
            f"<td>{_num(quality.baselines.get(name))}</td></tr>"
            for name, value in quality.metrics.items()
        )
        interval = (
            f"[{quality.interval[0]:.4g}, {quality.interval[1]:.4g}]" if quality.interval else "n/a"
        )
        delay = _num(quality.label_delay_hours)
        sections.append(
            f'<section data-version="{esc(quality.version)}"><h2>{esc(quality.version)}: '
            f'<span class="{esc(quality.status)}">{esc(quality.status)}</span></h2>'
            f"<p>{quality.labelled} of {quality.rows} rows labelled "
            f"({quality.labelled_share:.0%}); median label delay {delay} h; "
            f"{esc(result.metric)} {_num(quality.value)}, 95% interval {interval}, test "
            f"{_num(quality.baseline)}. {esc(quality.note)}</p>"
            f"<table><tr><th>metric</th><th>live</th><th>test</th></tr>{rows}</table></section>"
        )
    notes = "".join(f"<li>{esc(k)}: {esc(v)}</li>" for k, v in result.skipped.items())
    return (
        '<!doctype html><html><head><meta charset="utf-8">'
        f"<title>performance check {esc(result.name)}</title><style>"
        "body{font-family:sans-serif;margin:2em}table{border-collapse:collapse}"
        "td,th{border:1px solid #ccc;padding:4px 8px}.degraded{color:#b00}.ok{color:#070}"
        ".insufficient_labels{color:#a60}</style></head><body>"
        f"<h1>performance check {esc(result.name)}: {esc(result.status)}</h1>"
        f"<p>window {esc(result.window)}; {result.labelled} of {result.rows} rows labelled; "
        f"degraded when {esc(result.metric)} is worse than the version's test value by more "
        f"than {result.max_drop:g} on at least {result.min_labels} labelled rows; "
        f"{result.unknown_label_ids} labels name ids never predicted.</p>"
        f"<ul>{notes}</ul>{''.join(sections)}<p>{esc(result.created_at)}</p></body></html>"
    )
