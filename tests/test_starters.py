from __future__ import annotations

import json
import os
import re
import runpy
import subprocess
import sys
from pathlib import Path

import pandas as pd

from kedro_mlops.starters import project_template_dir, starter_dir, starters
from tests.conftest import CI_FILES

DATA = project_template_dir() / "data" / "01_raw"


def test_the_mlops_starter_is_registered():
    (spec,) = starters
    assert spec.alias == "mlops"
    assert Path(spec.template_path) == starter_dir()
    keys = json.loads((starter_dir() / "cookiecutter.json").read_text())
    assert {"project_name", "repo_name", "python_package", "kedro_version"} <= set(keys)


def test_default_data_is_small_realistic_and_shifted():
    customers = pd.read_csv(DATA / "customers.csv")
    batch = pd.read_csv(DATA / "production_batch.csv")
    size = sum(path.stat().st_size for path in DATA.iterdir())
    assert size <= 5 * 1024 * 1024
    assert len(customers) >= 10_000
    assert customers.isna().any().any()
    assert set(customers["churn"]) == {"yes", "no"}
    assert "churn" not in batch.columns
    # the documented shifts exist; an unshifted column stays put
    assert batch["monthly_charges"].mean() > 1.1 * customers["monthly_charges"].mean()
    assert batch["num_support_calls"].mean() > 1.5 * customers["num_support_calls"].mean()
    assert abs(batch["tenure_months"].mean() - customers["tenure_months"].mean()) < 1.5


def test_default_data_is_reproducible_from_the_seeded_script(tmp_path):
    generator = runpy.run_path(str(starter_dir() / "generate_data.py"))
    generator["main"](tmp_path)
    for name in ("customers.csv", "production_batch.csv"):
        assert (tmp_path / name).read_bytes() == (DATA / name).read_bytes()


def test_kedro_new_prints_kedros_log_line_and_nothing_else(tmp_path):
    """cookiecutter runs the post-generation hook (which reads the new project's configuration
    with kedro's config loader) in a Python of its own: the known warnings of the pinned stack
    are filtered there too."""
    environ = {k: v for k, v in os.environ.items() if not k.startswith("KEDRO_")}
    environ.update(COLUMNS="200", KEDRO_DISABLE_TELEMETRY="1")  # no wrapping, no telemetry
    result = subprocess.run(
        [sys.executable, "-m", "kedro", "new", "--starter=mlops", "--name", "churn"],
        cwd=tmp_path,
        env=environ,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stderr == ""
    log, *printed = [line.rstrip() for line in result.stdout.splitlines() if line.strip()]
    # kedro's own log line, printed by every kedro command
    kedro_log = r"\[[^]]+\] INFO +Using '\S+' as logging configuration\. +__init__\.py:\d+"
    assert re.fullmatch(kedro_log, log), log
    assert printed == [
        "Congratulations!",
        "Your project 'churn' has been created in the directory",
        str(tmp_path / "churn"),
    ]
    assert (tmp_path / "churn" / "src" / "churn" / "pipeline_registry.py").is_file()
    # engine: pandas (the default): no Spark file, and no trace of the other engines' files
    assert not (tmp_path / "churn" / "_engines").exists()
    assert not (tmp_path / "churn" / "conf" / "base" / "spark.yml").exists()
    assert not list((tmp_path / "churn").rglob("__pycache__"))


def test_a_spark_project_is_made_before_pyspark_is_installed(tmp_path):
    """The documented order: `kedro new` with `engine: spark`, then `pip install -r
    requirements.txt` (pyspark). The CI files are rendered from the pandas pipelines before the
    Spark files replace them (tests/e2e/test_spark.py checks they are the Spark project's)."""
    blocker = tmp_path / "no-pyspark" / "pyspark"
    blocker.mkdir(parents=True)
    (blocker / "__init__.py").write_text(
        "raise ModuleNotFoundError(\"No module named 'pyspark'\", name='pyspark')\n"
    )
    environ = {k: v for k, v in os.environ.items() if not k.startswith("KEDRO_")}
    environ.update(KEDRO_DISABLE_TELEMETRY="1", PYTHONPATH=str(blocker.parent))
    (tmp_path / "new.yml").write_text("project_name: Churn\nengine: spark\n")
    result = subprocess.run(
        [sys.executable, "-m", "kedro", "new", "--starter=mlops", "--config", "new.yml"],
        cwd=tmp_path, env=environ, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    made = tmp_path / "churn"
    assert (made / "conf" / "base" / "spark.yml").is_file()
    assert "from pyspark" in (made / "src" / "churn" / "spark_frames.py").read_text()
    assert all((made / name).is_file() for name in ("Makefile", *CI_FILES))
    assert "## CI > CT > CD" in (made / "README.md").read_text()
