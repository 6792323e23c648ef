"""kedro-mlops: a Kedro plugin and starter that turn a Kedro project into a production ML system."""

from __future__ import annotations

__version__ = "0.1.0"

__all__ = ["__version__"]
