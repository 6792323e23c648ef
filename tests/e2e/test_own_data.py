"""Another binary-classification CSV runs through all three pipelines by editing conf/ and data/."""

from __future__ import annotations

import json

import mlflow
import numpy as np
import pandas as pd
import pytest
import yaml

from tests.e2e.conftest import copy_project

pytestmark = pytest.mark.e2e


def loans(n: int, seed: int, labelled: bool) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    income = rng.lognormal(10.5, 0.5, n).round(0)
    debt_ratio = rng.beta(2, 5, n).round(3)
    employment = rng.choice(["salaried", "self-employed", "unemployed"], n, p=[0.7, 0.2, 0.1])
    frame = pd.DataFrame(
        {
            "applicant_id": np.arange(n) + 1,
            "income": income,
            "debt_ratio": debt_ratio,
            "employment": employment,
            "home": rng.choice(["own", "rent", "mortgage"], n),
        }
    )
    frame.loc[rng.random(n) < 0.03, "income"] = np.nan
    if labelled:
        logit = -2 + 4 * debt_ratio - 0.00002 * income + 1.2 * (employment == "unemployed")
        frame["defaulted"] = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int)
    return frame


def edit_yaml(path, change):
    data = yaml.safe_load(path.read_text())
    change(data)
    path.write_text(yaml.safe_dump(data, sort_keys=False))


def test_a_loans_csv_needs_only_conf_and_data(venv, project, tmp_path):
    copy = copy_project(project, tmp_path / "loans")
    raw = copy / "data" / "01_raw"
    for old in raw.iterdir():
        old.unlink()
    loans(3000, 1, labelled=True).to_csv(raw / "loans.csv", index=False)
    loans(500, 2, labelled=False).to_csv(raw / "new_loans.csv", index=False)

    conf = copy / "conf" / "base"
    (conf / "globals.yml").write_text(
        "raw_data: data/01_raw/loans.csv\nproduction_batch: data/01_raw/new_loans.csv\n"
    )

    def describe(params):
        params["dataset"] = {
            "id_column": "applicant_id",
            "timestamp_column": None,
            "target": "defaulted",
            "positive_class": 1,
            "numeric_features": ["income", "debt_ratio"],
            "categorical_features": ["employment", "home"],
        }
        params["features"] = {"timestamp_parts": [], "ratios": {}}

    edit_yaml(conf / "parameters.yml", describe)
    edit_yaml(
        conf / "parameters_data_engineering.yml",
        lambda p: p["validation"].update(ranges={"debt_ratio": [0, 1]}),
    )
    # mlops.yml stays as the starter ships it: the checks follow the parameters

    for pipeline in ("data_engineering", "data_science", "serving"):
        venv.ok("kedro", "run", "--pipeline", pipeline, cwd=copy, offline=True)
    venv.ok("kedro", "run", cwd=copy, offline=True)

    predictions = pd.read_csv(copy / "data" / "07_model_output" / "predictions.csv")
    assert list(predictions.columns[:3]) == ["applicant_id", "prediction", "probability"]
    assert len(predictions) == 500
    assert set(predictions["prediction"]) <= {0, 1}
    drift_dir = sorted((copy / "data" / "08_reporting" / "drift" / "production_batch").iterdir())[
        -1
    ]
    summary = json.loads((drift_dir / "summary.json").read_text())
    assert {c["column"] for c in summary["columns"]} == {
        "income",
        "debt_ratio",
        "employment",
        "home",
        "prediction",
        "probability",
    }
    # the project's own tests read conf/: they pass on the new data too
    tests = venv.run("pytest", "-q", "-p", "no:cacheprovider", cwd=copy, offline=True)
    assert tests.returncode == 0, tests.stdout[-3000:]


def credit(n: int, seed: int) -> pd.DataFrame:
    """An imbalanced problem without an ID column: about 12 % defaults."""
    rng = np.random.default_rng(seed)
    limit = rng.lognormal(9.5, 0.6, n).round(0)
    utilisation = rng.beta(2, 3, n).round(3)
    late = rng.poisson(0.4, n)
    household = rng.integers(0, 4, n)  # 0 members: a ratio's denominator is 0 there
    logit = -3.2 + 2.5 * utilisation + 0.9 * late - 0.00002 * limit
    return pd.DataFrame(
        {
            "credit_limit": limit,
            "utilisation": utilisation,
            "late_payments": late,
            "household": household,
            "education": rng.choice(["school", "university", "other"], n, p=[0.4, 0.5, 0.1]),
            "default": (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int),
        }
    )


