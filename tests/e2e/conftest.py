"""End-to-end fixtures: a fresh virtualenv with kedro-mlops installed from its wheel, a project
generated from the starter with the network switched off (as a new user would, offline), the
images `kedro mlops package` builds of it with podman (built once, shared by the tests that run
them), and an Airflow virtualenv of its own (Airflow and kfp cannot share one)."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from filelock import FileLock

from benchmarks.serving import stop, wait_ready
from tests.conftest import free_port

if TYPE_CHECKING:
    from collections.abc import Iterator

ROOT = Path(__file__).resolve().parents[2]
BASE_IMAGE = os.environ.get("KEDRO_MLOPS_TEST_BASE_IMAGE", "localhost/python-base:bookworm")
REQUIRE_CONTAINERS = os.environ.get("KEDRO_MLOPS_REQUIRE_CONTAINERS") == "1"


def _offline_prefix() -> list[str]:
    """``unshare -n`` runs a command without any network, where the kernel lets us."""
    unshare = shutil.which("unshare")
    if unshare and subprocess.run([unshare, "-rn", "true"], check=False).returncode == 0:
        return [unshare, "-rn"]
    return []


OFFLINE = _offline_prefix()


@dataclass
class Env:
    """A virtualenv and helpers to run its commands."""

    bin: Path

    def environ(self, env: dict[str, str] | None = None) -> dict[str, str]:
        """The environment of this virtualenv's commands (``env`` may replace any of it)."""
        environ = {
            key: value
            for key, value in os.environ.items()
            if not key.startswith(("MLFLOW_", "KEDRO_", "PYTEST_"))
        }
        environ.update(
            PATH=f"{self.bin}{os.pathsep}{environ.get('PATH', '')}",
            VIRTUAL_ENV=str(self.bin.parent),
            COLUMNS="200",  # rich wraps log lines at 80 columns otherwise
        )
        environ.update(env or {})  # may replace any of the above, PATH included
        return environ

    def command(self, *args: str) -> list[str]:
        """``args`` with its program taken from this virtualenv when it has it."""
        return [str(self.bin / args[0]) if (self.bin / args[0]).exists() else args[0], *args[1:]]

    def run(
        self,
        *args: str,
        cwd: Path,
        offline: bool = False,
        env: dict[str, str] | None = None,
        timeout: int = 600,
    ) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [*(OFFLINE if offline else []), *self.command(*args)],
            cwd=cwd,
            env=self.environ(env),
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )

    def ok(self, *args: str, cwd: Path, **kwargs: object) -> subprocess.CompletedProcess[str]:
        result = self.run(*args, cwd=cwd, **kwargs)  # type: ignore[arg-type]
        assert result.returncode == 0, (
            f"{args} failed:\n{result.stdout[-4000:]}\n{result.stderr[-4000:]}"
        )
        return result


@dataclass(frozen=True)
class Served:
    """A running ``kedro mlops serve``: its process, its address, how long /ready took."""

    process: subprocess.Popen
    url: str
    ready_s: float


