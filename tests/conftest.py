from __future__ import annotations

import os
import socket

import pytest


def free_port() -> int:
    """A loopback port nobody listens on (for servers to start, or to be found dead)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(autouse=True)
def _clean_mlflow_state(monkeypatch, tmp_path):
    """No MLflow run or MLFLOW_* variable leaks from one test into the next; MLflow's default
    ``./mlruns`` artifact root lands in the test's temporary directory, not the checkout."""
    monkeypatch.chdir(tmp_path)
    for name in list(os.environ):
        if name.startswith("MLFLOW_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("KEDRO_DISABLE_TELEMETRY", "1")
    yield
    import mlflow  # noqa: PLC0415
    from mlflow.tracking import fluent  # noqa: PLC0415

    while mlflow.active_run():
        mlflow.end_run()
    # kedro-mlflow sets a process-wide tracking URI and experiment: forget them
    mlflow.set_tracking_uri(None)
    fluent._active_experiment_id = None
