from __future__ import annotations

import os
import socket

import pytest

# the pipelines a project from the starter gets by default (`ci: both`), beside its Makefile
CI_FILES = (".github/workflows/mlops.yml", ".gitlab-ci.yml", ".gitlab/cd.yml")


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


def pytest_configure(config: pytest.Config) -> None:
    """The stack's warnings kedro-mlops filters for its users (``kedro.init``), filtered in the
    test process too, as in a generated project's tests: pytest keeps these filters under its
    own for every test."""
    from kedro_mlops.hooks.cli import configure_pytest  # noqa: PLC0415

    configure_pytest(config)


# `make test` runs the suite on two workers (pytest-xdist). A module runs whole on one worker (its
# module-scoped fixtures are made once); the end-to-end modules that build, push or run container
# images run on the same worker, one after the other: they share the session's images
# (`packaged`, the dependency image) and podman's store. They come first: the longest group
# starts at once (building the end-to-end virtualenv) while the other worker takes the unit
# tests, which need no virtualenv, then the other end-to-end modules, module by module.
CONTAINER_MODULES = frozenset(
    f"tests/e2e/test_{name}.py" for name in ("cicd", "deploy", "export", "package")
)


def run_group(nodeid: str) -> str:
    """The group a test runs in: "containers", or its module."""
    module = nodeid.split("::", 1)[0]
    return "containers" if module in CONTAINER_MODULES else module


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    def order(item: pytest.Item) -> int:
        if run_group(item.nodeid) == "containers":
            return 0
        return 2 if item.nodeid.startswith("tests/e2e/") else 1

    items.sort(key=order)


@pytest.hookimpl(optionalhook=True)  # also runs without pytest-xdist (-p no:xdist)
def pytest_xdist_make_scheduler(config: pytest.Config, log: object) -> object:
    """xdist's scope scheduling with ``run_group`` as the scope (its ``xdist_group`` marks do
    not reach the node ids under pytest 9.2)."""
    from xdist.scheduler import LoadScopeScheduling  # noqa: PLC0415

    class ByGroup(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return run_group(nodeid)

    return ByGroup(config, log)