@contextlib.contextmanager
def serving(venv: Env, path: Path, *options: str) -> Iterator[Served]:
    """``kedro mlops serve`` in ``path`` on a free port, checking the registry every second,
    its output in ``path/serve.log``; ready on entry, stopped on exit with SIGTERM (uvicorn's
    graceful shutdown flushes the inference log)."""
    port = free_port()
    command = ("kedro", "mlops", "serve", *options, "--port", str(port), "--reload-interval", "1")
    with (path / "serve.log").open("w") as log:
        process = subprocess.Popen(
            venv.command(*command),
            cwd=path,
            env=venv.environ(),
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        url = f"http://127.0.0.1:{port}"
        yield Served(process, url, wait_ready(url + "/ready", process))
    finally:
        stop(process)


@pytest.fixture(scope="session")
def venv(tmp_path_factory) -> Env:
    """kedro-mlops installed with plain ``pip install`` (not editable) from its wheel, with the
    ``kubeflow`` extra (kfp compiles the exported Kubeflow pipelines) and the ``spark`` extra
    (pyspark's source distribution is built once per CI run: ``make install`` builds it, pip's
    wheel cache serves it here).

    ``KEDRO_MLOPS_E2E_VENV`` reuses an existing environment (quicker local iterations).
    """
    reuse = os.environ.get("KEDRO_MLOPS_E2E_VENV")
    if reuse:
        return Env(Path(reuse) / "bin")
    # under pytest-xdist every worker has a directory of its own below a shared one: the first
    # worker builds the environment there, the others wait for it and use it
    shared = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        shared = shared.parent
    base = shared / "e2e-venv"
    with FileLock(str(base) + ".lock"):
        if not (base / "ready").exists():
            shutil.rmtree(base, ignore_errors=True)
            _install_venv(base)
            (base / "ready").touch()
    return Env(base / "env" / "bin")


def _install_venv(base: Path) -> None:
    wheels = base / "wheels"
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(wheels), str(ROOT)],
        check=True,
    )
    (wheel,) = wheels.glob("kedro_mlops-*.whl")
    subprocess.run([sys.executable, "-m", "venv", str(base / "env")], check=True)
    env = Env(base / "env" / "bin")
    subprocess.run(
        [str(env.bin / "pip"), "install", "-q", f"{wheel}[test,kubeflow,spark]"],
        check=True,
        timeout=1200,
    )


@pytest.fixture(scope="session")
def workdir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("work")


FIRST_RUN = "first-run.json"  # in the work directory: what the project's first `kedro run` printed


@pytest.fixture(scope="session")
def project(venv: Env, workdir: Path) -> Path:
    """``kedro new --starter=mlops --name "Bar Demo"`` offline, then a full ``kedro run``."""
    venv.ok("kedro", "new", "--starter=mlops", "--name", "Bar Demo", cwd=workdir, offline=True)
    path = workdir / "bar-demo"
    run = venv.ok("kedro", "run", cwd=path, offline=True)
    printed = {"stdout": run.stdout, "stderr": run.stderr}
    (workdir / FIRST_RUN).write_text(json.dumps(printed), encoding="utf-8")
    return path


def copy_project(project: Path, target: Path, *, keep_outputs: bool = False) -> Path:
    """A copy of the generated project without its MLflow store and, unless ``keep_outputs``
    (the serving pipeline then runs alone), without its data outputs."""
    ignored = ["mlflow.db", "mlruns", "__pycache__"]
    if not keep_outputs:
        ignored += ["*.parquet", "*.pkl"]
    shutil.copytree(project, target, ignore=shutil.ignore_patterns(*ignored))
    return target


def git_commit(path: Path) -> str:
    """Make ``path`` a git repository with everything committed; returns the sha."""
    config = ["-c", "user.name=ci", "-c", "user.email=ci@example.com"]
    subprocess.run(["git", "init", "-q", "-b", "main"], cwd=path, check=True)
    subprocess.run(["git", "add", "-A"], cwd=path, check=True)
    subprocess.run(["git", *config, "commit", "-qm", "project"], cwd=path, check=True)
    return subprocess.run(
        ["git", "rev-parse", "HEAD"], cwd=path, capture_output=True, text=True, check=True
    ).stdout.strip()


@pytest.fixture
def mlflow_server(venv: Env, tmp_path: Path):
    """A real ``mlflow server`` (SQLite backend, local artifact root) on a free loopback port."""
    import signal  # noqa: PLC0415
    import time  # noqa: PLC0415
    import urllib.request  # noqa: PLC0415

    port = free_port()
    store = tmp_path / "server"
    store.mkdir()
    log = (store / "server.log").open("w")
    process = subprocess.Popen(
        [
            str(venv.bin / "mlflow"), "server",
            "--backend-store-uri", f"sqlite:///{store / 'mlflow.db'}",
            "--artifacts-destination", str(store / "artifacts"),
            "--host", "127.0.0.1", "--port", str(port), "--workers", "1",
        ],
        cwd=store,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,  # the server starts helpers: stop the whole group
    )  # fmt: skip
    uri = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while True:
        try:
            with urllib.request.urlopen(f"{uri}/health", timeout=2) as answer:  # noqa: S310
                if answer.status == 200:
                    break
        except OSError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError((store / "server.log").read_text()[-3000:])
        time.sleep(0.5)
    yield uri
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
    log.close()


