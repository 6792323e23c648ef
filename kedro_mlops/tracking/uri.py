"""The MLflow tracking URI of a project run."""

from __future__ import annotations

import atexit
import logging
import shutil
import tempfile
from collections.abc import Mapping
from pathlib import Path

from kedro_mlops.errors import InputError

logger = logging.getLogger(__name__)

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


def is_http(uri: str) -> bool:
    return uri.startswith(("http://", "https://"))


def server_problem(uri: str, timeout_s: float) -> str | None:
    """Why the MLflow server at ``uri`` cannot be used, or ``None`` when it answers.

    One request to the server's ``/health`` endpoint, no retries: MLflow's own client retries
    for minutes before giving up, which is what makes a dead server hang a run.
    """
    if not is_http(uri):
        return None
    import urllib.error  # noqa: PLC0415
    import urllib.request  # noqa: PLC0415

    try:
        with urllib.request.urlopen(f"{uri.rstrip('/')}/health", timeout=timeout_s) as answer:  # noqa: S310 - the user's own server URI
            if answer.status >= 500:  # noqa: PLR2004
                return f"it answered HTTP {answer.status}"
    except urllib.error.HTTPError as exc:
        if exc.code >= 500:  # noqa: PLR2004 - 4xx: a server is there (auth, proxy); MLflow will say more
            return f"it answered HTTP {exc.code}"
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        return f"{reason} (waited at most {timeout_s:g} s)"
    return None


class TrackingUnavailableError(InputError):
    """The configured tracking server does not answer and ``tracking.on_error`` is ``fail``."""


def unreachable_server(uri: str, problem: str, on_error: str) -> str:
    """A store for a run whose server at ``uri`` does not answer: raises with ``on_error:
    fail``, else warns and gives a throwaway SQLite store (removed at exit), the run untracked.

    Raises:
        TrackingUnavailableError: naming the server, the problem and what to do.
    """
    advice = (
        "Start the server, fix MLFLOW_TRACKING_URI (or tracking.uri in mlops.yml), or set "
        "tracking.on_error: warn to run without tracking."
    )
    if on_error == "fail":
        raise TrackingUnavailableError(
            f"MLflow tracking server {uri} is unreachable: {problem}. {advice}"
        )
    logger.warning(
        "kedro-mlops: MLflow tracking server %s is unreachable: %s. This run is NOT tracked "
        "(tracking.on_error: warn).",
        uri,
        problem,
    )
    scratch = tempfile.mkdtemp(prefix="kedro-mlops-untracked-")
    atexit.register(shutil.rmtree, scratch, ignore_errors=True)
    return f"{SQLITE_PREFIX}{scratch}/mlflow.db"
