"""A local Spark session for the Spark tests (pyspark from the `spark` extra, Java 17)."""

from __future__ import annotations

import shutil

import pytest

pyspark = pytest.importorskip("pyspark", reason="the `spark` extra is not installed")


@pytest.fixture(scope="session")
def spark():
    if shutil.which("java") is None:
        pytest.skip("no Java runtime (install openjdk-17-jre-headless)")
    from pyspark.sql import SparkSession  # noqa: PLC0415 - after the skip checks

    session = (
        SparkSession.builder.master("local[1]")
        .appName("kedro-mlops-tests")
        .config("spark.sql.shuffle.partitions", "2")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.log.level", "ERROR")
        .getOrCreate()
    )
    yield session
    session.stop()
