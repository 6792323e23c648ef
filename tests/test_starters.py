from __future__ import annotations

import json
import runpy
from pathlib import Path

import pandas as pd

from kedro_mlops.starters import project_template_dir, starter_dir, starters

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
