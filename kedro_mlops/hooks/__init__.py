"""The hook instances kedro-mlops registers (entry point ``kedro.hooks``).

Importing this package must stay cheap: every ``kedro`` command pays for it. Heavy libraries
(mlflow, evidently, fastapi) are imported inside the hook methods that need them.
"""

from __future__ import annotations

from kedro_mlops.hooks.tracking import TrackingHook

tracking_hook = TrackingHook()

__all__ = ["TrackingHook", "tracking_hook"]
