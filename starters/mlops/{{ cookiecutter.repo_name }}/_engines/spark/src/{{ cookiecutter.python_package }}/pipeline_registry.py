"""Project pipelines."""

from __future__ import annotations

from pathlib import Path

from kedro.framework.project import find_pipelines
from kedro.pipeline import Pipeline
from kedro_mlflow.pipeline import pipeline_ml_factory
from kedro_mlops.tracking import model_log_kwargs

from .pipelines import data_engineering, data_science, serving


def register_pipelines() -> dict[str, Pipeline]:
    """Register the project's pipelines.

    ``data_science`` and the default pipeline are bound with kedro-mlflow's
    ``pipeline_ml_factory`` to the *pandas* model pipeline (batch preparation + the fitted
    sklearn pipeline, on the rows of a request): the MLflow model their runs log scores
    pandas rows, so online serving (`kedro mlops serve`, the serve image) is the same as in a
    pandas project. The ``serving`` pipeline scores whole tables on Spark with the same
    functions (``spark_frames.scored``).

    Returns:
        A mapping from pipeline names to ``Pipeline`` objects.
    """
    engineering = data_engineering.create_pipeline()
    science = data_science.create_pipeline()
    inference = serving.create_pipeline()
    log_kwargs = model_log_kwargs(Path(__file__).parent)

    def bind(training: Pipeline) -> Pipeline:
        return pipeline_ml_factory(
            training=training,
            inference=serving.create_model_pipeline(),
            input_name=serving.MODEL_INPUT,
            log_model_kwargs=log_kwargs,
        )

    pipelines = find_pipelines(raise_errors=True)
    pipelines["data_engineering"] = engineering
    pipelines["data_science"] = bind(science)
    pipelines["serving"] = inference
    pipelines["__default__"] = bind(engineering + science + inference)
    return pipelines
