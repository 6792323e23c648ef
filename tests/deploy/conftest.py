from __future__ import annotations

import os
import shutil

import pytest

from kedro_mlops.config import parse_config
from kedro_mlops.deploy import Container, plan_deploy

IMAGES = {
    "data_engineering": "bar-demo-data_engineering:0.1",
    "data_science": "bar-demo-data_science:0.1",
    "serving": "bar-demo-serving:0.1",
    "serve": "bar-demo-serve:0.1",
}
CONTAINER = Container("/app/data", "/app/mlflow")
ROW = {"customer_id": 7, "tenure_months": 3, "contract_type": "month-to-month"}
REQUIRE_TOOLS = os.environ.get("KEDRO_MLOPS_REQUIRE_CI_TOOLS") == "1"


def make_plan(mlops: dict | None = None, **overrides):
    values = {
        "project_name": "Bar Demo",
        "package": "bar_demo",
        "images": IMAGES,
        "scoring": ["serving"],
        "training": ["data_engineering", "data_science"],
        "config": parse_config(mlops or {}),
        "container": CONTAINER,
    }
    return plan_deploy(**{**values, **overrides})


def required_tool(name: str, install: str = "") -> str:
    """The path of program ``name``; a skip without it, a failure when CI requires its tools."""
    found = shutil.which(name)
    if found is None:
        if REQUIRE_TOOLS:
            pytest.fail(f"KEDRO_MLOPS_REQUIRE_CI_TOOLS=1 but {name} is not installed")
        pytest.skip(f"{name} is not installed{f' ({install})' if install else ''}")
    return found


@pytest.fixture
def kubectl() -> str:
    """kubectl with kustomize (this machine kind has it; CI requires it)."""
    return required_tool("kubectl")
