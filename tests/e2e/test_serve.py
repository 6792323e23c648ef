"""`kedro mlops serve` in the generated project after `kedro run`, as a user starts it: a real
server process on a free loopback port, real HTTP clients (httpx, MLflow's own scoring client),
the registry's champion, a load run and a model promotion while it serves."""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import httpx
import mlflow
import pandas as pd
import pytest

from benchmarks.serving import load
from tests.conftest import free_port
from tests.e2e.conftest import serving
from tests.serving.conftest import openapi_types

MODEL = "bar_demo"
BATCH = Path("data/01_raw/production_batch.csv")
PREDICTIONS = Path("data/07_model_output/predictions.csv")
SERVED = Path("data/07_model_output/served")


@dataclass
class Server:
    process: subprocess.Popen
    url: str
    path: Path  # the project it serves

    def get(self, route: str) -> httpx.Response:
        return httpx.get(self.url + route, timeout=30)

    def rss_kb(self) -> int:
        status = Path(f"/proc/{self.process.pid}/status").read_text()
        return int(
            next(line for line in status.splitlines() if line.startswith("VmRSS:")).split()[1]
        )

    def log(self) -> str:
        return (self.path / "serve.log").read_text()


def champion(path: Path):
    return mlflow.MlflowClient(f"sqlite:///{path / 'mlflow.db'}").get_model_version_by_alias(
        MODEL, "champion"
    )


@pytest.fixture(scope="module")
def server(venv, project, tmp_path_factory):
    """`kedro mlops serve` on a copy of the project, checking the champion alias every second."""
    path = tmp_path_factory.mktemp("serve") / "bar-demo"
    shutil.copytree(project, path, ignore=shutil.ignore_patterns("dist", "__pycache__", "served"))
    with serving(venv, path) as running:
        print(f"kedro mlops serve ready in {running.ready_s:.1f} s")  # shown with -s
        yield Server(running.process, running.url, path)


ROW_TYPES = {
    "customer_id": "integer",
    "signup_date": "string",
    "tenure_months": "number",
    "monthly_charges": "number",
    "total_charges": ["number", "null"],
    "num_support_calls": "number",
    "age": ["number", "null"],
    "contract_type": "string",
    "internet_service": ["string", "null"],
    "payment_method": "string",
    "region": "string",
    "paperless_billing": "string",
}


def test_ready_metadata_metrics_and_typed_openapi(server):
    version = champion(server.path)
    brief = {"name": MODEL, "version": str(version.version), "run_id": version.run_id}
    assert server.get("/health").json() == {"status": "ok"}
    assert server.get("/ready").json() == {"ready": True, "model": brief}
    metadata = server.get("/metadata").json()
    assert {key: metadata["model"][key] for key in ("name", "version", "run_id")} == brief
    assert metadata["model"]["aliases"] == ["champion"]
    assert metadata["model"]["model_uri"] == f"models:/{MODEL}@champion"
    assert metadata["model"]["source"] == "registry"
    assert metadata["model"]["loaded_at"]
    assert [column["name"] for column in metadata["input"]["columns"]] == list(ROW_TYPES)
    metrics = server.get("/metrics")
    assert metrics.headers["content-type"].startswith("text/plain")
    assert (
        f'kedro_mlops_model_info{{name="{MODEL}",run_id="{version.run_id}",'
        f'version="{version.version}"}} 1.0'
    ) in metrics.text
    row = server.get("/openapi.json").json()["components"]["schemas"]["Row"]
    assert openapi_types(row) == ROW_TYPES
    assert row["required"] == list(ROW_TYPES)
    assert row["additionalProperties"] is False


def assert_batch_predictions(got: pd.DataFrame, path: Path) -> None:
    expected = pd.read_csv(path / PREDICTIONS)
    assert got["customer_id"].tolist() == expected["customer_id"].tolist()
    assert got["prediction"].tolist() == expected["prediction"].tolist()
    assert (got["probability"] - expected["probability"]).abs().max() < 1e-9


