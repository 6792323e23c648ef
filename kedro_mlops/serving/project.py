"""``kedro mlops serve`` in a Kedro project: which model, and where served rows are logged."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kedro_mlops.serving.source import (
    ModelSourceError,
    default_model_uri,
    load_from_mlflow,
    load_local,
)

if TYPE_CHECKING:
    from collections.abc import Callable

    from kedro_mlops.config import ServingConfig
    from kedro_mlops.serving.model import ServingModel

logger = logging.getLogger(__name__)


def load_project_model(
    serving: ServingConfig,
    *,
    model_uri: str | None,
    model_name: str,
    experiment: str,
    pipelines: dict[str, Any],
    catalog: Any,  # noqa: ANN401 - the project's catalog
) -> ServingModel:
    """The model to serve: ``model_uri`` (option, then ``serving.model_uri``), else the
    registry's champion, else the experiment's newest logged model, else the local files.

    Raises:
        ModelSourceError: naming the URI (or the local dataset) and the cause.
    """
    from mlflow.tracking import MlflowClient  # noqa: PLC0415

    client = MlflowClient()
    uri = model_uri or serving.model_uri
    if uri is None:
        try:
            uri = default_model_uri(client, model_name, experiment)
        except Exception as exc:
            logger.info("kedro-mlops: no tracked model (%s): serving the local files", exc)
    if uri is not None:
        return load_from_mlflow(client, uri, prediction_column=serving.prediction_column)
    inference, input_name = _inference_pipeline(pipelines)
    return load_local(
        inference,
        catalog,
        input_name=input_name,
        name=model_name,
        prediction_column=serving.prediction_column,
    )


def challenger_uri(serving: ServingConfig, model_name: str) -> str:
    """The challenger a rollout tries: ``serving.rollout.challenger_uri``, else the registered
    model's ``challenger`` alias."""
    from kedro_mlops.names import CHALLENGER  # noqa: PLC0415

    return serving.rollout.challenger_uri or f"models:/{model_name}@{CHALLENGER}"


def load_challenger(serving: ServingConfig, model_name: str) -> ServingModel:
    """The challenger of an active ``serving.rollout``.

    Raises:
        ModelSourceError: one line naming the mode, the URI and how to get a challenger.
    """
    from mlflow.tracking import MlflowClient  # noqa: PLC0415

    uri = challenger_uri(serving, model_name)
    try:
        return load_from_mlflow(MlflowClient(), uri, prediction_column=serving.prediction_column)
    except ModelSourceError as exc:
        raise ModelSourceError(
            f"serving.rollout.mode is {serving.rollout.mode!r} but its challenger cannot be "
            f"loaded: {exc.message} A training run that does not beat the champion registers "
            "one, or `kedro mlops promote --alias challenger --version N`; or set "
            "serving.rollout.challenger_uri."
        ) from None


def _inference_pipeline(pipelines: dict[str, Any]) -> tuple[Any, str]:
    """The inference pipeline and its input of a pipeline bound by ``pipeline_ml_factory``."""
    for name in ("__default__", *sorted(pipelines)):
        pipeline = pipelines.get(name)
        if hasattr(pipeline, "inference") and hasattr(pipeline, "input_name"):
            return pipeline.inference, pipeline.input_name
    raise ModelSourceError(
        "no tracked model and no pipeline bound with kedro-mlflow's pipeline_ml_factory: "
        "`kedro run` trains and logs one, or pass --model-uri"
    )


def batch_input(pipelines: dict[str, Any], catalog: Any) -> Any:  # noqa: ANN401
    """The batch the inference pipeline scores (its input dataset), as the catalog loads it.

    Raises:
        ModelSourceError: when it cannot be loaded.
    """
    _inference, input_name = _inference_pipeline(pipelines)
    try:
        return catalog.load(input_name)
    except Exception as exc:  # any loading failure is reported the same way
        raise ModelSourceError(f"cannot load the batch {input_name!r}: {exc}") from None


# what the server appends to: served rows (serving.log_dataset) and labels (feedback_dataset)
_APPENDED = {
    "serving.log_dataset": ("data/07_model_output/served", "serving.log_predictions: false"),
    "serving.feedback_dataset": ("data/01_raw/ground_truth", "serving.feedback_dataset: null"),
}


