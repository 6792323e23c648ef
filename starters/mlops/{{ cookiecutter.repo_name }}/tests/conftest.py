"""Shared fixtures: the project's own configuration and a sample of its raw data.

The tests read conf/ rather than hard-coding column names, so they keep passing when you
point the project at your own data.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from kedro.config import OmegaConfigLoader
from kedro.io import DataCatalog
from kedro_mlops.hooks.cli import configure_pytest

PROJECT_PATH = Path(__file__).resolve().parents[1]


def pytest_configure(config):
    """The stack's known warnings filtered as `kedro` commands filter them (kedro-mlops), and
    the deprecation notes libraries raise about their own code ignored: a test run shows this
    project's warnings."""
    configure_pytest(config)


@pytest.fixture(scope="session")
def config_loader() -> OmegaConfigLoader:
    return OmegaConfigLoader(
        conf_source=str(PROJECT_PATH / "conf"), base_env="base", default_run_env="local"
    )


@pytest.fixture(scope="session")
def params(config_loader) -> dict:
    return config_loader["parameters"]


@pytest.fixture(scope="session")
def catalog(config_loader) -> DataCatalog:
    conf = dict(config_loader["catalog"])
    for entry in conf.values():  # make file paths independent of the current directory
        if isinstance(entry, dict) and "filepath" in entry:
            entry["filepath"] = str(PROJECT_PATH / entry["filepath"])
    return DataCatalog.from_config(
        {name: conf[name] for name in ("raw_data", "production_batch")}
    )


@pytest.fixture(scope="session")
def raw_sample(catalog, params) -> pd.DataFrame:
    """A stratified sample of the raw training data, small enough for fast tests."""
    raw = catalog.load("raw_data")
    target = params["dataset"]["target"]
    return raw.groupby(target).head(300).reset_index(drop=True)


@pytest.fixture(scope="session")
def batch_sample(catalog) -> pd.DataFrame:
    return catalog.load("production_batch").head(200)
