"""Bad input gets a clear message naming the thing and a non-zero exit; `kedro mlops init`."""

from __future__ import annotations

import re
import textwrap

import mlflow
import pytest

from tests.e2e.conftest import copy_project

pytestmark = pytest.mark.e2e


def failing(venv, cwd, *args):
    result = venv.run(*args, cwd=cwd, offline=True)
    assert result.returncode != 0
    output = result.stdout + result.stderr
    assert "NoneType: None" not in output.splitlines()[-1]
    return output


def test_bad_project_names(venv, workdir):
    output = failing(venv, workdir, "kedro", "new", "--starter=mlops", "--name", "x!")
    assert "Invalid project name 'x!': it gives the Python package name 'x!'" in output
    output = failing(venv, workdir, "kedro", "new", "--starter=mlops", "--name", "1 churn")
    assert "Invalid project name '1 churn'" in output
    assert "'1_churn', which cannot be imported" in output
    assert not (workdir / "1-churn").exists()


def test_new_non_interactive_with_config(venv, workdir):
    (workdir / "out").mkdir()  # kedro requires output_dir to exist
    (workdir / "new.yml").write_text(f"project_name: Config Demo\noutput_dir: {workdir / 'out'}\n")
    # kedro-telemetry's consent notice (Kedro's, outside a project) is not what is tested here
    result = venv.ok("kedro", "new", "--starter=mlops", "--config", "new.yml", cwd=workdir,
                     offline=True, env={"KEDRO_DISABLE_TELEMETRY": "1"})  # fmt: skip
    assert (
        workdir / "out" / "config-demo" / "src" / "config_demo" / "pipeline_registry.py"
    ).exists()
    # kedro's log line and its message: no warning from the post-generation hook's process
    output = result.stdout + result.stderr
    assert "Warning" not in output
    log, *printed = [line.rstrip() for line in output.splitlines() if line.strip()]
    assert re.fullmatch(
        r"\[[^]]+\] INFO +Using '\S+' as logging configuration\. +__init__\.py:\d+", log
    ), log
    assert printed == [
        "Congratulations!",
        "Your project 'Config Demo' has been created in the directory",
        str(workdir / "out" / "config-demo"),
    ]


def test_missing_raw_file(venv, project, tmp_path):
    copy = copy_project(project, tmp_path / "missing")
    (copy / "data" / "01_raw" / "customers.csv").unlink()
    output = failing(venv, copy, "kedro", "run", "--pipeline", "data_engineering")
    assert "No such file or directory" in output
    assert "data/01_raw/customers.csv" in output


def test_configured_column_absent_from_the_data(venv, project, tmp_path):
    copy = copy_project(project, tmp_path / "column")
    params = copy / "conf" / "base" / "parameters.yml"
    params.write_text(params.read_text().replace("    - region\n", "    - county\n"))
    output = failing(venv, copy, "kedro", "run", "--pipeline", "data_engineering")
    assert "data/01_raw/customers.csv: missing column(s) ['county']" in output


@pytest.mark.parametrize(
    ("before", "after", "message"),
    [
        (
            "charges_per_tenure_month: [total_charges, tenure_months]",
            "charges_per_tenure_month: [total_charges, months]",
            "features.ratios.charges_per_tenure_month divides column(s) ['months'] that the "
            "data does not have; its columns are ['customer_id', 'signup_date', ",
        ),
        (
            "timestamp_parts: [month, dayofweek]",
            "timestamp_parts: [month, weekday_name]",
            "features.timestamp_parts: 'weekday_name' is not a date part (a pandas .dt "
            "attribute such as year, month, dayofweek, hour)",
        ),
    ],
)
def test_derived_features_of_unknown_columns_or_parts(
    venv, project, tmp_path, before, after, message
):
    """`features` in parameters.yml naming a column the data lacks (left over from the
    starter's data) or an unknown date part: one line, exit 2, no traceback."""
    copy = copy_project(project, tmp_path / "features")
    params = copy / "conf" / "base" / "parameters.yml"
    assert before in params.read_text()
    params.write_text(params.read_text().replace(before, after))
    result = venv.run("kedro", "run", "--pipeline", "data_engineering", cwd=copy, offline=True)
    assert result.returncode == 2, result.stdout[-3000:] + result.stderr[-3000:]
    assert "Traceback" not in result.stdout + result.stderr
    error, trace = [line for line in result.stderr.splitlines() if line.strip()][-2:]
    assert error.startswith(
        f"Error: Node 'build_features' failed: conf/base/parameters.yml: {message}"
    ), error
    assert trace == "The traceback is in info.log."


