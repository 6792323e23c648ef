"""What a user reads: Kedro's normal log and one line per kedro-mlops event, answers alone on
stdout, a few lines for an error they can fix, nothing written from a batch that is refused.

Line budgets (stdout + stderr, 200 columns as set by the e2e environment), stated in the README.
"""

from __future__ import annotations

import hashlib
import json

import pytest

from tests.e2e.conftest import FIRST_RUN, copy_project

pytestmark = pytest.mark.e2e

RUN_BUDGET = 130  # a successful first `kedro run` of the starter
FAILURE_BUDGET = 25  # a `kedro run` stopped by a data-validation error


def lines(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.strip()]


def test_a_starter_run_prints_kedros_log_and_no_warnings(project, workdir):
    printed = json.loads((workdir / FIRST_RUN).read_text())
    output = printed["stdout"] + printed["stderr"]
    assert len(lines(output)) <= RUN_BUDGET, output
    for noise in ("Warning:", "warnings.py", "Downloading artifacts", "was closed", "Traceback"):
        assert noise not in output
    assert "kedro-mlops: registry gate: bar_demo v1 -> champion" in output
    assert output.count("kedro-mlops: drift check 'production_batch'") == 1


def test_a_validation_failure_is_short_and_keeps_its_traceback_in_the_log(venv, project, tmp_path):
    copy = copy_project(project, tmp_path / "county")
    params = copy / "conf" / "base" / "parameters.yml"
    params.write_text(params.read_text().replace("    - region\n", "    - county\n"))
    result = venv.run("kedro", "run", cwd=copy, offline=True)
    assert result.returncode == 2
    output = result.stdout + result.stderr
    assert len(lines(output)) <= FAILURE_BUDGET, output
    assert "Traceback" not in output
    assert output.count("was closed because of an error") == 1
    assert lines(result.stderr)[-2:] == [
        "Error: Node 'prepare_batch' failed: data/01_raw/production_batch.csv: missing column(s) "
        "['county'] configured in conf/base/parameters.yml; the file has ['customer_id', "
        "'signup_date', 'tenure_months', 'contract_type', 'internet_service', 'monthly_charges', "
        "'total_charges', 'num_support_calls', 'age', 'payment_method', 'region', "
        "'paperless_billing']",
        "The traceback is in info.log.",
    ]
    log = (copy / "info.log").read_text()
    assert "Traceback (most recent call last)" in log
    assert "DataValidationError: data/01_raw/production_batch.csv: missing column(s)" in log


def digests(project) -> dict[str, str]:
    data = project / "data"
    return {
        str(path.relative_to(data)): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(data.rglob("*"))
        if path.is_file()
    }


def test_an_empty_batch_is_refused_before_anything_is_written(venv, project, tmp_path):
    copy = copy_project(project, tmp_path / "empty", keep_outputs=True)
    batch = copy / "data" / "01_raw" / "production_batch.csv"
    batch.write_text(batch.read_text().splitlines()[0] + "\n")  # the header only
    before = digests(copy)
    for command in (["kedro", "run", "--pipelines", "serving"], ["kedro", "run"]):
        result = venv.run(*command, cwd=copy, offline=True)
        assert result.returncode == 2, result.stdout[-2000:] + result.stderr[-2000:]
        assert lines(result.stderr)[-2] == (
            "Error: Node 'prepare_batch' failed: data/01_raw/production_batch.csv: the file "
            "has no rows"
        )
        assert digests(copy) == before  # batch_features, predictions, models untouched


def test_mlops_commands_answer_on_stdout_and_log_on_stderr(venv, project):
    status = venv.ok("kedro", "mlops", "status", cwd=project, offline=True)
    answer = lines(status.stdout)
    assert answer[0] == f"Tracking URI: sqlite:///{project / 'mlflow.db'}"
    assert answer[1] == "Experiment:   bar_demo"
    assert all(" INFO " not in line and "WARNING" not in line for line in answer)
    # how the project loads (kedro-mlflow's resolver, each catalog load): only with --verbose,
    # and then on stderr
    assert " INFO " not in status.stderr
    assert "Registering new custom resolver" not in status.stderr
    verbose = venv.ok("kedro", "mlops", "-v", "status", cwd=project, offline=True)
    assert lines(verbose.stdout) == answer
    assert "Registering new custom resolver" in verbose.stderr  # kedro-mlflow's log
    models = venv.ok("kedro", "mlops", "models", cwd=project, offline=True)
    assert lines(models.stdout)[0] == "Registered model 'bar_demo' (gate: roc_auc, maximize)"


def test_a_name_without_a_package_is_refused_first_without_a_traceback(venv, workdir):
    result = venv.run("kedro", "new", "--starter=mlops", "--name", "1 churn", cwd=workdir)
    assert result.returncode == 2
    assert result.stderr == (
        "Error: Invalid project name '1 churn': it gives the Python package name '1_churn', "
        "which cannot be imported. Start with a letter; use letters, digits, spaces, '-' and "
        "'_', e.g. 'Churn Demo'.\n"
    )
    (logging_line,) = lines(result.stdout)  # Kedro's own record of its logging configuration
    assert "rich_logging.yml' as logging configuration" in logging_line
    assert not (workdir / "1-churn").exists()


def test_the_readme_says_where_kedro_mlops_is_installed_from(venv, project):
    where = venv.ok(
        "python",
        "-c",
        "from importlib import metadata; from kedro_mlops.installed import local_source; "
        "print(local_source(metadata.distribution('kedro-mlops')))",
        cwd=project,
    ).stdout.strip()
    assert where not in ("", "None")  # e2e environments install kedro-mlops from its wheel or tree
    readme = (project / "README.md").read_text()
    install = f'pip install "{where}"'
    assert f"{install}   # kedro-mlops, from where it was installed" in readme
    assert readme.index(install) < readme.index("pip install -r requirements.txt")
