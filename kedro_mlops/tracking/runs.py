"""Read back what a project's runs recorded."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone

from kedro_mlops.errors import KedroMlopsError
from kedro_mlops.names import MODEL_TAG, VERSION_TAG


class RunNotFoundError(KedroMlopsError):
    """The run asked for does not exist (exit code 2: an input error)."""

    exit_code = 2


@dataclass(frozen=True)
class RunSummary:
    """The latest run of an experiment, as ``kedro mlops status`` shows it."""

    run_id: str
    run_name: str
    status: str
    started: str
    metrics: dict[str, float] = field(default_factory=dict)
    model_uris: list[str] = field(default_factory=list)


def latest_run(tracking_uri: str, experiment_name: str) -> RunSummary | None:
    """The most recent run of ``experiment_name`` with its metrics and logged models."""
    from mlflow.tracking import MlflowClient  # noqa: PLC0415 - heavy

    client = MlflowClient(tracking_uri=tracking_uri)
    experiment = client.get_experiment_by_name(experiment_name)
    if experiment is None:
        return None
    runs = client.search_runs(
        [experiment.experiment_id], order_by=["attributes.start_time DESC"], max_results=1
    )
    if not runs:
        return None
    run = runs[0]
    models = client.search_logged_models(
        experiment_ids=[experiment.experiment_id],
        filter_string=f"source_run_id = '{run.info.run_id}'",
    )
    started = datetime.fromtimestamp(run.info.start_time / 1000, tz=timezone.utc)
    return RunSummary(
        run_id=run.info.run_id,
        run_name=run.info.run_name or "",
        status=run.info.status,
        started=started.isoformat(timespec="seconds"),
        metrics=dict(sorted(run.data.metrics.items())),
        model_uris=[model.model_uri for model in models],
    )


NO_DECISION = "none"


@dataclass(frozen=True)
class RunDecision:
    """What the registry gate decided for one run (``kedro mlops gate``)."""

    run_id: str | None
    decision: str  # champion, challenger or none
    detail: str


def gate_decision(
    tracking_uri: str, experiment_name: str, run_id: str | None = None
) -> RunDecision:
    """The registry gate's decision for ``run_id``, or for the latest run of the experiment.

    ``none`` when that run registered no model (registry off, no model logged, not a training
    run) or there is no run at all; the detail says which.
    """
    from mlflow.exceptions import MlflowException  # noqa: PLC0415
    from mlflow.tracking import MlflowClient  # noqa: PLC0415

    from kedro_mlops.tracking import registry  # noqa: PLC0415

    client = MlflowClient(tracking_uri=tracking_uri)
    if run_id:
        try:
            run = client.get_run(run_id)
        except MlflowException:
            raise RunNotFoundError(
                f"No run {run_id!r} at {tracking_uri}; `kedro mlops status` shows the latest."
            ) from None
    else:
        experiment = client.get_experiment_by_name(experiment_name)
        runs = (
            client.search_runs(
                [experiment.experiment_id],
                order_by=["attributes.start_time DESC"],
                max_results=1,
            )
            if experiment
            else []
        )
        if not runs:
            return RunDecision(
                None, NO_DECISION, f"no run in experiment {experiment_name!r} at {tracking_uri}"
            )
        run = runs[0]
    tags = run.data.tags
    decision = tags.get(registry.DECISION_TAG)
    name = run.info.run_name or run.info.run_id
    if not decision:
        return RunDecision(
            run.info.run_id,
            NO_DECISION,
            f"run {name} ({run.info.run_id}, {run.info.status}) registered no model",
        )
    version = tags.get(VERSION_TAG, "?")
    model = tags.get(MODEL_TAG, "?")
    reason = tags.get(registry.REASON_TAG, "")
    return RunDecision(
        run.info.run_id,
        decision,
        f"run {name} ({run.info.run_id}): {model} v{version} -> {decision}: {reason}",
    )
