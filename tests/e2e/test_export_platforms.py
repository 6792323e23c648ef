"""`kedro mlops export` to the cloud platforms, and `kedro mlops ci` for Azure Pipelines and Cloud
Build, on a fresh starter project: every file passes the platform's own validator (the export runs
statelint, azure-ai-ml and databricks-bundles as it writes; asl-validator, npm, checks the state
machines again; check-jsonschema's vendored schemas the CI files); a broken copy fails it; a
planted secret reaches no file.

asl-validator comes from `bash .ci/ci-tools.sh node` (CI runs it): without it the Step Functions
check is skipped, unless KEDRO_MLOPS_REQUIRE_CI_TOOLS=1: then it fails.
"""

from __future__ import annotations

import json
import subprocess

import pytest
import yaml

from tests.e2e.conftest import PLANTED, copy_project
from tests.e2e.test_cicd import REQUIRE_CI_TOOLS, TOOLS, output_of
from tests.e2e.test_export import printed_after_logs

pytestmark = pytest.mark.e2e

ASL_VALIDATOR = TOOLS / "node_modules" / ".bin" / "asl-validator"
VALIDATORS = {
    "stepfunctions": "statelint 3.",
    "azureml": "azure-ai-ml 1.",
    "databricks": "databricks-bundles 1.",
}
CI_SCHEMAS = {
    "azure-devops": ("azure-pipelines.yml", "vendor.azure-pipelines", "azure-pipelines"),
    "cloudbuild": ("cloudbuild.yaml", "vendor.cloudbuild", None),
}


@pytest.fixture(scope="session")
def asl_validator() -> str:
    if ASL_VALIDATOR.exists():
        return str(ASL_VALIDATOR)
    message = f"{ASL_VALIDATOR} is missing (run `bash .ci/ci-tools.sh node`)"
    if REQUIRE_CI_TOOLS:
        pytest.fail(f"KEDRO_MLOPS_REQUIRE_CI_TOOLS=1 but {message}")
    pytest.skip(message)


def planted_project(project, tmp_path):
    path = copy_project(project, tmp_path / "bar-demo")
    (path / "conf" / "local" / "credentials.yml").write_text(f"db:\n  password: {PLANTED}\n")
    return path


def test_cloud_exports_pass_their_validators(venv, project, tmp_path, asl_validator):
    path = planted_project(project, tmp_path)
    for target, validator in VALIDATORS.items():
        result = venv.ok("kedro", "mlops", "export", "--target", target, cwd=path, offline=True)
        answer = printed_after_logs(result.stdout).splitlines()
        assert answer[1].startswith(f"Validated with {validator}"), answer[:3]
        assert "experimental class" not in result.stdout + result.stderr
    out = path / "dist" / "orchestration"

    # asl-validator (the npm package) accepts both state machines; a dangling Next fails it
    machines = sorted((out / "stepfunctions").glob("*.asl.json"))
    assert [m.name for m in machines] == ["bar_demo.asl.json", "bar_demo_ct.asl.json"]
    for machine in machines:
        ran = subprocess.run([asl_validator, "--json-path", str(machine)], capture_output=True,
                             text=True, check=False)  # fmt: skip
        assert ran.returncode == 0, output_of(ran)
    broken = json.loads(machines[1].read_text())
    del broken["States"]["No drift"]
    (tmp_path / "broken.asl.json").write_text(json.dumps(broken))
    ran = subprocess.run([asl_validator, "--json-path", str(tmp_path / "broken.asl.json")],
                         capture_output=True, text=True, check=False)  # fmt: skip
    assert ran.returncode == 1, output_of(ran)

    # the bundle runs the project's own console script
    job = yaml.safe_load((out / "databricks" / "bar_demo.job.yml").read_text())
    task = job["resources"]["jobs"]["bar_demo"]["tasks"][0]["python_wheel_task"]
    assert (task["package_name"], task["entry_point"]) == ("bar_demo", "bar-demo")

    # bad input: one line, exit 2, no traceback
    bad = venv.run("kedro", "mlops", "export", "--target", "azureml", "--template", "x.j2",
                   cwd=path, offline=True)  # fmt: skip
    assert bad.returncode == 2, output_of(bad)
    last = bad.stderr.strip().splitlines()[-1]
    assert last.startswith("Error: export.template / --template applies to airflow and kubeflow")
    assert "Traceback" not in output_of(bad)

    for written in out.rglob("*"):
        assert not written.is_file() or PLANTED not in written.read_text(), written


def test_azure_pipelines_and_cloud_build_pass_their_schemas(venv, project, tmp_path):
    path = planted_project(project, tmp_path)
    secrets = {"MLFLOW_TRACKING_PASSWORD": PLANTED, "REGISTRY_PASSWORD": PLANTED}
    for provider, (name, schema, transform) in CI_SCHEMAS.items():
        added = venv.ok("kedro", "mlops", "ci", "--provider", provider, cwd=path, env=secrets)
        assert f"Wrote {name}" in added.stdout
        check = ["check-jsonschema", "--builtin-schema", schema, "--regex-variant", "nonunicode"]
        check += ["--data-transform", transform] if transform else []
        ran = venv.run(*check, name, cwd=path)
        assert ran.returncode == 0, output_of(ran)
        text = (path / name).read_text()
        assert PLANTED not in text
        # the schemas do find problems: a misspelt key fails each
        broken = tmp_path / f"broken-{name}"
        key = "  - job: ci" if provider == "azure-devops" else "    entrypoint: bash"
        assert key in text
        broken.write_text(text.replace(key, key.replace(":", "z:"), 1))
        assert venv.run(*check, str(broken), cwd=path).returncode == 1
    readme = (path / "README.md").read_text()
    assert PLANTED not in readme