def traffic_directory(
    catalog: Any,  # noqa: ANN401 - the project's catalog
    dataset: str,
    project_path: Path,
    key: str = "serving.log_dataset",
) -> Path:
    """The folder of the catalog's ``dataset`` (named by the ``key`` of mlops.yml) where the
    server appends CSV files: served rows, or labels.

    Raises:
        ModelSourceError: when the dataset is missing or not a ``PartitionedDataset`` of CSV.
    """
    path, off = _APPENDED[key]
    fix = (
        f"add it to conf/base/catalog.yml as `{dataset}: {{type: partitions.PartitionedDataset, "
        f"path: {path}, dataset: pandas.CSVDataset, filename_suffix: .csv}}`, or set {off} in "
        "mlops.yml"
    )
    if dataset not in catalog:
        raise ModelSourceError(f"{key} {dataset!r} is not in the catalog: {fix}")
    described = catalog.get(dataset)._describe()  # the only public-ish view of a dataset's path
    if "CSVDataset" not in str(described.get("dataset_type", "")) or not described.get("path"):
        raise ModelSourceError(
            f"{key} {dataset!r} must be a PartitionedDataset of pandas.CSVDataset files; {fix}"
        )
    path = Path(str(described["path"]))
    return path if path.is_absolute() else project_path / path


def serve_project(
    serving: ServingConfig,
    *,
    load_model: Callable[[], ServingModel],
    catalog: Any,  # noqa: ANN401 - the project's catalog
    project_path: Path,
    host: str | None = None,
    port: int | None = None,
    workers: int | None = None,
    reload_interval: float | None = None,
    load_challenger: Callable[[], ServingModel] | None = None,
    challenger_uri: str | None = None,
    echo: Callable[[str], Any] = logger.info,
) -> None:
    """Serve the project's model (``load_model``) until interrupted, with ``serving:`` of
    mlops.yml under the given options; the port is checked before the models load. An active
    ``serving.rollout`` tries ``load_challenger()`` (from ``challenger_uri``) beside it.

    Raises:
        ServeError: when the port cannot be used.
        ModelSourceError: when there is no model, or no dataset to log served rows into.
    """
    from kedro_mlops.serving.server import ServeSettings, check_port, serve  # noqa: PLC0415

    host = host or serving.host
    port = port or serving.port
    from kedro_mlops.serving.rollout import RolloutSettings  # noqa: PLC0415

    check_port(host, port)  # before the model loads: a busy port is found in a second
    model = load_model()
    rollout = serving.rollout
    challenger = load_challenger() if rollout.mode != "none" and load_challenger else None
    log_dir = (
        traffic_directory(catalog, serving.log_dataset, project_path)
        if serving.log_predictions
        else None
    )
    feedback_dir = None
    if serving.feedback_dataset and serving.feedback_dataset in catalog:
        feedback_dir = traffic_directory(
            catalog, serving.feedback_dataset, project_path, "serving.feedback_dataset"
        )
    elif serving.feedback_dataset:
        logger.info(
            "kedro-mlops: serving.feedback_dataset %r is not in the catalog: POST /feedback is off",
            serving.feedback_dataset,
        )
    settings = ServeSettings(
        model_uri=model.meta.model_uri if model.meta.source == "registry" else None,
        reload_interval_s=serving.reload_interval_s if reload_interval is None else reload_interval,
        max_body_mb=serving.max_body_mb,
        max_rows=serving.max_rows,
        batch_wait_ms=serving.batch_wait_ms,
        log_dir=str(log_dir) if log_dir else None,
        feedback_dir=str(feedback_dir) if feedback_dir else None,
        rollout=RolloutSettings(
            mode=rollout.mode,
            fraction=rollout.fraction,
            seed=rollout.seed,
            score_column=rollout.score_column,
            challenger_uri=challenger_uri,
        ),
    )
    serve(
        model,
        settings,
        challenger=challenger,
        host=host,
        port=port,
        workers=workers or serving.workers,
        echo=echo,
    )
