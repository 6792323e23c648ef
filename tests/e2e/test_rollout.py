"""Live evaluation on the generated project: `kedro mlops serve --rollout shadow` with a real
server, labels arriving in `ground_truth`, and `kedro mlops rollout analyze` deciding on them: a
worse challenger is rolled back; a better one is promoted while 16 clients keep asking, and the
running server answers with it within its reload interval."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import threading
import time
from pathlib import Path

import httpx
import mlflow
import pandas as pd
import pytest

from benchmarks.serving import load, stop, wait_ready
from tests.conftest import free_port
from tests.deploy.conftest import required_tool
from tests.e2e.conftest import serving
from tests.e2e.test_serve import MODEL, ROW_TYPES, short_error

CUSTOMERS = Path("data/01_raw/customers.csv")  # the training file: it has the labels
SERVED = Path("data/07_model_output/served")
LABELS = Path("data/01_raw/ground_truth")
# a stump: one split, one boosting round (registered as a challenger: worse than the champion)
STUMP = "model.hyperparameters.max_iter=1,model.hyperparameters.max_leaf_nodes=2"
SETTINGS = """\
rollout:
  analysis:
    min_rows: 300
    min_labels: 150
"""


def client(path: Path) -> mlflow.MlflowClient:
    return mlflow.MlflowClient(f"sqlite:///{path / 'mlflow.db'}")


def version_of(path: Path, alias: str) -> str:
    return str(client(path).get_model_version_by_alias(MODEL, alias).version)


@pytest.fixture(scope="module")
def trial(venv, project, tmp_path_factory):
    """A copy of the project with a worse second version (the challenger) and the analysis'
    thresholds for a test's traffic."""
    path = tmp_path_factory.mktemp("rollout") / "bar-demo"
    shutil.copytree(project, path, ignore=shutil.ignore_patterns("__pycache__", "served", "dist"))
    (path / "conf/local/mlops.yml").write_text(SETTINGS, encoding="utf-8")
    venv.ok("kedro", "run", "--pipeline", "data_science", "--params", STUMP, cwd=path)
    assert (version_of(path, "champion"), version_of(path, "challenger")) == ("1", "2")
    return path


def customers(path: Path, start: int, stop_at: int) -> pd.DataFrame:
    return pd.read_csv(path / CUSTOMERS).iloc[start:stop_at].reset_index(drop=True)


def bodies(rows: pd.DataFrame, size: int) -> list[bytes]:
    records = json.loads(rows[list(ROW_TYPES)].to_json(orient="records"))
    return [json.dumps(records[i : i + size]).encode() for i in range(0, len(records), size)]


def deliver_labels(path: Path, rows: pd.DataFrame, name: str) -> None:
    """Labels for ``rows`` as they would arrive later: the id and the label."""
    (path / LABELS).mkdir(parents=True, exist_ok=True)
    labels = rows[["customer_id", "churn"]].rename(columns={"churn": "label"})
    labels.to_csv(path / LABELS / f"{name}.csv", index=False)


def logged_rows(path: Path, challenger: str) -> int:
    frames = [pd.read_csv(file) for file in (path / SERVED).glob("*.csv")]
    if not frames:
        return 0
    rows = pd.concat(frames)
    scored = rows["challenger_version"].astype(str).isin([challenger, f"{challenger}.0"])
    return int((scored & rows["challenger_prediction"].notna()).sum())


