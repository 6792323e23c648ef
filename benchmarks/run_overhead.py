"""What tracking and monitoring cost a `kedro run` of the starter project, part by part.

Arms, each a copy of one freshly generated project, run interleaved:
- ``none``:     kedro-mlops and kedro-mlflow hooks disabled (``DISABLE_HOOKS_FOR_PLUGINS``);
- ``mlflow``:   kedro-mlflow's hook alone;
- ``tracking``: both, drift monitoring off: kedro-mlops lineage and the registry gate;
- ``verdicts``: + the drift checks' verdicts, summaries and MLflow metrics, no HTML report;
- ``all``:      + Evidently's HTML report (the default configuration).

After every run of ``all`` the benchmark checks that the run's HTML report is on disk and in the
MLflow run when the command has returned. Every arm records into its own SQLite store given by
``MLFLOW_TRACKING_URI`` (without kedro-mlops nothing else points kedro-mlflow at a store MLflow
3.17 accepts). Prints the median wall time of N runs per arm (after one warm-up each), the
ratios to the bare run and what each part adds.

    python benchmarks/run_overhead.py [--runs 5]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BIN = Path(sys.executable).parent
# arm -> (plugins whose hooks are disabled, conf/local/mlops.yml)
ARMS = {
    "none": ('("kedro-mlops", "kedro_mlflow")', ""),
    "mlflow": ('("kedro-mlops",)', ""),
    "tracking": ("()", "monitoring:\n  enabled: false\n"),
    "verdicts": ("()", "monitoring:\n  html: false\n"),
    "all": ("()", ""),
}
PARTS = (
    ("kedro-mlflow", "mlflow", "none"),
    ("kedro-mlops lineage + registry gate", "tracking", "mlflow"),
    ("drift verdicts (summary, metrics)", "verdicts", "tracking"),
    ("HTML report", "all", "verdicts"),
)


def kedro(*args: str, cwd: Path) -> float:
    env = {
        **os.environ,
        "KEDRO_DISABLE_TELEMETRY": "1",
        "MLFLOW_TRACKING_URI": f"sqlite:///{cwd / 'mlflow.db'}",
    }
    start = time.perf_counter()
    subprocess.run([str(BIN / "kedro"), *args], cwd=cwd, env=env, check=True, capture_output=True)
    return time.perf_counter() - start


def make_arms(workdir: Path) -> dict[str, Path]:
    kedro("new", "--starter=mlops", "--name", "Bench", cwd=workdir)
    template = workdir / "bench"
    arms = {}
    for arm, (disabled, local) in ARMS.items():
        path = workdir / f"bench-{arm}"
        shutil.copytree(template, path)
        settings = path / "src" / "bench" / "settings.py"
        settings.write_text(settings.read_text() + f"\nDISABLE_HOOKS_FOR_PLUGINS = {disabled}\n")
        if local:
            (path / "conf" / "local" / "mlops.yml").write_text(local)
        arms[arm] = path
    return arms


def check_report(project: Path) -> None:
    """The newest drift check of ``project`` has its HTML report on disk and in its MLflow run."""
    from mlflow.tracking import MlflowClient  # noqa: PLC0415 - only for this check

    latest = sorted((project / "data" / "08_reporting" / "drift" / "production_batch").iterdir())
    report = latest[-1] / "report.html"
    if not report.exists() or report.stat().st_size < 100_000:
        raise SystemExit(f"no HTML report on disk when `kedro run` returned: {report}")
    client = MlflowClient(f"sqlite:///{project / 'mlflow.db'}")
    experiment = client.get_experiment_by_name("bench")
    (run,) = client.search_runs(
        [experiment.experiment_id], order_by=["attributes.start_time DESC"], max_results=1
    )
    logged = {
        item.path for item in client.list_artifacts(run.info.run_id, "drift/production_batch")
    }
    if "drift/production_batch/report.html" not in logged:
        raise SystemExit(f"no HTML report in the MLflow run when `kedro run` returned: {logged}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    runs = parser.parse_args().runs
    with tempfile.TemporaryDirectory() as tmp:
        arms = make_arms(Path(tmp))
        for path in arms.values():  # warm-up: caches, first database creation
            kedro("run", cwd=path)
        times: dict[str, list[float]] = {arm: [] for arm in arms}
        for _ in range(runs):
            for arm, path in arms.items():  # interleaved, so noise hits every arm alike
                times[arm].append(kedro("run", cwd=path))
                if arm == "all":
                    check_report(path)
    medians = {arm: statistics.median(values) for arm, values in times.items()}
    print(f"kedro run of the starter project, median of {runs} interleaved runs per arm")
    for arm, values in times.items():
        spread = ", ".join(f"{value:.2f}" for value in values)
        ratio = medians[arm] / medians["none"]
        print(f"  {arm:<8} {medians[arm]:6.2f} s  {ratio:4.2f}x   [{spread}]")
    print("what each part adds (difference of medians)")
    for part, arm, anchor in PARTS:
        print(f"  {part:<38} {medians[arm] - medians[anchor]:+6.2f} s")
    print(f"  all / none: {medians['all'] / medians['none']:.2f}x (goal <= 1.4x)")


if __name__ == "__main__":
    main()
