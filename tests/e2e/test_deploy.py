"""`kedro mlops deploy` on a fresh starter project: the manifests of the images
`kedro mlops package --build` built, both overlays rendered by `kubectl kustomize` and valid for
Kubernetes 1.30, the rendered serving Deployment run by `podman kube play` (it answers /ready and
/predict), no credential in any file, and bad input refused in one line, exit 2, nothing written.

The podman part needs a usable podman and the base image (CI: `source .ci/podman.sh`); it skips
without them unless KEDRO_MLOPS_REQUIRE_CONTAINERS=1.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import urllib.request
from pathlib import Path

import kubernetes_validate
import pytest
import yaml

from tests.conftest import free_port
from tests.e2e.conftest import BASE_IMAGE, FORBIDDEN_FILES, PLANTED, copy_project
from tests.e2e.conftest import podman_run as _podman

pytestmark = pytest.mark.e2e

K8S_VERSION = "1.30.0"


def output_of(result: subprocess.CompletedProcess[str]) -> str:
    return result.stdout + result.stderr


def kustomize(directory: Path) -> list[dict]:
    kubectl = shutil.which("kubectl")
    assert kubectl, "kubectl (with kustomize) is needed: this machine kind ships it"
    result = subprocess.run(
        [kubectl, "kustomize", str(directory)], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    return [document for document in yaml.safe_load_all(result.stdout) if document]


def files_under(directory: Path) -> list[Path]:
    return [path for path in directory.rglob("*") if path.is_file()]


@pytest.fixture(scope="module")
def with_serve_image(venv, project, packaged, tmp_path_factory):
    """The trained project (secrets planted) and its serving image, tagged like the batch images
    of `packaged`: every image a deployment names exists."""
    path = copy_project(project, tmp_path_factory.mktemp("deploy") / "bar-demo", keep_outputs=True)
    for name, text in FORBIDDEN_FILES.items():
        (path / name).parent.mkdir(parents=True, exist_ok=True)
        (path / name).write_text(text)
    image = f"bar-demo-serve:{packaged.tag}"
    built = venv.run(
        "kedro", "mlops", "package", "--build", "--builder", "podman", "--pipeline", "serve",
        "--base-image", BASE_IMAGE, "--wheels", "--tag", packaged.tag, cwd=path, timeout=1500,
    )  # fmt: skip
    try:
        assert built.returncode == 0, output_of(built)[-6000:]
        yield path, packaged.tag
    finally:
        _podman("rmi", "--force", image)


def test_deploy_writes_valid_manifests_the_serving_image_runs_from(
    venv, with_serve_image, tmp_path
):
    path, tag = with_serve_image
    serve_image = f"bar-demo-serve:{tag}"
    result = venv.run("kedro", "mlops", "deploy", "--image-tag", tag, "--check-images", cwd=path)
    out = output_of(result)
    assert result.returncode == 0, out[-4000:]
    assert result.stdout.splitlines()[0].startswith(
        "Wrote deploy/kubernetes/ (16 files): base/, overlays/{staging,production}/"
    )
    tree = path / "deploy" / "kubernetes"
    # the planted secrets of the packaged project reach no generated file
    for file in files_under(tree):
        assert PLANTED not in file.read_text(), file

    rendered = {}
    for overlay in ("staging", "production"):
        for part in ("", "/training"):
            documents = kustomize(tree / f"overlays/{overlay}{part}")
            for document in documents:
                kubernetes_validate.validate(document, K8S_VERSION, strict=True)
            rendered[overlay + part] = {document["kind"]: document for document in documents}
    staging = rendered["staging"]
    assert staging["Deployment"]["spec"]["template"]["spec"]["containers"][0]["image"] == (
        serve_image
    )
    assert (
        staging["CronJob"]["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"][0][
            "image"
        ]
        == f"bar-demo-serving:{tag}"
    )
    assert rendered["production"]["Deployment"]["spec"]["replicas"] == 2

    # the rendered Deployment of the real image, played by podman: the test's copy only adds
    # a host port and points at the local image (podman resolves it as localhost/NAME)
    deployment = staging["Deployment"]
    container = deployment["spec"]["template"]["spec"]["containers"][0]
    port = free_port()
    container["image"] = f"localhost/{serve_image}"
    container["imagePullPolicy"] = "Never"
    container["ports"][0]["hostPort"] = port
    deployment["spec"]["replicas"] = 1
    play = tmp_path / "play.yaml"
    play.write_text(yaml.safe_dump_all([staging["ConfigMap"], deployment], sort_keys=False))
    played = _podman("kube", "play", str(play), timeout=300)
    try:
        assert played.returncode == 0, output_of(played)
        url = f"http://127.0.0.1:{port}"
        _wait(f"{url}/ready", timeout=120)
        row = json.loads((tree / "smoke-row.json").read_text())
        request = urllib.request.Request(  # noqa: S310 - loopback
            f"{url}/predict",
            data=json.dumps(row).encode(),
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=60) as answer:  # noqa: S310 - loopback
            served = json.loads(answer.read())
        assert served["model"]["name"] == "bar_demo"
        assert served["predictions"][0]["customer_id"] == row["customer_id"]
        assert served["predictions"][0]["prediction"] in ("yes", "no")
        pods = _podman("pod", "ps", "--format", "{{.Name}}").stdout
        assert "bar-demo-serve" in pods
        # labels through POST /feedback land in the pod's feedback emptyDir (the root
        # filesystem is read-only)
        request = urllib.request.Request(  # noqa: S310 - loopback
            f"{url}/feedback",
            data=json.dumps({"customer_id": row["customer_id"], "label": "yes"}).encode(),
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=60) as answer:  # noqa: S310 - loopback
            assert (answer.status, json.loads(answer.read())) == (202, {"accepted": 1})
        names = _podman("ps", "--format", "{{.Names}}").stdout.split()
        (name,) = [n for n in names if n.startswith("bar-demo-serve") and n.endswith("-serve")]
        listing = "import os; print(os.listdir('/var/lib/kedro-mlops/feedback'))"
        _until(lambda: ".csv" in _podman("exec", name, "python", "-c", listing).stdout, 30)
    finally:
        _podman("kube", "down", str(play), timeout=120)


def _until(condition, timeout: float) -> None:
    import time  # noqa: PLC0415

    started = time.monotonic()
    while not condition():
        if time.monotonic() - started > timeout:
            raise AssertionError(f"not true within {timeout} s")
        time.sleep(0.5)


def _wait(url: str, timeout: float) -> None:
    import time  # noqa: PLC0415

    started = time.monotonic()
    while time.monotonic() - started < timeout:
        try:
            with urllib.request.urlopen(url, timeout=2) as answer:  # noqa: S310 - loopback
                if answer.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.2)
    raise AssertionError(f"{url} did not answer within {timeout} s")


def test_images_never_built_are_refused(venv, with_serve_image):
    path, _tag = with_serve_image
    result = venv.run(
        "kedro", "mlops", "deploy", "--image-tag", "never-built", "--check-images",
        "--output", "elsewhere", cwd=path,
    )  # fmt: skip
    assert result.returncode == 2
    assert result.stdout == ""
    assert (
        result.stderr.strip()
        .splitlines()[-1]
        .startswith(
            "Error: Image(s) not found in the local image store: bar-demo-serve:never-built, "
        )
    )
    assert not (path / "elsewhere").exists()


def test_bad_input_is_one_line_exit_2_and_nothing_is_written(venv, project, tmp_path):
    path = copy_project(project, tmp_path / "bar-demo")
    result = venv.run("kedro", "mlops", "deploy", "--overlay", "qa", cwd=path)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines()[-1] == (
        "Error: Unknown overlay(s) 'qa': deploy.overlays in mlops.yml has staging, production."
    )
    assert not (path / "deploy").exists()

    # no model anywhere: nothing trained, registered or saved
    for name in ("mlflow.db", "mlruns", "data/06_models"):
        target = path / name
        if target.is_dir():
            shutil.rmtree(target)
        else:
            target.unlink(missing_ok=True)
    result = venv.run("kedro", "mlops", "deploy", cwd=path)
    assert result.returncode == 2, output_of(result)
    last = result.stderr.strip().splitlines()[-1]
    assert last == (
        "Error: Nothing to deploy: cannot load 'model' for the local model (no file "
        "data/06_models/model.pkl); `kedro run` trains one"
    ), output_of(result)
    assert not (path / "deploy").exists()


def test_the_compose_target_runs_the_server_and_the_tracking_server(
    venv, with_serve_image, tmp_path
):
    """podman-compose runs the serving image and the MLflow server of the compose file (the
    Prometheus image cannot be pulled offline: it is left out of this run)."""
    path, tag = with_serve_image
    result = venv.run(
        "kedro", "mlops", "deploy", "--target", "compose", "--image-tag", tag, cwd=path
    )
    assert result.returncode == 0, output_of(result)
    compose_dir = path / "deploy" / "compose"
    compose = yaml.safe_load((compose_dir / "compose.yaml").read_text())
    # the test's copy: free host ports and local image names, nothing else changed
    serve_port, mlflow_port = free_port(), free_port()
    services = compose["services"]
    services["serve"]["ports"] = [f"{serve_port}:8080"]
    services["mlflow"]["ports"] = [f"{mlflow_port}:5000"]
    for service in ("serve", "mlflow"):
        services[service]["image"] = f"localhost/{services[service]['image']}"
    compose["name"] = f"e2e-compose-{serve_port}"
    copy = compose_dir / "compose.e2e.yaml"
    copy.write_text(yaml.safe_dump(compose, sort_keys=False))
    up = venv.run("podman-compose", "-f", str(copy), "up", "-d", "serve", "mlflow", cwd=compose_dir)
    try:
        assert up.returncode == 0, output_of(up)
        _wait(f"http://127.0.0.1:{serve_port}/ready", timeout=120)
        _wait(f"http://127.0.0.1:{mlflow_port}/health", timeout=120)
        row = json.loads((compose_dir / "smoke-row.json").read_text())
        request = urllib.request.Request(
            f"http://127.0.0.1:{serve_port}/predict",
            data=json.dumps(row).encode(),
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=60) as answer:  # noqa: S310 - loopback
            assert json.loads(answer.read())["predictions"][0]["customer_id"] == row["customer_id"]
        with urllib.request.urlopen(
            f"http://127.0.0.1:{mlflow_port}/api/2.0/mlflow/experiments/search?max_results=5",
            timeout=30,
        ) as answer:
            assert "experiments" in json.loads(answer.read())
    finally:
        venv.run("podman-compose", "-f", str(copy), "down", "--volumes", cwd=compose_dir)
