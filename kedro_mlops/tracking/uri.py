"""The MLflow tracking URI of a project run."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

SQLITE_PREFIX = "sqlite:///"


def resolve_tracking_uri(configured: str, project_path: Path, environ: Mapping[str, str]) -> str:
    """``MLFLOW_TRACKING_URI`` when set, else ``configured`` anchored at the project root.

    A relative SQLite path (``sqlite:///mlflow.db``) would be relative to the current directory;
    anchoring it makes ``kedro run`` from a sub-directory record into the same store.
    """
    from_env = environ.get("MLFLOW_TRACKING_URI", "").strip()
    if from_env:
        return from_env
    if configured.startswith(SQLITE_PREFIX):
        path = Path(configured[len(SQLITE_PREFIX) :])
        if not path.is_absolute():
            return f"{SQLITE_PREFIX}{(Path(project_path) / path).resolve()}"
    return configured
