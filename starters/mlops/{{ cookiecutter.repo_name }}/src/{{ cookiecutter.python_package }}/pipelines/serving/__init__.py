"""Score a new batch with the trained model: the inference pipeline logged to MLflow."""

from .pipeline import create_pipeline

__all__ = ["create_pipeline"]
