"""Model quality as a user meets it on the starter: batch predictions scored by the champion,
labels arriving in data/01_raw/ground_truth, `kedro mlops monitor --check batch_quality`, a
webhook alert per state change, the history, the dashboard."""

from __future__ import annotations

import json
import shutil
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pandas as pd
import pytest

pytestmark = pytest.mark.e2e


@pytest.fixture
def receiver():
    """A local webhook receiver: its port and the JSON bodies it was sent."""
    received: list[dict] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            received.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
            self.send_response(200)
            self.end_headers()

        def log_message(self, *_args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
    yield server.server_address[1], received
    server.shutdown()
    server.server_close()


def test_batch_quality_degraded_insufficient_then_recovered(venv, project, tmp_path, receiver):
    copy = tmp_path / "quality"
    # with its MLflow store: the registry's champion and its test metrics
    shutil.copytree(project, copy, ignore=shutil.ignore_patterns("__pycache__"))
    base = (copy / "conf" / "base" / "mlops.yml").read_text()
    hook = f"http://127.0.0.1:{receiver[0]}/hook"
    (copy / "conf" / "local" / "mlops.yml").write_text(
        base.replace("  model_uri: null\n", "  model_uri: models:/bar_demo@champion\n", 1).replace(
            "    webhooks: []\n", f"    webhooks:\n      - url: {hook}\n        format: slack\n", 1
        )
    )
    venv.ok("kedro", "run", "--pipeline", "serving", cwd=copy, offline=True)
    predictions = pd.read_csv(copy / "data" / "07_model_output" / "predictions.csv")
    (registered,) = set(predictions["model_registry"])
    assert registered.startswith("bar_demo/")
    labels_dir = copy / "data" / "01_raw" / "ground_truth"
    labels_dir.mkdir(parents=True, exist_ok=True)

    def deliver(name: str, rows: pd.DataFrame, *, wrong: bool) -> None:
        label = rows["prediction"] == "yes"
        label = ~label if wrong else label  # labels that contradict the model: it is worse
        pd.DataFrame(
            {"customer_id": rows["customer_id"], "label": label.map({True: "yes", False: "no"})}
        ).to_csv(labels_dir / f"{name}.csv", index=False)

    def monitor(*args: str):  # with a network: the alerts reach the local receiver
        return venv.run("kedro", "mlops", "monitor", *args, cwd=copy)

    half = predictions.iloc[: len(predictions) // 2]
    deliver("a", half, wrong=True)
    degraded = monitor("--check", "batch_quality", "--fail-on-alert")
    assert degraded.returncode == 1, degraded.stdout + degraded.stderr[-2000:]
    line = degraded.stdout.strip().splitlines()[-1]
    assert line.startswith(
        f"performance check 'batch_quality': DEGRADED (all, {len(half)}/{len(predictions)} rows "
        f"labelled): {registered} degraded: roc_auc"
    )
    assert "vs test" in line and "max_drop 0.05" in line

    (labels_dir / "a.csv").unlink()
    deliver("b", half.head(10), wrong=True)
    few = monitor("--check", "batch_quality", "--fail-on-alert")
    assert few.returncode == 0
    assert "INSUFFICIENT LABELS" in few.stdout and "10 labelled rows < min_labels 100" in few.stdout

    deliver("c", half, wrong=False)
    recovered = monitor("--check", "batch_quality", "--fail-on-alert")
    assert recovered.returncode == 0
    assert f"'batch_quality': OK (all, {len(half)}/" in recovered.stdout
    directory = sorted((copy / "data" / "08_reporting" / "drift" / "batch_quality").iterdir())[-1]
    summary = json.loads((directory / "summary.json").read_text())
    assert summary["versions"][0]["labelled_share"] == pytest.approx(0.5, abs=0.01)
    assert (directory / "report.html").exists()

    alerts = [body["text"] for body in receiver[1]]  # one per state change, none repeated
    assert len(alerts) == 2, alerts
    assert alerts[0].startswith("kedro-mlops: performance check 'batch_quality' is degraded: ")
    assert alerts[1].startswith(
        "kedro-mlops: performance check 'batch_quality' recovered: ok (was degraded): "
    )

    timeline = monitor("--history", "--check", "batch_quality")
    lines = timeline.stdout.strip().splitlines()
    assert [entry.split()[2] for entry in lines] == ["degraded", "insufficient_labels", "ok"]
    drawn = monitor("--dashboard")
    page = copy / "data" / "08_reporting" / "monitoring" / "dashboard.html"
    assert drawn.stdout.strip().endswith(str(page))
    html = page.read_text()
    assert f'data-series="quality:batch_quality:{registered}"' in html
    assert 'data-series="drift_share:production_batch"' in html  # the kedro run's drift check