def wait_for(condition, what: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"not within {timeout} s: {what}"
        time.sleep(0.25)


def test_bad_input_is_one_line(venv, trial):
    no_traffic = venv.run("kedro", "mlops", "rollout", "analyze", cwd=trial)
    assert no_traffic.returncode == 2
    assert short_error(no_traffic) == (
        f"Error: No logged traffic scored by challenger v2 of '{MODEL}' in serving.log_dataset "
        "'served_traffic': serve with `kedro mlops serve --rollout shadow` (or canary) and log "
        "predictions first."
    )
    fraction = venv.run(
        "kedro", "mlops", "serve", "--rollout", "canary", "--fraction", "1.5", cwd=trial
    )
    assert fraction.returncode == 2
    assert short_error(fraction) == (
        "Error: Invalid option --fraction 1.5: must be strictly between 0 and 1"
    )


def test_without_a_challenger_a_rollout_is_one_line(venv, project, tmp_path):
    path = tmp_path / "bar-demo"
    shutil.copytree(project, path, ignore=shutil.ignore_patterns("__pycache__", "served", "dist"))
    result = venv.run(
        "kedro", "mlops", "serve", "--rollout", "shadow", "--port", str(free_port()), cwd=path
    )
    assert result.returncode == 2
    line = short_error(result)
    assert line.startswith(
        f"Error: serving.rollout.mode is 'shadow' but its challenger cannot be loaded: model URI "
        f"'models:/{MODEL}@challenger' does not resolve at sqlite:///"
    ), line
    assert line.endswith(
        "A training run that does not beat the champion registers one, or `kedro mlops promote "
        "--alias challenger --version N`; or set serving.rollout.challenger_uri."
    ), line


@pytest.fixture(scope="module")
def server(venv, trial):
    """`kedro mlops serve --rollout shadow` on the trial project, checking aliases every second."""
    with serving(venv, trial, "--rollout", "shadow") as running:
        yield running.url
    log = (trial / "serve.log").read_text()
    assert "Traceback" not in log, log[-3000:]


def metadata(url: str) -> dict:
    return httpx.get(url + "/metadata").json()


def test_a_worse_challenger_is_rolled_back(venv, trial, server):
    """The stump, tried in the shadow of version 1 on 600 rows, 400 of them labelled later."""
    rollout = metadata(server)["rollout"]
    assert (rollout["mode"], rollout["challenger"]["version"]) == ("shadow", "2")
    first = customers(trial, 0, 600)
    sent = load(server + "/predict", bodies(first, 5), concurrency=8, requests=120, timeout=120)
    assert (sent.statuses, sent.failures) == ({200: 120}, [])
    wait_for(lambda: logged_rows(trial, "2") == 600, "600 rows logged with the challenger's")
    deliver_labels(trial, first.iloc[:400], "delivery-1")
    analyzed = venv.run("kedro", "mlops", "rollout", "analyze", "--apply", cwd=trial)
    assert analyzed.returncode == 4, analyzed.stderr[-3000:]
    assert re.fullmatch(
        r"rollback: challenger v2 vs champion v1 on 600 rows: roc_auc \S+ vs \S+ on 400 "
        r"labelled rows \(worse by \S+ > max_metric_drop 0\)\n",
        analyzed.stdout,
    ), analyzed.stdout
    assert f"{MODEL} v2 rolled back" in analyzed.stderr
    store = client(trial)
    assert "challenger" not in store.get_registered_model(MODEL).aliases
    tags = store.get_model_version(MODEL, "2").tags
    assert tags["mlops.rollout.decision"] == "rollback"
    assert tags["mlops.rollout.rejected"] == analyzed.stdout.strip()
    run = store.get_run(tags["mlops.rollout.run_id"])
    assert (run.data.metrics["rows"], run.data.metrics["labelled_rows"]) == (600, 400)
    wait_for(
        lambda: metadata(server)["rollout"]["challenger"] is None,
        "the server stops trying the rolled-back version",
        timeout=15,
    )


def test_a_better_challenger_is_promoted_under_load(venv, trial, server):
    """The stump made champion by hand, the good version 1 tried against it; promoted while 16
    clients keep asking: none fails, and the server answers with it within its interval."""
    venv.ok("kedro", "mlops", "promote", "--version", "2", cwd=trial)
    venv.ok("kedro", "mlops", "promote", "--alias", "challenger", "--version", "1", cwd=trial)
    wait_for(
        lambda: (
            (
                (meta := metadata(server))["model"]["version"],
                (meta["rollout"]["challenger"] or {}).get("version"),
            )
            == ("2", "1")
        ),
        "the server serves v2 and tries v1",
        timeout=30,
    )
    second = customers(trial, 600, 1200)
    sent = load(server + "/predict", bodies(second, 5), concurrency=8, requests=120, timeout=120)
    assert (sent.statuses, sent.failures) == ({200: 120}, [])
    wait_for(lambda: logged_rows(trial, "1") == 600, "600 rows logged with v1's answers")
    deliver_labels(trial, second.iloc[:400], "delivery-2")
    stop_load = threading.Event()
    results = []
    loader = threading.Thread(
        target=lambda: results.append(
            load(
                server + "/predict",
                bodies(customers(trial, 1200, 1400), 1),
                concurrency=16,
                stop=stop_load,
                read_version=True,
                timeout=180,
            )
        )
    )
    loader.start()
    try:
        analyzed = venv.run("kedro", "mlops", "rollout", "analyze", "--apply", cwd=trial)
        assert analyzed.returncode == 0, analyzed.stderr[-3000:]
        # the rows of the load running meanwhile count too
        assert re.match(
            r"promote: challenger v1 vs champion v2 on \d+ rows: roc_auc \S+ vs \S+ on 400 "
            r"labelled rows \(not worse by more than 0\); error rate 0.00%",
            analyzed.stdout,
        ), analyzed.stdout
        promoted_at = time.monotonic()
        wait_for(
            lambda: metadata(server)["model"]["version"] == "1",
            "the server answers with the promoted version",
            timeout=30,
        )
        print(f"promoted version answering {time.monotonic() - promoted_at:.1f} s after")
        time.sleep(1)  # answers keep coming from the promoted version
    finally:
        stop_load.set()
        loader.join(timeout=120)
    (run,) = results
    assert (run.failures, set(run.statuses)) == ([], {200})
    assert run.versions[0] == "2" and run.versions[-1] == "1"
    store = client(trial)
    assert version_of(trial, "champion") == "1"
    assert "challenger" not in store.get_registered_model(MODEL).aliases
    assert store.get_model_version(MODEL, "1").tags["mlops.rollout.decision"] == "promote"
    metrics = httpx.get(server + "/metrics").text
    assert 'kedro_mlops_model_rows_total{model_version="2"}' in metrics
    assert 'kedro_mlops_scoring_duration_seconds_count{model_version="1"}' in metrics


@pytest.fixture
def prometheus_bin() -> str:
    return required_tool("prometheus", "Debian: apt-get install prometheus")


def test_prometheus_scrapes_the_server_with_the_generated_rules(
    venv, trial, server, prometheus_bin, tmp_path
):
    """A real Prometheus scrapes the running `kedro mlops serve` with the alerting rules
    `kedro mlops deploy` wrote; a metric comes back by version through its HTTP API."""
    venv.ok("kedro", "mlops", "deploy", cwd=trial)
    rules = trial / "deploy" / "prometheus" / "rules.yml"
    port = free_port()
    target = server.removeprefix("http://")
    config = {
        "global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
        "rule_files": [str(rules)],
        "scrape_configs": [
            {"job_name": "bar-demo-serve", "static_configs": [{"targets": [target]}]}
        ],
    }
    (tmp_path / "prometheus.yml").write_text(json.dumps(config))
    process = subprocess.Popen(
        [prometheus_bin, f"--config.file={tmp_path / 'prometheus.yml'}",
         f"--storage.tsdb.path={tmp_path / 'data'}", f"--web.listen-address=127.0.0.1:{port}"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )  # fmt: skip
    api = f"http://127.0.0.1:{port}/api/v1"
    try:
        wait_ready(f"http://127.0.0.1:{port}/-/ready", process, timeout=60)
        sent = load(
            server + "/predict", bodies(customers(trial, 0, 50), 5), concurrency=2, requests=10
        )
        assert sent.statuses == {200: 10}

        def shares() -> list:
            query = {"query": "kedro_mlops_prediction_share"}
            return httpx.get(api + "/query", params=query, timeout=10).json()["data"]["result"]

        wait_for(lambda: len(shares()) > 0, "Prometheus has scraped the class shares", 60)
        versions = {result["metric"]["model_version"] for result in shares()}
        assert "1" in versions  # the champion, promoted by the test before
        groups = httpx.get(api + "/rules", timeout=10).json()["data"]["groups"]
        loaded = {rule["name"]: rule["health"] for group in groups for rule in group["rules"]}
        assert set(loaded) == {
            "KedroMlopsHighErrorRate",
            "KedroMlopsHighLatency",
            "KedroMlopsPredictionShareShift",
            "KedroMlopsNoTraffic",
        }
        wait_for(
            lambda: (
                {
                    rule["health"]
                    for group in httpx.get(api + "/rules", timeout=10).json()["data"]["groups"]
                    for rule in group["rules"]
                }
                == {"ok"}
            ),
            "every rule evaluated without error",
            30,
        )
    finally:
        stop(process)
