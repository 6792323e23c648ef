"""The hook instances kedro-mlops registers (entry point ``kedro.hooks``).

Importing this package must stay cheap: every ``kedro`` command pays for it. Heavy libraries
(mlflow, evidently, fastapi) are imported inside the hook methods that need them.
"""

from __future__ import annotations

from kedro_mlops.hooks.monitoring import MonitoringHook
from kedro_mlops.hooks.tracking import TrackingHook

tracking_hook = TrackingHook()
monitoring_hook = MonitoringHook()

__all__ = ["MonitoringHook", "TrackingHook", "monitoring_hook", "tracking_hook"]
