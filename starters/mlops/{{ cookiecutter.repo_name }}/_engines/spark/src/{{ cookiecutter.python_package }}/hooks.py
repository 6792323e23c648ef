"""The local Spark session of this project, and the check that Java is there.

``spark.SparkDatasetV2`` builds its own session: Databricks Connect when ``DATABRICKS_HOST`` and
``DATABRICKS_TOKEN`` are set, Spark Connect when ``SPARK_REMOTE`` is set, a local session
otherwise. This hook only starts the local session of a pipeline run with the settings of
``conf/<env>/spark.yml`` (a remote session keeps the cluster's), after checking that a Java
runtime can start it.
"""

from __future__ import annotations

import os
import shlex
import shutil
import sys
from pathlib import Path
from typing import Any

from kedro.framework.hooks import hook_impl

# the local JVM's log settings: Spark's warnings, without its start-up notes
LOGS = Path(__file__).with_name("log4j2.properties")
# any of these set: Spark runs elsewhere, no local Java needed
REMOTE_VARIABLES = ("SPARK_REMOTE", "DATABRICKS_HOST")
NO_JAVA = (
    "Spark runs locally and needs a Java 17 runtime, which was not found (java on PATH or "
    "JAVA_HOME): install one (Debian/Ubuntu: apt-get install openjdk-17-jre-headless; "
    "macOS: brew install openjdk@17), or set SPARK_REMOTE (Spark Connect) or DATABRICKS_HOST "
    "and DATABRICKS_TOKEN (Databricks) to run on a cluster"
)


class JavaMissingError(RuntimeError):
    """No Java runtime for a local Spark session. ``exit_code`` 2: ``kedro run`` ends with the
    message, without a traceback."""

    exit_code = 2


def remote(environ: dict[str, str] | os._Environ = os.environ) -> bool:
    """Whether the session runs on a cluster (Spark Connect, Databricks Connect)."""
    return any(environ.get(name) for name in REMOTE_VARIABLES)


def java_problem(environ: dict[str, str] | os._Environ = os.environ) -> str | None:
    """Why a local session cannot start (no Java), or None."""
    if remote(environ):
        return None
    home = environ.get("JAVA_HOME")
    java = (
        Path(home) / "bin" / "java"
        if home
        else shutil.which("java", path=environ.get("PATH"))
    )
    return None if java and Path(java).is_file() else NO_JAVA


def local_defaults(settings: dict[str, Any]) -> None:
    """Settings for whatever starts the local JVM first (a pipeline's session, or a dataset
    loaded by `kedro mlops monitor`): ``spark.yml`` as spark-submit options; Spark talks to
    itself on the loopback interface (no warning about the host name, and it works with no
    network at all); its Python workers are this Python (the project's environment, even when
    `kedro` was not started from an activated one); its JVM logs as ``log4j2.properties``
    beside this file says. Values already set are kept."""
    if LOGS.is_file():  # unless spark.yml sets the driver's Java options itself
        logs = {"spark.driver.extraJavaOptions": f"-Dlog4j2.configurationFile={LOGS}"}
        settings = {**logs, **settings}
    options = " ".join(f"--conf {shlex.quote(f'{k}={v}')}" for k, v in settings.items())
    os.environ.setdefault("PYSPARK_SUBMIT_ARGS", f"{options} pyspark-shell")
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)


def local_session(settings: dict[str, Any]) -> Any:
    """The local session with ``settings`` (``spark.yml``); any existing one is returned as is."""
    from pyspark.sql import SparkSession  # noqa: PLC0415 - Java starts here

    local_defaults(settings)
    builder = SparkSession.builder
    for key, value in settings.items():
        builder = builder.config(key, str(value))
    return builder.getOrCreate()


class SparkHooks:
    """Reads ``spark.yml`` when the context is made (a JVM started later uses it); checks Java
    and starts the local session when a pipeline runs (`kedro mlops serve` and the other
    commands start no JVM)."""

    def __init__(self) -> None:
        self.settings: dict[str, Any] = {}

    @hook_impl
    def after_context_created(self, context: Any) -> None:
        self.settings = dict(context.config_loader["spark"])
        if not remote():
            local_defaults(self.settings)

    @hook_impl
    def before_pipeline_run(self) -> None:
        problem = java_problem()
        if problem:
            raise JavaMissingError(problem)
        if not remote():
            local_session(self.settings)
