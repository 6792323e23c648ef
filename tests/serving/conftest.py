from __future__ import annotations

import math
from typing import Any

import pytest

from tests.serving.pipeline import raw_rows, serving_model


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


@pytest.fixture
def good_row() -> dict[str, Any]:
    return rows_of(1)[0]


def openapi_types(row: dict[str, Any]) -> dict[str, Any]:
    """The JSON type of each field of an OpenAPI object schema (a list for ``anyOf``)."""
    return {
        name: spec.get("type") or [option["type"] for option in spec["anyOf"]]
        for name, spec in row["properties"].items()
    }
