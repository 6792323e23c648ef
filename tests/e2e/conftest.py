"""End-to-end fixtures: a fresh virtualenv with kedro-mlops installed from its wheel, and a project
generated from the starter with the network switched off (as a new user would, offline)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import free_port

ROOT = Path(__file__).resolve().parents[2]


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

    def run(
        self,
        *args: str,
        cwd: Path,
        offline: bool = False,
        env: dict[str, str] | None = None,
        timeout: int = 600,
    ) -> subprocess.CompletedProcess[str]:
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
        command = [str(self.bin / args[0]) if (self.bin / args[0]).exists() else args[0], *args[1:]]
        return subprocess.run(
            [*(OFFLINE if offline else []), *command],
            cwd=cwd,
            env=environ,
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


@pytest.fixture(scope="session")
def venv(tmp_path_factory) -> Env:
    """kedro-mlops installed with plain ``pip install`` (not editable) from its wheel.

    ``KEDRO_MLOPS_E2E_VENV`` reuses an existing environment (quicker local iterations).
    """
    reuse = os.environ.get("KEDRO_MLOPS_E2E_VENV")
    if reuse:
        return Env(Path(reuse) / "bin")
    base = tmp_path_factory.mktemp("venv")
    wheels = base / "wheels"
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(wheels), str(ROOT)],
        check=True,
    )
    (wheel,) = wheels.glob("kedro_mlops-*.whl")
    subprocess.run([sys.executable, "-m", "venv", str(base / "env")], check=True)
    env = Env(base / "env" / "bin")
    subprocess.run(
        [str(env.bin / "pip"), "install", "-q", f"{wheel}[test]"],
        check=True,
        timeout=1200,
    )
    return env


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
