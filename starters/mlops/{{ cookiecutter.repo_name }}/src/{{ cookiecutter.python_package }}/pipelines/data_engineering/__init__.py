"""Load, validate and clean the raw data, build features, split train/test."""

from .pipeline import create_pipeline

__all__ = ["create_pipeline"]