def test_single_class_target(venv, project, tmp_path):
    copy = copy_project(project, tmp_path / "single")
    raw = copy / "data" / "01_raw" / "customers.csv"
    raw.write_text(raw.read_text().replace(",yes\n", ",no\n"))
    output = failing(venv, copy, "kedro", "run", "--pipeline", "data_engineering")
    assert "target column 'churn' must hold exactly 2 classes" in output
    assert "found 1: ['no']" in output


def test_another_estimator_with_the_base_hyperparameters_is_refused(venv, project, tmp_path):
    """`--params` is merged into conf/base: the previous estimator's hyper-parameters stay."""
    copy = copy_project(project, tmp_path / "estimator")
    estimator = "sklearn.linear_model.LogisticRegression"
    result = venv.run("kedro", "run", "--params", f"model.estimator={estimator}", cwd=copy,
                      offline=True)  # fmt: skip
    output = result.stdout + result.stderr
    assert result.returncode == 2, output[-3000:]
    for noise in ("Traceback", "Warning", "BEWARE"):
        assert noise not in output
    accepted = venv.ok("python", "-c", "from sklearn.linear_model import LogisticRegression as "
                       "L; print(sorted(L().get_params(), key=str.lower))", cwd=copy)  # fmt: skip
    assert [line for line in result.stderr.splitlines() if line.strip()][-2:] == [
        "Error: Node 'train_model' failed: model.hyperparameters has ['l2_regularization', "
        f"'learning_rate', 'max_leaf_nodes'], which {estimator} does not accept; it accepts "
        f"{accepted.stdout.strip()}. To switch estimators, `kedro run --params` is not enough "
        "(it is merged into conf/base/parameters_data_science.yml: the hyper-parameters there "
        "stay); give the new estimator its whole `model` section in "
        "conf/<env>/parameters_data_science.yml and run `kedro run --env <env>` (README: Switch "
        "the estimator).",
        "The traceback is in info.log.",
    ]
    assert "ParameterError: model.hyperparameters has" in (copy / "info.log").read_text()


def test_unknown_key_in_mlops_yml(venv, project, tmp_path):
    copy = copy_project(project, tmp_path / "config")
    (copy / "conf" / "local" / "mlops.yml").write_text("tracking:\n  url: sqlite:///x.db\n")
    output = failing(venv, copy, "kedro", "run", "--pipeline", "data_engineering")
    assert "Invalid kedro-mlops configuration in conf/local/mlops.yml" in output
    assert "unknown key 'tracking.url' (expected one of: uri, on_error" in output


def test_init_makes_a_plain_kedro_project_tracked(venv, workdir):
    venv.ok(
        "kedro", "new", "--name", "plain", "--tools", "none", "--example", "no",
        cwd=workdir, offline=True,
    )  # fmt: skip
    plain = workdir / "plain"
    (plain / "conf" / "base" / "parameters.yml").write_text("factor: 3\n")
    (plain / "src" / "plain" / "pipeline_registry.py").write_text(
        textwrap.dedent("""
        from kedro.pipeline import Pipeline, node


        def triple(factor):
            return factor * 3


        def register_pipelines():
            return {"__default__": Pipeline([node(triple, "params:factor", "out")])}
        """)
    )
    result = venv.ok("kedro", "mlops", "init", cwd=plain, offline=True)
    assert "Wrote conf/base/mlops.yml" in result.stdout
    venv.ok("kedro", "run", cwd=plain, offline=True)
    client = mlflow.MlflowClient(f"sqlite:///{plain / 'mlflow.db'}")
    experiment = client.get_experiment_by_name("plain")
    (run,) = client.search_runs([experiment.experiment_id])
    assert run.info.status == "FINISHED"
    assert run.data.params["factor"] == "3"

    again = failing(venv, plain, "kedro", "mlops", "init")
    assert "already exist(s); nothing was written" in again
    assert "--force" in again


def test_mlops_help(venv, project):
    result = venv.ok("kedro", "mlops", "--help", cwd=project, offline=True)
    assert "init" in result.stdout
