"""Experiment tracking: where runs go and what the logged pipeline model carries."""

from __future__ import annotations

from kedro_mlops.tracking.model import model_log_kwargs
from kedro_mlops.tracking.uri import resolve_tracking_uri

__all__ = ["model_log_kwargs", "resolve_tracking_uri"]
