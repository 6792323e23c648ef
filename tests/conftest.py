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


# `make test` runs the suite on two workers (pytest-xdist, --dist loadgroup). A module runs whole
# on one worker (its module-scoped fixtures are made once); the end-to-end modules that build,
# push or run container images run on the same worker, one after the other: they share the
# session's images (`packaged`, the dependency image) and podman's store.
CONTAINER_MODULES = frozenset(
    f"tests/e2e/test_{name}.py" for name in ("cicd", "deploy", "export", "package")
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark each test with its group, the container group first: the longest, it starts on one
    worker while the other takes the rest module by module (`--no-loadscope-reorder`)."""
    for item in items:
        module = item.nodeid.split("::", 1)[0]
        group = "containers" if module in CONTAINER_MODULES else module
        item.add_marker(pytest.mark.xdist_group(group))
    items.sort(key=lambda item: item.nodeid.split("::", 1)[0] not in CONTAINER_MODULES)
