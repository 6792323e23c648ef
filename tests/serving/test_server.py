from __future__ import annotations

import logging
import socket
import time

import pytest

from kedro_mlops.serving.app import ModelHolder
from kedro_mlops.serving.server import AliasWatcher, ServeError, ServeSettings, check_port
from tests.serving.pipeline import serving_model


class Registry:
    """Where the alias points, and the loader of a version (a version may fail to load)."""

    def __init__(self) -> None:
        self.version: str | None = "1"
        self.broken: set[str] = set()
        self.loads: list[str] = []
        self.unreachable = False

    def current(self) -> str | None:
        if self.unreachable:
            raise ConnectionError("tracking server down")
        return self.version

    def load(self):
        version = str(self.version)
        self.loads.append(version)
        if version in self.broken:
            raise OSError(f"artifact of version {version} is missing")
        return serving_model(version)


@pytest.fixture
def watched(model):
    registry = Registry()
    holder = ModelHolder(model)
    results: list[str] = []
    watcher = AliasWatcher(holder, registry.current, registry.load, interval_s=3600)
    watcher.on_result = results.append
    return registry, holder, watcher, results


def test_swaps_to_a_new_version(watched):
    registry, holder, watcher, results = watched
    assert watcher.check() is False  # same version: nothing loaded
    assert registry.loads == []
    registry.version = "2"
    assert watcher.check() is True
    assert holder.model.meta.version == "2"
    assert results == ["swapped"]
    assert watcher.check() is False
    assert registry.loads == ["2"]


def test_a_swap_is_logged_at_info(watched, caplog):
    registry, _holder, watcher, _results = watched
    registry.version = "2"
    with caplog.at_level(logging.INFO, logger="kedro_mlops.serving.server"):
        assert watcher.check() is True
    logged = [record for record in caplog.records if record.name == "kedro_mlops.serving.server"]
    assert [(record.levelname, record.getMessage()) for record in logged] == [
        ("INFO", "kedro-mlops: now serving version 2 (was 1)")
    ]


def test_a_version_that_fails_to_load_keeps_the_old_model(watched, caplog):
    registry, holder, watcher, results = watched
    registry.version = "2"
    registry.broken.add("2")
    with caplog.at_level(logging.ERROR, logger="kedro_mlops.serving.server"):
        assert watcher.check() is False
    assert holder.model.meta.version == "1"
    assert results == ["failed"]
    assert [record.getMessage() for record in caplog.records] == [
        "kedro-mlops: model version 2 failed to load, still serving version 1: "
        "artifact of version 2 is missing"
    ]
    assert watcher.check() is False  # not retried at every check
    assert registry.loads == ["2"]
    registry.version = "3"  # the next version loads
    assert watcher.check() is True
    assert holder.model.meta.version == "3"
    assert results == ["failed", "swapped"]


def test_an_unreachable_registry_is_logged(watched, caplog):
    registry, holder, watcher, results = watched
    registry.unreachable = True
    assert watcher.check() is False
    assert "cannot check the model alias: tracking server down" in caplog.text
    assert (holder.model.meta.version, results) == ("1", [])


def test_the_thread_checks_every_interval(model):
    registry = Registry()
    holder = ModelHolder(model)
    watcher = AliasWatcher(holder, registry.current, registry.load, interval_s=0.05)
    watcher.start()
    try:
        registry.version = "2"
        deadline = time.monotonic() + 30
        while holder.model.meta.version != "2":
            assert time.monotonic() < deadline, "the watcher never swapped"
            time.sleep(0.02)
    finally:
        watcher.stop()


def test_a_port_in_use_is_a_clear_error():
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        with pytest.raises(ServeError) as raised:
            check_port("127.0.0.1", port)
    assert raised.value.exit_code == 2
    assert str(raised.value) == (
        f"Port {port} on 127.0.0.1 is already in use; choose another with --port "
        "(or serving.port in mlops.yml)."
    )


def test_an_address_not_of_this_host_is_a_clear_error():
    with pytest.raises(ServeError, match=r"^Port 8080 on 192\.0\.2\.1 cannot be used: "):
        check_port("192.0.2.1", 8080)


def test_settings_travel_to_worker_processes(monkeypatch):
    settings = ServeSettings(model_uri="models:/churn@champion", max_rows=5, bundle="model-bundle")
    monkeypatch.setenv("KEDRO_MLOPS_SERVE", settings.to_env())
    assert ServeSettings.from_env() == settings
