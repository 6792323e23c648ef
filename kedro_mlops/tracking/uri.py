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


def sqlite_artifact_root(uri: str) -> Path | None:
    """Where runs of a SQLite store keep their artifacts: ``mlruns/`` beside the database.

    MLflow's own default is ``./mlruns`` relative to the *current directory* of whoever creates
    the experiment first; anchoring it next to the database keeps a store self-contained (one
    folder to back up, mount into a container or delete). ``None`` for other stores.
    """
    if not uri.startswith(SQLITE_PREFIX):
        return None
    database = uri[len(SQLITE_PREFIX) :]
    if not database or database == ":memory:":
        return None
    return Path(database).parent / "mlruns"


def ensure_experiment(uri: str, name: str) -> None:
    """Create experiment ``name`` with its artifacts beside a SQLite database, if missing."""
    root = sqlite_artifact_root(uri)
    if root is None:
        return
    from mlflow.tracking import MlflowClient  # noqa: PLC0415 - heavy, only when tracking

    client = MlflowClient(tracking_uri=uri)
    if client.get_experiment_by_name(name) is None:
        client.create_experiment(name, artifact_location=root.resolve().as_uri())
