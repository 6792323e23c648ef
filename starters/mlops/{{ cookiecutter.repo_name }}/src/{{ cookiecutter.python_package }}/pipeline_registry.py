"""Project pipelines."""

from __future__ import annotations

from pathlib import Path

from kedro.framework.project import find_pipelines
from kedro.pipeline import Pipeline
from kedro_mlflow.pipeline import pipeline_ml_factory

from kedro_mlops.tracking import model_log_kwargs


def register_pipelines() -> dict[str, Pipeline]:
    """Register the project's pipelines.

    ``data_science`` and the default pipeline are bound to the ``serving`` pipeline with
    kedro-mlflow's ``pipeline_ml_factory``: the MLflow model their runs log *is* the serving
    pipeline (batch preparation + the fitted sklearn pipeline), so it scores raw batches.

    Returns:
        A mapping from pipeline names to ``Pipeline`` objects.
    """
    pipelines = find_pipelines(raise_errors=True)
    engineering = pipelines["data_engineering"]
    science = pipelines["data_science"]
    serving = pipelines["serving"]
    log_kwargs = model_log_kwargs(Path(__file__).parent)

    def bind(training: Pipeline) -> Pipeline:
        return pipeline_ml_factory(
            training=training,
            inference=serving,
            input_name="production_batch",
            log_model_kwargs=log_kwargs,
        )

    pipelines["data_science"] = bind(science)
    pipelines["__default__"] = bind(engineering + science + serving)
    return pipelines
