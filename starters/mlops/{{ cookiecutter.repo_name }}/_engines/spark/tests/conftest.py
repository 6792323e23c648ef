"""Shared fixtures: the project's own configuration, a local Spark session and samples of its
raw data, as pandas frames and as Spark tables.

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

from {{ cookiecutter.python_package }}.hooks import java_problem, local_session
from {{ cookiecutter.python_package }}.settings import CONFIG_LOADER_ARGS

PROJECT_PATH = Path(__file__).resolve().parents[1]


def pytest_configure(config):
    """The stack's known warnings filtered as `kedro` commands filter them (kedro-mlops), and
    the deprecation notes libraries raise about their own code ignored: a test run shows this
    project's warnings."""
    configure_pytest(config)


@pytest.fixture(scope="session")
def config_loader() -> OmegaConfigLoader:
    return OmegaConfigLoader(
        conf_source=str(PROJECT_PATH / "conf"), **CONFIG_LOADER_ARGS
    )


@pytest.fixture(scope="session")
def params(config_loader) -> dict:
    return config_loader["parameters"]


@pytest.fixture(scope="session")
def spark(config_loader):
    """The project's local session (conf/base/spark.yml) on one core."""
    problem = java_problem()
    if problem:
        pytest.fail(problem)
    settings = {**config_loader["spark"], "spark.master": "local[1]"}
    return local_session(settings)


@pytest.fixture(scope="session")
def catalog(config_loader, spark) -> DataCatalog:
    conf = dict(config_loader["catalog"])
    for entry in conf.values():  # make file paths independent of the current directory
        if isinstance(entry, dict) and "filepath" in entry:
            entry["filepath"] = str(PROJECT_PATH / entry["filepath"])
    names = ("raw_data", "production_batch", "production_rows")
    return DataCatalog.from_config({name: conf[name] for name in names})


@pytest.fixture(scope="session")
def raw_sample(config_loader, params) -> pd.DataFrame:
    """A stratified sample of the raw training data (read with pandas), small enough for
    fast tests."""
    path = PROJECT_PATH / config_loader["catalog"]["raw_data"]["filepath"]
    raw = pd.read_csv(path)
    target = params["dataset"]["target"]
    return raw.groupby(target).head(300).reset_index(drop=True)


@pytest.fixture(scope="session")
def raw_table(catalog, raw_sample, params, spark):
    """The same rows as ``raw_sample``, as Spark reads them from the raw file."""
    id_column = params["dataset"]["id_column"]
    raw = catalog.load("raw_data")
    if id_column:
        return raw.where(raw[id_column].isin(raw_sample[id_column].tolist())).cache()
    return raw.limit(len(raw_sample)).cache()


@pytest.fixture(scope="session")
def batch_sample(catalog) -> pd.DataFrame:
    return catalog.load("production_rows").head(200)


@pytest.fixture(scope="session")
def batch_table(catalog, batch_sample, params):
    id_column = params["dataset"]["id_column"]
    batch = catalog.load("production_batch")
    if id_column:
        return batch.where(
            batch[id_column].isin(batch_sample[id_column].tolist())
        ).cache()
    return batch.limit(len(batch_sample)).cache()