def test_predict_answers_the_batch_pipeline_predictions(server):
    batch = pd.read_csv(server.path / BATCH)
    response = httpx.post(
        server.url + "/predict",
        content=batch.to_json(orient="records"),
        headers={"content-type": "application/json"},
        timeout=120,
    )
    assert response.status_code == 200, response.text
    content = response.json()
    assert content["model"]["version"] == str(champion(server.path).version)
    got = pd.DataFrame(content["predictions"])
    assert list(got.columns) == ["customer_id", "prediction", "probability"]
    assert len(got) == len(batch) == 3000
    assert_batch_predictions(got, server.path)
    refused = httpx.post(server.url + "/predict", json={**batch.iloc[0].to_dict(), "age": "old"})
    assert (refused.status_code, refused.json()["detail"]) == (
        422,
        "row 0, field 'age': Input should be a valid number",
    )


def test_the_readmes_serve_example_works_as_written(server):
    """The curl lines of the generated README's "Serve" section, run by bash against the server
    (its port instead of 8080): /predict answers the row, /feedback accepts its label."""
    readme = (server.path / "README.md").read_text()
    block = readme.split("## Serve\n", 1)[1].split("```bash\n", 1)[1].split("```", 1)[0]
    commands = [line for line in block.splitlines() if not line.startswith(("#", "kedro "))]
    script = "\n".join(commands).replace("localhost:8080", server.url.removeprefix("http://"))
    result = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", script.replace("curl -s ", "curl -sf ")],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    decoder = json.JSONDecoder()
    predicted, end = decoder.raw_decode(result.stdout)
    assert decoder.raw_decode(result.stdout, end)[0] == {"accepted": 1}
    assert predicted["model"]["version"] == str(champion(server.path).version)
    (answer,) = predicted["predictions"]
    assert answer["customer_id"] == 200000
    assert answer["prediction"] in {"yes", "no"} and 0 <= answer["probability"] <= 1


def test_invocations_answers_mlflows_own_client(server, venv):
    port = server.url.rsplit(":", 1)[1]
    script = f"""
import pandas as pd
from mlflow.pyfunc.scoring_server.client import ScoringServerClient
client = ScoringServerClient("127.0.0.1", {port})
client.wait_server_ready(timeout=30)
answer = client.invoke(pd.read_csv("{BATCH}"))
print(answer.get_predictions().to_json(orient="records"))
"""
    result = venv.ok("python", "-c", script, cwd=server.path)
    got = pd.DataFrame(json.loads(result.stdout.strip().splitlines()[-1]))
    assert list(got.columns) == [
        "customer_id", "prediction", "probability", "model_version", "model_registry",
    ]  # fmt: skip
    assert_batch_predictions(got, server.path)
    assert set(got["model_registry"]) == {f"{MODEL}/{champion(server.path).version}"}


def test_monitor_checks_what_the_server_logged(server, venv):
    def logged_rows() -> int:
        files = sorted((server.path / SERVED).glob("*.csv"))
        return sum(len(pd.read_csv(file)) for file in files)

    before = logged_rows()
    batch = (server.path / BATCH).read_bytes()
    answer = httpx.post(
        server.url + "/invocations",
        content=batch,
        headers={"content-type": "text/csv"},
        timeout=120,
    )
    assert answer.status_code == 200, answer.text
    deadline = time.monotonic() + 30
    while logged_rows() < before + 3000:  # written in the background, about every second
        assert time.monotonic() < deadline, f"{logged_rows() - before} rows logged"
        time.sleep(0.2)
    result = venv.run("kedro", "mlops", "monitor", "--check", "served_traffic", cwd=server.path)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    (summary,) = [
        line
        for line in result.stdout.splitlines()
        if line.startswith("drift check 'served_traffic'")
    ]
    assert " (" in summary and "columns drifted" in summary
    assert f"{server.path}/data/08_reporting/drift/served_traffic/" in summary


def one_row_bodies(path: Path) -> list[bytes]:
    batch = pd.read_csv(path / BATCH)
    return [json.dumps(row).encode() for row in json.loads(batch.to_json(orient="records"))]