def test_no_id_column_and_a_random_split_of_the_same_data(venv, project, tmp_path):
    """Rows without IDs are identified by position; a batch from the same data is stable, the
    predictions too (compared with the model's own test-split predictions, not with labels)."""
    copy = copy_project(project, tmp_path / "credit")
    raw = copy / "data" / "01_raw"
    for old in raw.iterdir():
        old.unlink()
    data = credit(8000, 3).sample(frac=1, random_state=4).reset_index(drop=True)
    assert 0.08 < data["default"].mean() < 0.16
    data.iloc[:6000].to_csv(raw / "credit.csv", index=False)
    data.iloc[6000:].drop(columns="default").to_csv(raw / "applications.csv", index=False)
    conf = copy / "conf" / "base"
    (conf / "globals.yml").write_text(
        "raw_data: data/01_raw/credit.csv\nproduction_batch: data/01_raw/applications.csv\n"
    )

    def describe(params):
        params["dataset"] = {
            "id_column": None,
            "timestamp_column": None,
            "target": "default",
            "positive_class": 1,
            "numeric_features": ["credit_limit", "utilisation", "late_payments", "household"],
            "categorical_features": ["education"],
        }
        params["features"] = {
            "timestamp_parts": [],
            "ratios": {"limit_per_member": ["credit_limit", "household"]},
        }

    edit_yaml(conf / "parameters.yml", describe)
    edit_yaml(
        conf / "parameters_data_engineering.yml",
        lambda p: p["validation"].update(ranges={"utilisation": [0, 1]}),
    )
    result = venv.ok("kedro", "run", cwd=copy, offline=True)
    output = " ".join((result.stdout + result.stderr).split())
    assert "'limit_per_member': household is 0 in" in output  # the ratio's zeros are counted

    predictions = pd.read_csv(copy / "data" / "07_model_output" / "predictions.csv")
    assert list(predictions.columns[:3]) == ["row", "prediction", "probability"]
    assert list(predictions["row"]) == list(range(2000))
    drift_dir = sorted((copy / "data" / "08_reporting" / "drift" / "production_batch").iterdir())[
        -1
    ]
    summary = json.loads((drift_dir / "summary.json").read_text())
    verdicts = {c["column"]: (c["role"], c["drifted"]) for c in summary["columns"]}
    assert verdicts["prediction"] == ("prediction", False)
    assert verdicts["probability"] == ("prediction", False)
    assert summary["status"] == "no_drift"
    assert "no drift (0/5 columns drifted" in output
    assert "prediction stable" in output
    tests = venv.run("pytest", "-q", "-p", "no:cacheprovider", cwd=copy, offline=True)
    assert tests.returncode == 0, tests.stdout[-3000:]


def test_a_grid_search_records_what_it_chose(venv, project, tmp_path):
    copy = copy_project(project, tmp_path / "search", keep_outputs=True)

    def search(params):
        params["model"]["hyperparameters"].update(learning_rate=0.01, max_iter=60)
        params["model"]["search"].update(
            enabled=True, cv=2, param_grid={"learning_rate": [0.01, 0.3], "max_leaf_nodes": [7]}
        )

    edit_yaml(copy / "conf" / "base" / "parameters_data_science.yml", search)
    venv.ok("kedro", "run", "--pipelines", "data_science", cwd=copy, offline=True)

    client = mlflow.MlflowClient(f"sqlite:///{copy / 'mlflow.db'}")
    (run,) = client.search_runs([client.get_experiment_by_name("bar_demo").experiment_id])
    table = pd.read_csv(copy / "data" / "08_reporting" / "search_results.csv")
    assert list(table.columns) == [
        "learning_rate", "max_leaf_nodes", "mean_test_score", "std_test_score", "rank_test_score"
    ]  # fmt: skip
    assert sorted(table["learning_rate"]) == [0.01, 0.3]
    best = table.iloc[0]
    assert best["rank_test_score"] == 1
    # the chosen values, not the starting ones, and the score they won with
    assert run.data.params["best.learning_rate"] == str(best["learning_rate"])
    assert run.data.params["best.max_leaf_nodes"] == "7"
    assert run.data.metrics["search_best_roc_auc"] == pytest.approx(best["mean_test_score"])
    logged = {item.path for item in client.list_artifacts(run.info.run_id, "search")}
    assert logged == {"search/search_results.csv"}
    # the saved model is fitted with the chosen values
    fitted = venv.ok(
        "python", "-c",
        "import pickle, sys; sys.path.insert(0, 'src');"
        "m = pickle.load(open('data/06_models/model.pkl', 'rb'));"
        "print(m.get_params()['classifier__learning_rate'])",
        cwd=copy, offline=True,
    )  # fmt: skip
    assert float(fitted.stdout.strip().splitlines()[-1]) == best["learning_rate"]
