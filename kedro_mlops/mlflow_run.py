"""Write to an MLflow run: the one module that does (ground floor).

Tracking (timings, tags, the resolved configuration, dataset inputs), monitoring (drift metrics,
the verdict tag, the reports) and ``io.ArtifactDataset`` all log through these functions, so
metric names are cleaned and batches built in one way. MLflow is imported inside each function:
importing this module costs nothing.
"""

from __future__ import annotations

import os
import time
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Mapping

# exported by the tracking hook for a run's duration (ParallelRunner workers log into that run)
RUN_ID_VARIABLE = "MLFLOW_RUN_ID"


def current_run_id() -> str | None:
    """This thread's active run (the one kedro-mlflow started), if any."""
    import mlflow  # noqa: PLC0415

    run = mlflow.active_run()
    return run.info.run_id if run else None


def active_run_id() -> str | None:
    """The run to log into: this thread's active run, else the one exported by the parent process
    (``MLFLOW_RUN_ID``, set by the tracking hook for a run's duration: ParallelRunner workers)."""
    return current_run_id() or os.environ.get(RUN_ID_VARIABLE) or None


def metric_name(name: str) -> str:
    """``name`` with every character MLflow refuses in a metric name replaced by ``_`` (metric
    names allow letters, digits, ``_ - . /`` and spaces)."""
    return "".join(c if c.isalnum() or c in "_-./ " else "_" for c in name)


# MLflow's limit for a parameter value
MAX_PARAM_LENGTH = 6000


def log_batch(
    run_id: str,
    *,
    metrics: Mapping[str, float] | None = None,
    tags: Mapping[str, Any] | None = None,
    params: Mapping[str, Any] | None = None,
    client: Any = None,  # noqa: ANN401 - an MlflowClient of another store; default: the current
) -> None:
    """Metrics (names cleaned, all at one timestamp, step 0), tags (values as text) and
    parameters (text cut at MLflow's limit) in one call; nothing when all are empty."""
    if not metrics and not tags and not params:
        return
    from mlflow.entities import Metric, Param, RunTag  # noqa: PLC0415
    from mlflow.tracking import MlflowClient  # noqa: PLC0415

    now = int(time.time() * 1000)
    (client or MlflowClient()).log_batch(
        run_id,
        metrics=[Metric(metric_name(k), float(v), now, 0) for k, v in (metrics or {}).items()],
        tags=[RunTag(k, str(v)) for k, v in (tags or {}).items()],
        params=[Param(k, str(v)[:MAX_PARAM_LENGTH]) for k, v in (params or {}).items()],
    )


def run_params(run_id: str) -> dict[str, str]:
    """The parameters the run holds (as text, as MLflow stores them)."""
    from mlflow.tracking import MlflowClient  # noqa: PLC0415

    return dict(MlflowClient().get_run(run_id).data.params)


def log_artifact(run_id: str, path: str, artifact_path: str | None = None) -> None:
    """The file ``path`` under ``artifact_path`` of the run's artifacts."""
    from mlflow.tracking import MlflowClient  # noqa: PLC0415

    MlflowClient().log_artifact(run_id, path, artifact_path)


def log_dict(run_id: str, data: dict[str, Any], artifact_file: str) -> None:
    """``data`` as a JSON or YAML artifact (by the extension of ``artifact_file``)."""
    from mlflow.tracking import MlflowClient  # noqa: PLC0415

    MlflowClient().log_dict(run_id, data, artifact_file)


def log_inputs(run_id: str, datasets: list[Any]) -> None:
    """MLflow dataset inputs (``DatasetInput`` entities) of the run."""
    from mlflow.tracking import MlflowClient  # noqa: PLC0415

    MlflowClient().log_inputs(run_id, datasets=datasets)