def test_load_no_5xx_and_steady_memory(server):
    bodies = one_row_bodies(server.path)
    url = server.url + "/predict"
    warm = load(url, bodies, concurrency=32, requests=1000, timeout=120)
    assert (warm.statuses, warm.failures) == ({200: 1000}, [])
    after_warm_up = server.rss_kb()
    run = load(url, bodies, concurrency=32, requests=10_000, timeout=240)
    after_run = server.rss_kb()
    print(
        f"load: {run.rps:.0f} requests/s, p50 {run.percentile(0.5) * 1000:.0f} ms, "
        f"p99 {run.percentile(0.99) * 1000:.0f} ms; RSS {after_warm_up} -> {after_run} kB"
    )
    assert (run.statuses, run.failures) == ({200: 10_000}, [])
    assert abs(after_run - after_warm_up) <= 0.10 * after_warm_up
    assert "Traceback" not in server.log()


def test_the_champion_moves_mid_load(server, venv):
    """A new version is registered and promoted while requests flow: none fails, the answers
    switch to it, /metadata names it."""
    mlflow.set_tracking_uri(f"sqlite:///{server.path / 'mlflow.db'}")  # reset after the test
    current = champion(server.path)
    # a new version of the champion's logged model (registering needs no new training run)
    new = mlflow.MlflowClient().create_model_version(MODEL, current.source, current.run_id)
    before, after = str(current.version), str(new.version)
    stop = threading.Event()
    results = []
    loader = threading.Thread(
        target=lambda: results.append(
            load(
                server.url + "/predict",
                one_row_bodies(server.path),
                concurrency=16,
                stop=stop,
                read_version=True,
                timeout=180,
            )
        )
    )
    loader.start()
    try:
        promoted = venv.ok("kedro", "mlops", "promote", "--version", after, cwd=server.path)
        assert f"{MODEL}@champion -> version {after} (was version {before})" in (promoted.stdout)
        deadline = time.monotonic() + 60
        while server.get("/metadata").json()["model"]["version"] != after:
            assert time.monotonic() < deadline, server.log()[-3000:]
            time.sleep(0.2)
        time.sleep(1)  # answers keep coming from the new version
    finally:
        stop.set()
        loader.join(timeout=120)
    (run,) = results
    assert run.failures == []
    assert set(run.statuses) == {200}
    versions = run.versions
    assert versions[0] == before and versions[-1] == after
    switched = versions.index(after)
    assert set(versions[switched + 16 :]) == {after}  # only requests in flight finish late
    metadata = server.get("/metadata").json()["model"]
    assert (metadata["version"], metadata["aliases"]) == (after, ["champion"])
    assert 'kedro_mlops_model_reloads_total{result="swapped"} 1.0' in server.get("/metrics").text
    assert f"now serving version {after} (was {before})" in server.log()


def short_error(result: subprocess.CompletedProcess[str]) -> str:
    """The error of a failed command: stderr ends with it, the one ``Error:`` line, and holds no
    traceback (Kedro's own INFO log lines, which go to stderr, may come before it)."""
    assert "Traceback" not in result.stdout + result.stderr
    lines = result.stderr.strip().splitlines()
    (line,) = [text for text in lines if text.startswith("Error: ")]
    assert lines[-1] == line
    return line


def test_a_model_that_cannot_load_is_one_message(venv, project, tmp_path):
    path = tmp_path / "bar-demo"
    shutil.copytree(project, path, ignore=shutil.ignore_patterns("dist", "__pycache__"))
    uri = f"models:/{MODEL}@nope"
    port = str(free_port())
    result = venv.run("kedro", "mlops", "serve", "--model-uri", uri, "--port", port, cwd=path)
    assert result.returncode != 0
    error = short_error(result)
    assert error.startswith(
        f"Error: model URI '{uri}' does not resolve at sqlite:///{path}/mlflow.db: "
    )
    assert error.endswith("`kedro mlops models` lists the versions and aliases.")


def test_a_port_in_use_is_one_message(venv, project):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = venv.run("kedro", "mlops", "serve", "--port", str(port), cwd=project)
    assert result.returncode == 2
    assert short_error(result) == (
        f"Error: Port {port} on 127.0.0.1 is already in use; choose another with --port "
        "(or serving.port in mlops.yml)."
    )
