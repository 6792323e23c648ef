"""Labels through the server, as a user's systems would send them: `kedro mlops serve` answers,
`POST /feedback` brings the labels later, `kedro mlops monitor --check served_quality` judges the
version that answered: too few labels, then degraded (an alert), then a later good version
recovers the check (an alert saying so)."""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path

import httpx
import mlflow
import pandas as pd
import pytest

from tests.e2e.conftest import serving
from tests.e2e.test_monitoring_quality import receiver  # noqa: F401 - a fixture
from tests.e2e.test_serve import MODEL, ROW_TYPES

CUSTOMERS = Path("data/01_raw/customers.csv")
SERVED = Path("data/07_model_output/served")
LABELS = Path("data/01_raw/ground_truth")


def logged(path: Path) -> pd.DataFrame:
    files = sorted((path / SERVED).glob("*.csv"))
    return pd.concat([pd.read_csv(f) for f in files]) if files else pd.DataFrame()


def wait_for(condition, what: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"not within {timeout} s: {what}"
        time.sleep(0.25)


@pytest.fixture
def served_project(venv, project, tmp_path, receiver):  # noqa: F811 - the imported fixture
    """A copy of the project with a webhook to the local receiver, served with a 1 s reload."""
    path = tmp_path / "bar-demo"
    shutil.copytree(project, path, ignore=shutil.ignore_patterns("__pycache__", "served", "dist"))
    base = (path / "conf" / "base" / "mlops.yml").read_text()
    hook = f"http://127.0.0.1:{receiver[0]}/hook"
    (path / "conf" / "local" / "mlops.yml").write_text(
        base.replace(
            "    webhooks: []\n", f"    webhooks:\n      - url: {hook}\n        format: slack\n", 1
        )
    )
    with serving(venv, path) as running:
        yield path, running.url, receiver[1]


def ask(url: str, rows: pd.DataFrame) -> list[dict]:
    """/predict, 10 rows a request; the answers in order."""
    records = json.loads(rows[list(ROW_TYPES)].to_json(orient="records"))
    answers = []
    for start in range(0, len(records), 10):
        response = httpx.post(url + "/predict", json=records[start : start + 10], timeout=60)
        assert response.status_code == 200, response.text
        answers.extend(response.json()["predictions"])
    return answers


def feedback(url: str, answers: list[dict], *, wrong: bool) -> None:
    """Labels for answered rows: the opposite of each prediction (the model is wrong on them) or
    the prediction itself."""
    flip = {"yes": "no", "no": "yes"}
    labels = [
        {
            "customer_id": a["customer_id"],
            "label": flip[a["prediction"]] if wrong else a["prediction"],
        }
        for a in answers
    ]
    response = httpx.post(url + "/feedback", json=labels, timeout=60)
    assert (response.status_code, response.json()) == (202, {"accepted": len(labels)})


def test_labels_through_the_server_degrade_then_a_later_version_recovers(venv, served_project):
    path, url, alerts = served_project

    def quality():
        return venv.run("kedro", "mlops", "monitor", "--check", "served_quality", cwd=path)

    def labelled() -> int:
        files = sorted((path / LABELS).glob("*.csv"))
        return sum(len(pd.read_csv(f)) for f in files)

    customers = pd.read_csv(path / CUSTOMERS)
    first = ask(url, customers.iloc[:400])
    assert {a.get("model_version") for a in first} == {None}  # no rollout: the model brief says
    wait_for(lambda: len(logged(path)) == 400, "the 400 answered rows logged")

    feedback(url, first[:10], wrong=True)
    wait_for(lambda: labelled() == 10, "10 labels written")
    few = quality()
    assert few.returncode == 0, few.stderr[-3000:]
    assert "INSUFFICIENT LABELS" in few.stdout and "10 labelled rows < min_labels 100" in few.stdout

    feedback(url, first[10:200], wrong=True)
    wait_for(lambda: labelled() == 200, "200 labels written")
    degraded = quality()
    line = degraded.stdout.strip().splitlines()[-1]
    assert line.startswith(
        "performance check 'served_quality': DEGRADED (7d, 200/400 rows labelled): "
        f"{MODEL}/1 degraded: roc_auc"
    ), line
    assert "vs test" in line and "max_drop 0.05" in line  # the metric, its interval, baseline

    # a later version answers (the champion's model registered again, promoted: hot-swapped)
    store = mlflow.MlflowClient(f"sqlite:///{path / 'mlflow.db'}")
    mlflow.set_tracking_uri(f"sqlite:///{path / 'mlflow.db'}")  # reset after the test
    champion = store.get_model_version_by_alias(MODEL, "champion")
    later = store.create_model_version(MODEL, champion.source, champion.run_id)
    venv.ok("kedro", "mlops", "promote", "--version", str(later.version), cwd=path)
    wait_for(
        lambda: httpx.get(url + "/metadata").json()["model"]["version"] == str(later.version),
        "the server answers with the later version",
    )
    second = ask(url, customers.iloc[400:800])
    wait_for(lambda: len(logged(path)) == 800, "the 400 later rows logged")
    feedback(url, second[:200], wrong=False)
    wait_for(lambda: labelled() == 400, "400 labels written")
    recovered = quality()
    line = recovered.stdout.strip().splitlines()[-1]
    assert line.startswith("performance check 'served_quality': OK (7d, 400/800 rows labelled)")
    assert f"{MODEL}/1 degraded" in line  # the older version's rows still say so

    texts = [body["text"] for body in alerts]
    assert len(texts) == 2, texts  # one per state change, none repeated
    assert texts[0].startswith("kedro-mlops: performance check 'served_quality' is degraded: ")
    assert texts[1].startswith(
        "kedro-mlops: performance check 'served_quality' recovered: ok (was degraded): "
    )
