"""Score a new batch with the trained model: a whole table on Spark (``create_pipeline``), and
the pandas pipeline logged to MLflow as the model (``create_model_pipeline``)."""

from .pipeline import MODEL_INPUT, create_model_pipeline, create_pipeline

__all__ = ["MODEL_INPUT", "create_model_pipeline", "create_pipeline"]
