from __future__ import annotations

import json
import math
import threading
import time
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import pytest

from tests.conftest import free_port
from tests.serving.pipeline import raw_rows, serving_model

if TYPE_CHECKING:
    from collections.abc import Iterator

    from fastapi import FastAPI


@pytest.fixture(scope="session")
def model():
    """The tiny real inference pipeline with a fitted model, as registry version 1."""
    return serving_model("1")


def rows_of(n: int, seed: int = 0) -> list[dict[str, Any]]:
    """Raw rows as a client sends them (JSON values: ``None`` for missing)."""
    return [
        {
            key: None if isinstance(value, float) and math.isnan(value) else value
            for key, value in row.items()
        }
        for row in raw_rows(n, seed).to_dict(orient="records")
    ]


def assert_serves(client, model) -> None:
    """A good request to ``client`` (a TestClient of the app serving ``model``, version 1) is
    answered, with the model's own prediction."""
    good = rows_of(1)[0]
    response = client.post("/predict", json=good)
    assert response.status_code == 200, response.text
    expected = model.score(model.frame([good]))
    assert response.json() == {
        "model": {"name": "churn", "version": "1", "run_id": "run1"},
        "predictions": [
            {
                "customer_id": good["customer_id"],
                "prediction": expected["prediction"][0],
                "probability": pytest.approx(expected["probability"][0], abs=1e-15),
            }
        ],
    }


MB = 1024 * 1024
JSON = "application/json"


@pytest.fixture(scope="module")
def client(model):
    """The app in process (FastAPI's TestClient), 3 MB and 50 rows at most a request."""
    import warnings  # noqa: PLC0415

    from kedro_mlops.serving.app import Limits, ModelHolder, create_app  # noqa: PLC0415

    with warnings.catch_warnings():  # starlette's notice about httpx2, not ours to act on
        warnings.simplefilter("ignore")
        from fastapi.testclient import TestClient  # noqa: PLC0415

    limits = Limits(max_body_bytes=3 * MB, max_rows=50)
    with TestClient(create_app(ModelHolder(model), limits)) as test_client:
        yield test_client


def body(value: object) -> bytes:
    return json.dumps(value).encode()


@pytest.fixture
def good_row() -> dict[str, Any]:
    return rows_of(1)[0]


def openapi_types(row: dict[str, Any]) -> dict[str, Any]:
    """The JSON type of each field of an OpenAPI object schema (a list for ``anyOf``)."""
    return {
        name: spec.get("type") or [option["type"] for option in spec["anyOf"]]
        for name, spec in row["properties"].items()
    }


@contextmanager
def served(app: FastAPI) -> Iterator[str]:
    """``app`` behind a real uvicorn server on a free loopback port (in a thread of this
    process, so that its log records reach ``caplog``); yields its URL."""
    import uvicorn  # noqa: PLC0415

    config = uvicorn.Config(
        app, host="127.0.0.1", port=free_port(), log_config=None, access_log=False
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="test-server", daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 60
        while not server.started:
            assert thread.is_alive(), "the server stopped while starting"
            assert time.monotonic() < deadline, "the server did not start within 60 s"
            time.sleep(0.01)
        yield f"http://127.0.0.1:{config.port}"
    finally:
        server.should_exit = True
        thread.join(30)