# ------------------------------------------------------------------ containers
BASE_IMAGE = os.environ.get("KEDRO_MLOPS_TEST_BASE_IMAGE", "localhost/python-base:bookworm")
REQUIRE_CONTAINERS = os.environ.get("KEDRO_MLOPS_REQUIRE_CONTAINERS") == "1"
PIPELINES = ("data_engineering", "data_science", "serving")
PLANTED = "kedro-mlops-e2e-do-not-ship"
# planted in the packaged project: none of it may reach an image (tests/e2e/test_package.py)
FORBIDDEN_FILES = {
    ".env": f"AWS_SECRET_ACCESS_KEY={PLANTED}\n",
    "conf/base/credentials.yml": f"db:\n  password: {PLANTED}\n",
    "conf/base/api_secrets.yml": f"token: {PLANTED}\n",
    "conf/local/credentials.yml": f"mlflow:\n  MLFLOW_TRACKING_PASSWORD: {PLANTED}\n",
    "conf/local/mlops.yml": f"# {PLANTED}\nregistry:\n  enabled: true\n",
    "notebooks/explore.ipynb": f'{{"cells": [], "metadata": {{"note": "{PLANTED}"}}}}\n',
    "mlruns/0/meta.yaml": f"name: {PLANTED}\n",
    ".venv/pyvenv.cfg": f"home = /usr/bin\n# {PLANTED}\n",
    "data/01_raw/notes.txt": f"{PLANTED}\n",
}


def podman_run(*args: str, timeout: int = 600) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["podman", *args], capture_output=True, text=True, check=False, timeout=timeout
    )


def podman_problem() -> str | None:
    """Why podman cannot build and run images here, or None."""
    if not shutil.which("podman"):
        return "podman is not installed"
    info = podman_run("info", timeout=120)
    if info.returncode != 0:
        return f"`podman info` failed: {info.stderr.strip()[-500:]}"
    if podman_run("image", "exists", BASE_IMAGE).returncode != 0:
        return f"the base image {BASE_IMAGE} is missing (CI: source .ci/podman.sh)"
    run = podman_run("run", "--rm", "--network", "none", BASE_IMAGE, "true", timeout=120)
    if run.returncode != 0:
        return f"podman cannot run a container: {run.stderr.strip()[-500:]}"
    return None


@pytest.fixture(scope="session")
def podman() -> Iterator[None]:
    """Skips (or, with KEDRO_MLOPS_REQUIRE_CONTAINERS=1, fails) when podman is unusable. At the
    session's end, removes the untagged images the session left (a rebuilt tag's former image,
    build-stage layers: several GB per run), and only those."""
    problem = podman_problem()
    if problem is not None:
        if REQUIRE_CONTAINERS:
            pytest.fail(f"KEDRO_MLOPS_REQUIRE_CONTAINERS=1 but podman is unusable: {problem}")
        pytest.skip(f"podman is unusable: {problem}")
    before = _untagged_images()
    yield
    left = sorted(_untagged_images() - before)
    if left:
        podman_run("rmi", "--force", *left)


def _untagged_images() -> set[str]:
    listed = podman_run("images", "--all", "--quiet", "--no-trunc", "--filter", "dangling=true")
    return set(listed.stdout.split())


@dataclass
class Packaged:
    """The images of the starter project, built by `kedro mlops package --build` with podman."""

    path: Path  # the packaged copy of the project (git repository, secrets planted)
    sha: str
    tag: str
    images: dict[str, str]  # pipeline -> image reference
    output: str  # what the build printed
    deps_images: set[str]
    command: tuple[str, ...]  # the package command line, to build again


