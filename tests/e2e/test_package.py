"""`kedro mlops package`: a build context without any container engine, and real podman images
built from a fresh project and run in order (data_engineering -> data_science -> serving).

The podman test needs a usable podman and the base image (CI: `source .ci/podman.sh`).
Without them it is skipped, unless KEDRO_MLOPS_REQUIRE_CONTAINERS=1: then
it fails, so CI cannot pass by skipping it. The images are built once per session by the
`packaged` fixture (tests/e2e/conftest.py), shared with tests/e2e/test_export.py.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import time
import urllib.request
from pathlib import Path

import mlflow
import pandas as pd
import pytest

from tests.conftest import free_port
from tests.e2e.conftest import BASE_IMAGE, PIPELINES, PLANTED, copy_project
from tests.e2e.conftest import podman_run as _podman

pytestmark = pytest.mark.e2e

UID = 10001


def output_of(result: subprocess.CompletedProcess[str]) -> str:
    return result.stdout + result.stderr


def test_package_without_a_container_engine(venv, project, tmp_path):
    """No docker, podman or buildah on PATH: the context is written and says how to build it."""
    path = copy_project(project, tmp_path / "bar-demo")
    (path / "conf" / "base" / "credentials.yml").write_text("db:\n  password: x\n")
    no_engines = {"PATH": str(venv.bin)}  # the venv only: no docker, podman or buildah
    result = venv.run("kedro", "mlops", "package", cwd=path, env=no_engines)
    out = output_of(result)
    assert result.returncode == 0, out[-4000:]
    assert "Build context written: dist/mlops/" in out
    assert (
        "left out conf/base/credentials.yml: credentials and secrets never go into an image" in out
    )
    assert re.search(r"docker build --target deps --tag bar-demo-deps:[0-9a-f]{12} dist/mlops", out)
    for pipeline in PIPELINES:
        assert f"bar-demo-{pipeline}:0.1" in out
    # no model in this copy yet: the serving image (packaging.pipelines) is left out, saying why
    assert "left out the 'serve' image: no model to put inside yet (cannot load 'model'" in out
    assert "bar-demo-serve" not in out
    context = path / "dist" / "mlops"
    assert (context / "project" / "bar_demo-0.1-py3-none-any.whl").is_file()
    assert (context / "conf" / "base" / "catalog.yml").is_file()
    assert not (context / "conf" / "base" / "credentials.yml").exists()
    assert not (context / "conf" / "local").exists()
    requirements = (context / "requirements.txt").read_text()
    assert "kedro==1.7.0\n" in requirements
    assert "kedro-mlops==0.1.0" in requirements
    assert list((context / "wheels").glob("kedro_mlops-0.1.0-*.whl"))  # not on an index
    assert "docker run --rm" in (context / "README.md").read_text()

    result = venv.run("kedro", "mlops", "package", "--build", cwd=path, env=no_engines)
    out = output_of(result)
    assert result.returncode == 2, out[-4000:]  # nothing to build with: a usage error
    assert "No container builder found" in out
    assert "Install one of: Docker" in out
    assert "The build context is written: dist/mlops/" in out
    assert (context / "Dockerfile").is_file()


def _run_image(image: str, data: Path, store: Path) -> subprocess.CompletedProcess[str]:
    return _podman(
        "run", "--rm", "--network", "none",
        "-v", f"{data}:/app/data", "-v", f"{store}:/app/mlflow", image,
    )  # fmt: skip


def _forbidden_in(listing: list[str]) -> list[str]:
    """Paths of an image's file system that must not be there.

    Third-party packages (``/opt/venv/lib``, pinned in requirements.txt) and the base image
    (``/usr``) ship their own templates (``kedro/templates/.../conf/local``): they are not the
    project's and are left out of the check.
    """
    names = {".env", "mlflow.db", ".git", ".venv", "notebooks", "mlruns", "credentials.yml"}
    bad = []
    for path in listing:
        if path.startswith(("/opt/venv/lib/", "/usr/", "/proc", "/sys", "/dev")):
            continue
        name = path.rsplit("/", 1)[-1]
        if (
            "/conf/local" in path
            or name in names
            or name.endswith((".ipynb", ".whl"))
            or re.search(r"credential|secret", name, re.IGNORECASE)
            or path.startswith(("/app/data", "/root/.cache"))
        ):
            bad.append(path)
    return bad


def test_images_built_and_run_with_podman(venv, packaged, tmp_path):  # noqa: PLR0915
    path, sha, tag, out = packaged.path, packaged.sha, packaged.tag, packaged.output
    images = dict(packaged.images)
    package = packaged.command
    deps_images = set(packaged.deps_images)
    extra_images: list[str] = []  # built here: removed here (the fixture removes its own)
    try:
        assert f"Built with podman: {', '.join(images.values())}" in out
        context = path / "dist" / "mlops"
        lint = venv.run("hadolint", str(context / "Dockerfile"), cwd=path)
        assert lint.returncode == 0, output_of(lint)

        # metadata: non-root user, labels, each image's own command
        for pipeline, image in images.items():
            (meta,) = json.loads(_podman("image", "inspect", image).stdout)
            config = meta["Config"]
            assert config["User"] == f"{UID}:{UID}"
            assert config["Entrypoint"] == ["python", "-m", "bar_demo", "--pipelines", pipeline]
            labels = config["Labels"]
            assert labels["org.opencontainers.image.revision"] == sha
            assert labels["org.opencontainers.image.version"] == "0.1"
            assert labels["org.kedro.pipeline"] == pipeline
            assert config.get("WorkingDir") == "/app"
        whoami = _podman(
            "run", "--rm", "--entrypoint", "sh", images["serving"], "-c", "id -u; id -g"
        )
        assert whoami.returncode == 0, whoami.stderr
        assert whoami.stdout.split() == [str(UID), str(UID)]

        # nothing forbidden inside (the build stage, wheels and caches stay out too)
        as_root = ("run", "--rm", "--user", "0", "--network", "none", "--entrypoint")
        listing = _podman(*as_root, "find", images["data_science"], "/", "-xdev").stdout
        paths = listing.splitlines()
        assert "/app/conf/base/catalog.yml" in paths
        assert "/opt/project/bar_demo/pipelines/data_science/nodes.py" in paths
        assert _forbidden_in(paths) == []
        # slim by default: no bytecode in the venv, pruned test suites and UI assets
        venv_files = [p for p in paths if p.startswith("/opt/venv/lib/")]
        assert any(p.endswith("/site-packages/pandas/__init__.py") for p in venv_files)
        assert [p for p in venv_files if p.endswith(".pyc")] == []
        for pruned in ("/pandas/tests", "/scipy/stats/tests", "/mlflow/server/js", ".ipynb"):
            assert not [p for p in venv_files if p.endswith(pruned)], pruned
        assert any(p.endswith("/site-packages/evidently/tests/__init__.py") for p in venv_files)
        imports = "import evidently.tests, mlflow.server, pyarrow.parquet, sklearn.ensemble, "
        imports += "statsmodels.api, scipy.stats, matplotlib.pyplot, plotly.graph_objects"
        smoke = _podman("run", "--rm", "--entrypoint", "python", images["serving"], "-c", imports)
        assert smoke.returncode == 0, output_of(smoke)
        no_dirs = [f"--exclude-dir={name}" for name in ("proc", "sys", "dev")]
        grep = _podman(*as_root, "grep", images["data_science"], "-rlI", *no_dirs, PLANTED, "/")
        assert grep.returncode == 1, f"planted content found in the image: {grep.stdout}"

        # run them in order, data and an SQLite MLflow store mounted from the host
        data, store = tmp_path / "run" / "data", tmp_path / "run" / "store"
        shutil.copytree(path / "data" / "01_raw", data / "01_raw")
        store.mkdir()
        for folder in (data, data / "01_raw", store):
            folder.chmod(0o777)  # the containers write as uid 10001

        ran = _run_image(images["data_engineering"], data, store)
        assert ran.returncode == 0, output_of(ran)[-4000:]
        assert (data / "05_model_input" / "train_set.parquet").is_file()
        assert not (data / "06_models").exists()  # it ran data_engineering only

        ran = _run_image(images["data_science"], data, store)
        assert ran.returncode == 0, output_of(ran)[-4000:]
        assert (data / "06_models" / "model.pkl").is_file()
        assert not (data / "07_model_output" / "predictions.csv").exists()  # no scoring yet
        assert list(store.rglob("MLmodel")), "the model is logged into the mounted store"

        ran = _run_image(images["serving"], data, store)
        assert ran.returncode == 0, output_of(ran)[-4000:]
        predictions = pd.read_csv(data / "07_model_output" / "predictions.csv")
        batch = pd.read_csv(data / "01_raw" / "production_batch.csv")
        assert len(predictions) == len(batch)
        assert set(predictions["prediction"]) <= {"yes", "no"}
        assert predictions["probability"].between(0, 1).all()
        if os.geteuid() == 0:  # rootful podman: container uids are host uids
            assert (data / "07_model_output" / "predictions.csv").stat().st_uid == UID

        client = mlflow.MlflowClient(f"sqlite:///{store / 'mlflow.db'}")
        experiment = client.get_experiment_by_name("bar_demo")
        runs = client.search_runs([experiment.experiment_id])
        assert sorted(run.data.tags["mlops.pipeline"] for run in runs) == sorted(PIPELINES)
        assert all(run.info.status == "FINISHED" for run in runs)
        # no .git in the images: the commit comes from the image's environment
        assert {run.data.tags.get("mlops.git.sha") for run in runs} == {sha}
        assert {run.data.tags.get("mlops.git.dirty") for run in runs} == {"false"}
        (science,) = [run for run in runs if run.data.tags["mlops.pipeline"] == "data_science"]
        models = client.search_logged_models(
            experiment_ids=[experiment.experiment_id],
            filter_string=f"source_run_id = '{science.info.run_id}'",
        )
        assert [model.name for model in models] == ["model"]
        (version,) = client.search_model_versions("name = 'bar_demo'")
        assert version.run_id == science.info.run_id
        assert client.get_model_version_by_alias("bar_demo", "champion").version == version.version

        # a one-line change in a node: the dependency image is reused, the images are rebuilt
        nodes = path / "src" / "bar_demo" / "pipelines" / "serving" / "nodes.py"
        nodes.write_text(nodes.read_text() + "\nSERVED_BY = 'container'\n")
        before = _podman("image", "inspect", "--format", "{{.Id}}", images["serving"]).stdout
        again = venv.run(*package, cwd=path, timeout=900)
        out = output_of(again)
        assert again.returncode == 0, out[-4000:]
        assert "is up to date, not rebuilt" in out
        after = _podman("image", "inspect", "--format", "{{.Id}}", images["serving"]).stdout
        assert after != before
        check = _podman(
            "run", "--rm", "--entrypoint", "python", images["serving"], "-c",
            "from bar_demo.pipelines.serving import nodes; print(nodes.SERVED_BY)",
        )  # fmt: skip
        assert check.stdout.strip() == "container", output_of(check)

        # buildah builds from the same context (sharing podman's store here), with --bytecode:
        # another dependency image, .pyc compiled in
        buildah_tag = f"{tag}-buildah"
        with_buildah = [*package[:5], "buildah", *package[6:-1], buildah_tag, "--bytecode"]
        built = venv.run(*with_buildah, cwd=path, timeout=900)
        out = output_of(built)
        with_pyc = set(re.findall(r"bar-demo-deps:[0-9a-f]{12}", out))
        assert built.returncode == 0, out[-4000:]
        deps_images |= with_pyc
        assert "Built with buildah: " in out
        assert len(with_pyc) == 1 and len(deps_images) == 2, (
            "--bytecode: a dependency image of its own"
        )
        by_buildah = {pipeline: f"bar-demo-{pipeline}:{buildah_tag}" for pipeline in PIPELINES}
        extra_images += by_buildah.values()
        ran = _run_image(by_buildah["data_engineering"], data, store)
        assert ran.returncode == 0, output_of(ran)[-4000:]
        for folder, at_least in (("/opt/venv/lib", 1000), ("/opt/project", 5)):
            count = _podman(
                "run", "--rm", "--entrypoint", "sh", by_buildah["data_engineering"], "-c",
                f"find {folder} -name '*.pyc' | wc -l",
            )  # fmt: skip
            assert int(count.stdout.strip()) >= at_least, (folder, output_of(count))
        (meta,) = json.loads(_podman("image", "inspect", by_buildah["serving"]).stdout)
        assert meta["Config"]["User"] == f"{UID}:{UID}"
        assert meta["Config"]["Entrypoint"][-1] == "serving"
    finally:
        _podman("rmi", "--force", *extra_images, *sorted(deps_images - packaged.deps_images))


def test_builder_failure_shows_its_error(venv, project, tmp_path, podman):
    path = copy_project(project, tmp_path / "bar-demo")
    missing = "localhost/kedro-mlops-e2e-no-such-base:1"
    result = venv.run(
        "kedro", "mlops", "package", "--build", "--builder", "podman",
        "--base-image", missing, "--tag", f"e2e-fail-{os.getpid()}", cwd=path,
    )  # fmt: skip
    out = output_of(result)
    assert result.returncode == 1, out[-4000:]
    assert "Error: podman failed to build the dependency image bar-demo-deps:" in out
    assert "Last lines of its output:" in out
    assert missing in out.split("Last lines of its output:")[1]  # the builder's own words
    assert (path / "dist" / "mlops" / "Dockerfile").is_file()


def _wait_ready(url: str, process_alive: callable, timeout: float = 60) -> float:
    """Seconds until ``url`` answers 200."""
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        try:
            with urllib.request.urlopen(url, timeout=2) as answer:  # noqa: S310 - loopback
                if answer.status == 200:
                    return time.monotonic() - started
        except OSError:
            pass
        assert process_alive(), "the container stopped before it was ready"
        time.sleep(0.05)
    raise AssertionError(f"{url} not ready after {timeout} s")


def test_serving_image_runs_alone_with_the_model_inside(venv, project, tmp_path, podman):
    """`serve` image: built from the champion, run with no volume and no tracking server, it
    answers exactly the batch pipeline's predictions."""
    path = tmp_path / "bar-demo"
    shutil.copytree(project, path, ignore=shutil.ignore_patterns("dist", "__pycache__"))
    tag = f"e2e-serve-{os.getpid()}"
    image = f"bar-demo-serve:{tag}"
    package = (
        "kedro", "mlops", "package", "--build", "--builder", "podman", "--pipeline", "serve",
        "--base-image", BASE_IMAGE, "--wheels", "--tag", tag,
    )  # fmt: skip
    result = venv.run(*package, cwd=path, timeout=1500)
    out = output_of(result)
    name = f"serve-{os.getpid()}"
    try:
        assert result.returncode == 0, out[-6000:]
        assert f"Built with podman: {image}" in out
        assert "bar-demo-deps:" not in out  # the dependency image of the pipelines is not needed
        assert f"Serve: podman run --rm -p 8080:8080 {image}" in out
        (meta,) = json.loads(_podman("image", "inspect", image).stdout)
        config, labels = meta["Config"], meta["Config"]["Labels"]
        assert config["User"] == f"{UID}:{UID}"
        assert labels["org.kedro.model.name"] == "bar_demo"
        champion = mlflow.MlflowClient(
            f"sqlite:///{path / 'mlflow.db'}"
        ).get_model_version_by_alias("bar_demo", "champion")
        assert labels["org.kedro.model.version"] == str(champion.version)
        assert labels["org.kedro.model.run_id"] == champion.run_id
        assert "8080/tcp" in config["ExposedPorts"]
        assert meta["Healthcheck"]["Test"][-1].endswith("/health', timeout=4)")
        # only what online inference needs
        missing = _podman(
            "run", "--rm", "--network", "none", "--entrypoint", "python", image, "-c",
            "import importlib.util as u; print([m for m in ('mlflow', 'evidently', 'matplotlib',"
            " 'plotly', 'pyarrow', 'kedro_mlflow', 'sklearn', 'fastapi') if u.find_spec(m)])",
        )  # fmt: skip
        assert missing.stdout.strip() == "['sklearn', 'fastapi']", output_of(missing)

        # no volume, no tracking server: the model is inside
        port = free_port()
        started = _podman(
            "run", "-d", "--name", name, "--network", "host", image, "--port", str(port)
        )
        assert started.returncode == 0, output_of(started)

        def alive() -> bool:
            state = _podman("inspect", "--format", "{{.State.Running}}", name).stdout.strip()
            return state == "true"

        waited = _wait_ready(f"http://127.0.0.1:{port}/ready", alive)
        batch = pd.read_csv(path / "data" / "01_raw" / "production_batch.csv")
        body = batch.to_json(orient="records").encode()
        request = urllib.request.Request(
            f"http://127.0.0.1:{port}/predict",
            data=body,
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=120) as answer:  # noqa: S310
            served = json.loads(answer.read())
        assert served["model"]["version"] == str(champion.version)
        got = pd.DataFrame(served["predictions"])
        expected = pd.read_csv(path / "data" / "07_model_output" / "predictions.csv")
        assert got["customer_id"].tolist() == expected["customer_id"].tolist()
        assert got["prediction"].tolist() == expected["prediction"].tolist()
        assert (got["probability"] - expected["probability"]).abs().max() < 1e-9
        print(f"serving image ready in {waited:.1f} s")  # shown with -s
    finally:
        _podman("rm", "--force", name)
        _podman("rmi", "--force", image)
