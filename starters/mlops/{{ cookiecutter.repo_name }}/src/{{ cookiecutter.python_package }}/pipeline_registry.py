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

    ``data_science`` and the default pipeline are bound to the ``serving`` pipeline with
    kedro-mlflow's ``pipeline_ml_factory``: the MLflow model their runs log *is* the serving
    pipeline (batch preparation + the fitted sklearn pipeline), so it scores raw batches.
    The three are built explicitly because each binding needs the others, whichever
    pipeline ``kedro run --pipeline`` asks for; pipelines you add under ``pipelines/`` are
    still found (add them to ``__default__`` here if the default run should include them).

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
            inference=inference,
            input_name="production_batch",
            log_model_kwargs=log_kwargs,
        )

    pipelines = find_pipelines(raise_errors=True)
    pipelines["data_engineering"] = engineering
    pipelines["data_science"] = bind(science)
    pipelines["serving"] = inference
    pipelines["__default__"] = bind(engineering + science + inference)
    return pipelines
