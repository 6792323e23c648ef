"""Train the model (optionally with a hyper-parameter search) and evaluate it on the test split."""

from .pipeline import create_pipeline

__all__ = ["create_pipeline"]