@pytest.fixture(scope="session")
def packaged(venv: Env, project: Path, tmp_path_factory, podman) -> Packaged:
    """One build of the three images per session, shared by the tests that run them; removed
    at the end. The project holds planted secrets that must stay out of the images."""
    import re  # noqa: PLC0415

    path = copy_project(project, tmp_path_factory.mktemp("packaged") / "bar-demo")
    for name, text in FORBIDDEN_FILES.items():
        (path / name).parent.mkdir(parents=True, exist_ok=True)
        (path / name).write_text(text)
    sha = git_commit(path)
    tag = f"e2e-{os.getpid()}"
    images = {pipeline: f"bar-demo-{pipeline}:{tag}" for pipeline in PIPELINES}
    command = (
        "kedro", "mlops", "package", "--build", "--builder", "podman",
        "--base-image", BASE_IMAGE, "--wheels", "--tag", tag,
    )  # fmt: skip
    result = venv.run(*command, cwd=path, timeout=1500)
    output = result.stdout + result.stderr
    deps_images = set(re.findall(r"bar-demo-deps:[0-9a-f]{12}", output))
    built = Packaged(path, sha, tag, images, output, deps_images, command)
    try:
        assert result.returncode == 0, output[-6000:]
        yield built
    finally:
        podman_run("rmi", "--force", *images.values(), *sorted(built.deps_images))


@pytest.fixture(scope="session")
def podman_socket(tmp_path_factory, podman) -> str:
    """podman's Docker-compatible API on a socket of its own (what an orchestrator talks to)."""
    import time  # noqa: PLC0415

    socket = tmp_path_factory.mktemp("podman-api") / "podman.sock"
    url = f"unix://{socket}"
    process = subprocess.Popen(
        ["podman", "system", "service", "--time=0", url],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 60
    while not socket.exists():
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            pytest.fail(f"`podman system service` did not open {socket}")
        time.sleep(0.2)
    yield url
    process.terminate()
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()


# ------------------------------------------------------------------ Airflow
AIRFLOW_REQUIREMENTS = ROOT / "tests" / "requirements-airflow.txt"


@pytest.fixture(scope="session")
def airflow(tmp_path_factory) -> Env:
    """Airflow 3 with the Docker and Kubernetes providers (pinned in
    tests/requirements-airflow.txt) in a virtualenv of its own: kfp needs ``kubernetes<31``,
    the Kubernetes provider ``kubernetes>=36``. No kedro in it: the tasks run in containers.
    ``KEDRO_MLOPS_AIRFLOW_VENV`` reuses an existing one."""
    reuse = os.environ.get("KEDRO_MLOPS_AIRFLOW_VENV")
    if reuse:
        return Env(Path(reuse) / "bin")
    base = tmp_path_factory.mktemp("airflow-venv")
    subprocess.run([sys.executable, "-m", "venv", str(base / "env")], check=True)
    env = Env(base / "env" / "bin")
    subprocess.run(
        [str(env.bin / "pip"), "install", "-q", "-r", str(AIRFLOW_REQUIREMENTS)],
        check=True,
        timeout=1200,
    )
    return env


@pytest.fixture(scope="session")
def airflow_home(airflow: Env, tmp_path_factory) -> dict[str, str]:
    """The environment of Airflow commands: a temporary AIRFLOW_HOME with a migrated SQLite
    metadata database (`airflow dags test` needs one, no scheduler) and its own DAGs folder."""
    home = tmp_path_factory.mktemp("airflow-home")
    environ = {
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__DAGS_FOLDER": str(home / "dags"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
    }
    (home / "dags").mkdir()
    airflow.ok("airflow", "db", "migrate", cwd=home, env=environ, timeout=600)
    return environ


@pytest.fixture(scope="session")
def image_cleanup():
    """Image tags removed at the end of the session. A dependency image is tagged with a hash of
    what it holds: the first test that needs it builds it, the others reuse it."""
    tags: set[str] = set()
    yield tags
    if tags and shutil.which("podman"):
        podman_run("rmi", "--force", *sorted(tags))
