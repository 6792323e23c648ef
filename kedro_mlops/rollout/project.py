"""``kedro mlops rollout analyze | promote | rollback`` on a project: the logged traffic and
labels in, the decision recorded on the challenger's model version and as an MLflow run, the
registry aliases moved."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from kedro_mlops import mlflow_run
from kedro_mlops.config.rollout import CHALLENGER_PREFIX, CHAMPION_PREFIX, VERSION
from kedro_mlops.config.serving import LABEL, label_key
from kedro_mlops.errors import InputError
from kedro_mlops.frames import as_text
from kedro_mlops.names import CHALLENGER, CHAMPION, MODEL_TAG, VERSION_TAG
from kedro_mlops.rollout.analysis import HOLD, PROMOTE, ROLLBACK, compute, decide

if TYPE_CHECKING:
    from pathlib import Path

    import pandas as pd
    from mlflow.entities.model_registry import ModelVersion
    from mlflow.tracking import MlflowClient

    from kedro_mlops.config import MlopsConfig
    from kedro_mlops.rollout.analysis import Decision, Figures

logger = logging.getLogger(__name__)

# a CD job branches on these (``promote`` is 0); 1 and 2 keep their meaning (errors.py)
EXIT_CODES = {PROMOTE: 0, HOLD: 3, ROLLBACK: 4}
TAG = "mlops.rollout"
REJECTED_TAG = f"{TAG}.rejected"
RUN_NAME = "rollout-analysis"
ENV_NAME = "ROLLOUT_DECISION"


class RolloutError(InputError):
    """Nothing to analyse or act on: no challenger, no logged traffic (exit 2)."""


@dataclass(frozen=True)
class RolloutReport:
    """The analysis: its figures, its decision, the run that records it, what was applied."""

    model_name: str
    figures: Figures
    decision: Decision
    run_id: str
    applied: str = ""

    @property
    def exit_code(self) -> int:
        return EXIT_CODES[self.decision.action]

    def line(self) -> str:
        return self.decision.line(self.figures)

    def details(self) -> list[str]:
        """The figures, one per line (stderr)."""
        figures = self.figures
        lines = [
            f"rows scored by the challenger: {figures.rows} ({figures.errors} failed), live "
            f"{figures.live_minutes:.1f} min",
            f"agreement on the predicted class: {_pct(figures.agreement)}; score PSI: "
            f"{_num(figures.score_psi)}",
        ]
        if figures.latency_ratio is not None:
            lines.append(
                f"p99 scoring time ({figures.latency_rows}-row batches): challenger "
                f"{figures.challenger_p99_ms:.2f} ms, champion {figures.champion_p99_ms:.2f} ms"
            )
        else:
            lines.append("p99 scoring time: not compared (too few batches of a common size)")
        lines.append(
            f"labelled rows: {figures.labelled}; {figures.metric}: challenger "
            f"{_num(figures.challenger_metric)}, champion {_num(figures.champion_metric)}"
            + (f" ({figures.metric_note})" if figures.metric_note else "")
        )
        lines.append(
            f"recorded as run {self.run_id} and on {self.model_name} v{figures.challenger}"
        )
        if self.applied:
            lines.append(self.applied)
        return lines


def _pct(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.1%}"


def _num(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.4g}"


def alias_version(client: MlflowClient, name: str, alias: str) -> ModelVersion | None:
    from mlflow.exceptions import MlflowException  # noqa: PLC0415

    try:
        return client.get_model_version_by_alias(name, alias)
    except MlflowException:
        return None


def _challenger(client: MlflowClient, name: str) -> ModelVersion:
    version = alias_version(client, name, CHALLENGER)
    if version is None:
        raise RolloutError(
            f"Model {name!r} has no {CHALLENGER!r} alias at {client.tracking_uri}: nothing to "
            "try. A training run that does not beat the champion registers one."
        )
    return version


def served_rows(catalog: Any, dataset: str, since_ms: int) -> pd.DataFrame:  # noqa: ANN401 - a Kedro catalog
    """The inference log's rows of a rollout (partitions written since ``since_ms``).

    Raises:
        RolloutError: when the dataset is not in the catalog.
    """
    import pandas as pd  # noqa: PLC0415

    if dataset not in catalog:
        raise RolloutError(f"serving.log_dataset {dataset!r} is not in the catalog")
    try:
        partitions = catalog.load(dataset)
    except Exception:  # an empty folder: nothing logged yet
        partitions = {}
    # partitions are named by the UTC time they were written (serving.traffic)
    since = datetime.fromtimestamp(since_ms / 1000, timezone.utc).strftime("%Y%m%dT%H%M%S")
    frames = []
    for name, load in sorted(partitions.items()):
        if name.rsplit("/", 1)[-1][: len(since)] < since:
            continue
        frame = load() if callable(load) else load
        if CHALLENGER_PREFIX + VERSION in frame.columns:
            frames.append(frame)
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


def labels_of(
    catalog: Any,  # noqa: ANN401 - a Kedro catalog
    dataset: str,
    id_column: str | None,
    target: str,
) -> pd.DataFrame | None:
    """The known labels by id (the last one of each id), or ``None`` when the catalog has no
    ``dataset`` or the rows no id column.

    Raises:
        RolloutError: when the labels have no id or label column.
    """
    import pandas as pd  # noqa: PLC0415

    if not id_column or dataset not in catalog:
        return None
    try:
        loaded = catalog.load(dataset)
    except Exception:  # an empty folder: no labels yet
        return None
    if isinstance(loaded, dict):
        parts = [part() if callable(part) else part for _, part in sorted(loaded.items())]
        loaded = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()
    if loaded.empty:
        return None
    column = LABEL if LABEL in loaded.columns else target
    missing = [name for name in (id_column, column) if name not in loaded.columns]
    if missing:
        raise RolloutError(
            f"the labels ({dataset!r}) have no column {missing[0]!r}: expected {id_column!r} "
            f"and {LABEL!r} (or {target!r}); found {', '.join(map(str, loaded.columns))}"
        )
    labels = loaded[[id_column, column]].dropna().drop_duplicates(id_column, keep="last")
    return labels.rename(columns={column: LABEL})


def analyze_project(
    client: MlflowClient,
    catalog: Any,  # noqa: ANN401 - a Kedro catalog
    config: MlopsConfig,
    *,
    model_name: str,
    experiment: str,
    dataset: dict[str, Any],
    apply: bool = False,
    now: datetime | None = None,
) -> RolloutReport:
    """Compare the challenger with the champion on the logged traffic since the challenger was
    registered, decide, record the decision (tags on the challenger's version, an MLflow run)
    and, with ``apply``, act on it (promote or rollback; hold does nothing).

    Raises:
        RolloutError: no challenger, or no logged row it scored.
    """
    challenger = _challenger(client, model_name)
    champion = alias_version(client, model_name, CHAMPION)
    rows = served_rows(catalog, config.serving.log_dataset, challenger.creation_timestamp)
    mine = str(challenger.version)
    if not rows.empty:
        rows = rows[as_text(rows[CHALLENGER_PREFIX + VERSION]) == mine]
        if champion is not None:
            rows = rows[as_text(rows[CHAMPION_PREFIX + VERSION]) == str(champion.version)]
    if rows.empty:
        raise RolloutError(
            f"No logged traffic scored by challenger v{mine} of {model_name!r} in "
            f"serving.log_dataset {config.serving.log_dataset!r}: serve with `kedro mlops serve "
            "--rollout shadow` (or canary) and log predictions first."
        )
    id_column = label_key(dataset.get("id_column"), rows.columns)
    labels = labels_of(
        catalog, config.rollout.analysis.labels_dataset, id_column, str(dataset.get("target"))
    )
    if labels is not None:
        keys = as_text(labels[id_column])
        rows = rows.assign(**{LABEL: as_text(rows[id_column]).map(dict(zip(keys, labels[LABEL])))})
    now = now or datetime.now(timezone.utc)
    first = rows["served_at"].min() if "served_at" in rows.columns else None
    live = (now - datetime.fromisoformat(str(first))).total_seconds() / 60 if first else 0.0
    gate = config.registry.gate
    figures = compute(
        rows,
        champion=str(champion.version) if champion else "none",
        challenger=mine,
        metric=gate.metric,
        positive_class=str(dataset.get("positive_class", "")),
        live_minutes=max(live, 0.0),
    )
    decision = decide(figures, config.rollout.analysis, gate.direction)
    run_id = _record(client, experiment, model_name, figures, decision)
    report = RolloutReport(model_name, figures, decision, run_id)
    if apply and decision.action == PROMOTE:
        return _applied(report, promote_challenger(client, model_name, report.line()))
    if apply and decision.action == ROLLBACK:
        return _applied(report, rollback_challenger(client, model_name, report.line()))
    return report


def _applied(report: RolloutReport, what: str) -> RolloutReport:
    return RolloutReport(report.model_name, report.figures, report.decision, report.run_id, what)


def _record(
    client: MlflowClient, experiment: str, name: str, figures: Figures, decision: Decision
) -> str:
    """The decision as tags of the challenger's version and as a run of ``experiment``."""
    tags = {
        f"{TAG}.decision": decision.action,
        f"{TAG}.reason": decision.line(figures)[:5000],
        f"{TAG}.champion_version": figures.champion,
        f"{TAG}.rows": str(figures.rows),
        f"{TAG}.labelled_rows": str(figures.labelled),
    }
    found = client.get_experiment_by_name(experiment)
    experiment_id = found.experiment_id if found else client.create_experiment(experiment)
    run = client.create_run(
        experiment_id,
        run_name=f"{RUN_NAME} v{figures.challenger}",
        tags={**tags, MODEL_TAG: name, VERSION_TAG: figures.challenger},
    )
    mlflow_run.log_batch(run.info.run_id, metrics=figures.as_metrics(), client=client)
    client.set_terminated(run.info.run_id)
    for key, value in {**tags, f"{TAG}.run_id": run.info.run_id}.items():
        client.set_model_version_tag(name, figures.challenger, key, value)
    return run.info.run_id


def promote_challenger(client: MlflowClient, name: str, reason: str) -> str:
    """Move ``champion`` to the challenger's version and remove the ``challenger`` alias (every
    server watching ``@champion`` swaps within its reload interval)."""
    challenger = _challenger(client, name)
    version = str(challenger.version)
    previous = alias_version(client, name, CHAMPION)
    client.set_registered_model_alias(name, CHAMPION, version)
    client.delete_registered_model_alias(name, CHALLENGER)
    client.set_model_version_tag(name, version, f"{TAG}.promoted", reason[:5000])
    was = f" (was v{previous.version})" if previous else ""
    return f"{name} v{version} is now {CHAMPION}{was}"


def rollback_challenger(client: MlflowClient, name: str, reason: str) -> str:
    """Remove the ``challenger`` alias and tag its version rejected (servers stop trying it
    within their reload interval; the champion is untouched)."""
    challenger = _challenger(client, name)
    version = str(challenger.version)
    client.delete_registered_model_alias(name, CHALLENGER)
    client.set_model_version_tag(name, version, REJECTED_TAG, reason[:5000])
    return f"{name} v{version} rolled back: no longer {CHALLENGER}, tagged {REJECTED_TAG}"


def write_env(path: Path, action: str) -> None:
    """Append ``ROLLOUT_DECISION=<action>`` (a dotenv report, or ``$GITHUB_OUTPUT``)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a", encoding="utf-8") as handle:
        handle.write(f"{ENV_NAME}={action}\n")
