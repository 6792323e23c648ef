"""Read back what a project's runs recorded."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import datetime, timezone


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


def active_run_id() -> str | None:
    """The run to log into: this thread's active run, else the one exported by the parent process
    (``MLFLOW_RUN_ID``, set by the tracking hook for a run's duration: ParallelRunner workers)."""
    import mlflow  # noqa: PLC0415

    run = mlflow.active_run()
    return run.info.run_id if run else os.environ.get("MLFLOW_RUN_ID") or None
