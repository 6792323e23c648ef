"""What tracking costs a `kedro run` of the starter project.

Arms, each a copy of one freshly generated project, run interleaved:
- ``none``:   kedro-mlops and kedro-mlflow hooks disabled (``DISABLE_HOOKS_FOR_PLUGINS``);
- ``mlflow``: kedro-mlflow's hook alone;
- ``all``:    both active (the default): kedro-mlflow + kedro-mlops lineage and registry gate.

Every arm records into its own SQLite store given by ``MLFLOW_TRACKING_URI`` (without kedro-mlops
nothing else points kedro-mlflow at a store MLflow 3.17 accepts). Prints the median wall time of
N runs per arm (after one warm-up each) and the ratios.

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
ARMS = {
    "none": '("kedro-mlops", "kedro_mlflow")',
    "mlflow": '("kedro-mlops",)',
    "all": "()",
}


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
    for arm, disabled in ARMS.items():
        path = workdir / f"bench-{arm}"
        shutil.copytree(template, path)
        settings = path / "src" / "bench" / "settings.py"
        settings.write_text(settings.read_text() + f"\nDISABLE_HOOKS_FOR_PLUGINS = {disabled}\n")
        arms[arm] = path
    return arms


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
            for arm, path in arms.items():  # interleaved, so noise hits both arms alike
                times[arm].append(kedro("run", cwd=path))
    medians = {arm: statistics.median(values) for arm, values in times.items()}
    print(f"kedro run of the starter project, median of {runs} runs")
    for arm, values in times.items():
        spread = ", ".join(f"{value:.2f}" for value in values)
        print(f"  {arm:<5} {medians[arm]:6.2f} s   [{spread}]")
    for arm, anchor in (("all", "none"), ("mlflow", "none"), ("all", "mlflow")):
        print(
            f"  {arm}/{anchor}: {medians[arm] / medians[anchor]:.2f}x "
            f"({medians[arm] - medians[anchor]:+.2f} s)"
        )


if __name__ == "__main__":
    main()
