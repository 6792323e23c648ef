"""Monitoring history: `kedro mlops monitor --history` and `--dashboard` over 1,000 stored check
runs, whole commands, against the anchor every `kedro` command pays.

In a fresh starter project (``kedro new --starter=mlops``, offline), ``--runs`` check runs are
stored in its monitoring history (alternately a drift check with 10 columns and a performance
check of two model versions, an hour apart, written with the history's own ``append``), then,
``--repeats`` times each, in one process after the other:
- ``kedro --version``: Kedro and its plugins start, no kedro-mlops work (the anchor);
- ``kedro mlops monitor --history``: every run printed as one line;
- ``kedro mlops monitor --dashboard``: the self-contained HTML page written;
- in process: the reading and drawing alone (``history.timeline``, ``dashboard.page``).
Medians, the machine's load average beside them (the figures move with it).

    python benchmarks/history.py [--runs 1000] [--repeats 5]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

from kedro_mlops.monitoring import history
from kedro_mlops.monitoring.check import CheckResult
from kedro_mlops.monitoring.dashboard import page
from kedro_mlops.monitoring.drift import ColumnDrift
from kedro_mlops.monitoring.performance import PerformanceResult, VersionQuality

BIN = Path(sys.executable).parent
COLUMNS = [f"feature_{number}" for number in range(10)]
HISTORY = Path("data/08_reporting/monitoring/history.jsonl")  # the starter's monitoring.history


def _drift(number: int) -> CheckResult:
    drifted = set(COLUMNS[number % 4 : number % 4 + 3]) if number % 3 else set()
    columns = [
        ColumnDrift(
            column=name,
            kind="numerical",
            role="feature",
            method="wasserstein",
            method_name="Wasserstein distance (normed)",
            score=0.05 + 0.01 * (index + number % 7),
            threshold=0.1,
            drifted=name in drifted,
        )
        for index, name in enumerate(COLUMNS)
    ]
    return CheckResult(
        name="production_batch",
        status="drift" if drifted else "no_drift",
        drift_share=len(drifted) / len(COLUMNS),
        dataset_drift=bool(drifted),
        columns=columns,
    )


def _quality(number: int) -> PerformanceResult:
    versions = [
        VersionQuality(
            version=f"churn/{version}",
            rows=2000,
            labelled=200 + number % 800,
            status="ok" if version == 2 else "degraded",
            metric="roc_auc",
            value=0.84 - (0.0 if version == 2 else 0.1) - 0.001 * (number % 10),
            baseline=0.84,
            drop=0.1 if version == 1 else 0.0,
            interval=(0.73, 0.75) if version == 1 else (0.83, 0.85),
            metrics={name: 0.5 for name in ("precision", "recall", "f1", "log_loss", "brier")},
            baselines={"roc_auc": 0.84},
            label_delay_hours=36.0,
        )
        for version in (1, 2)
    ]
    return PerformanceResult(
        name="served_quality", status="degraded", metric="roc_auc", versions=versions
    )


def store(path: Path, runs: int) -> None:
    """``runs`` check runs an hour apart, ending now."""
    start = datetime.now(timezone.utc) - timedelta(hours=runs)
    for number in range(runs):
        entry = history.entry_of(_drift(number) if number % 2 else _quality(number))
        at = (start + timedelta(hours=number)).isoformat(timespec="seconds")
        history.append(
            path, history.Entry(at, entry.check, entry.kind, entry.status, entry.figures)
        )


def whole(command: list[str], cwd: Path, repeats: int) -> float:
    """The median wall time of ``command`` (it must succeed)."""
    times = []
    env = {**os.environ, "KEDRO_DISABLE_TELEMETRY": "1"}
    for _ in range(repeats):
        started = time.perf_counter()
        subprocess.run(command, cwd=cwd, env=env, check=True, capture_output=True)
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def in_process(project: Path, repeats: int) -> tuple[float, float]:
    path = project / HISTORY
    timings: dict[str, list[float]] = {"history": [], "dashboard": []}
    for _ in range(repeats):
        started = time.perf_counter()
        history.timeline(path)
        timings["history"].append(time.perf_counter() - started)
        started = time.perf_counter()
        page(history.read(path), str(HISTORY))
        timings["dashboard"].append(time.perf_counter() - started)
    return statistics.median(timings["history"]), statistics.median(timings["dashboard"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=1000)
    parser.add_argument("--repeats", type=int, default=5)
    options = parser.parse_args()
    kedro = str(BIN / "kedro")
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        subprocess.run(
            [kedro, "new", "--starter=mlops", "--name", "bench"],
            cwd=work, check=True, capture_output=True,
        )  # fmt: skip
        project = work / "bench"
        store(project / HISTORY, options.runs)
        size = (project / HISTORY).stat().st_size
        load = os.getloadavg()[0]
        anchor = whole([kedro, "--version"], project, options.repeats)
        timeline = whole([kedro, "mlops", "monitor", "--history"], project, options.repeats)
        drawn = whole([kedro, "mlops", "monitor", "--dashboard"], project, options.repeats)
        own_history, own_dashboard = in_process(project, options.repeats)
        dashboard = project / "data/08_reporting/monitoring/dashboard.html"
        load_after = os.getloadavg()[0]
        print(
            f"{options.runs} stored check runs ({size / 1024:.0f} KB history, "
            f"{dashboard.stat().st_size / 1024:.0f} KB page); load average "
            f"{load:.1f} -> {load_after:.1f}; medians of {options.repeats}"
        )
    print(f"{'':34} {'whole command':>14} {'in process, warm':>17}")
    print(f"{'kedro --version (the anchor)':34} {anchor:>12.2f} s")
    print(f"{'kedro mlops monitor --history':34} {timeline:>12.2f} s {own_history:>15.2f} s")
    print(f"{'kedro mlops monitor --dashboard':34} {drawn:>12.2f} s {own_dashboard:>15.2f} s")
    print(
        f"beyond the anchor: --history +{timeline - anchor:.2f} s, "
        f"--dashboard +{drawn - anchor:.2f} s (goal: each whole command < 3 s)"
    )


if __name__ == "__main__":
    main()
