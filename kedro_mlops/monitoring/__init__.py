"""Drift monitoring: Evidently's tests on every scored batch, fast enough to leave on.

Nothing here imports Evidently at import time; it is imported when a check actually runs.
"""

from __future__ import annotations

from kedro_mlops.monitoring.check import CheckResult, ExtraColumn, run_check, write_outputs
from kedro_mlops.monitoring.columns import CheckInputError
from kedro_mlops.monitoring.drift import Methods
from kedro_mlops.monitoring.plan import plan_extras, plan_features

__all__ = [
    "CheckInputError",
    "CheckResult",
    "ExtraColumn",
    "Methods",
    "plan_extras",
    "plan_features",
    "run_check",
    "write_outputs",
]
