"""Shadow rollout overhead (``python benchmarks/serving.py --rollout``): the same server build,
``kedro mlops serve`` with ``serving.rollout.mode`` none and shadow, 1-row requests at concurrency
16, arms alternated (none, shadow, none, shadow, ...) so that both see the machine in the same
states. Goal: shadow's p50 and p99 within 1.25x of none's.

The challenger is a second registry version of the champion's own logged model: a challenger as
costly to score as the champion (the usual case: a retrained model of the same kind). After each
shadow arm the inference log is read back: every answered row must hold the challenger's prediction.
"""

from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path

from benchmarks.serving import (
    Load,
    _environment,
    _free_port,
    _package_name,
    _start,
    load,
    stop,
    wait_ready,
)

SERVED = Path("data/07_model_output/served")


def _challenger(project: Path) -> str:
    """Register the champion's model again and give that version the ``challenger`` alias."""
    import mlflow  # noqa: PLC0415

    # registering a logged model's source looks it up in the current tracking store
    mlflow.set_tracking_uri(_environment(project)["MLFLOW_TRACKING_URI"])
    client = mlflow.MlflowClient()
    name = _package_name(project)
    champion = client.get_model_version_by_alias(name, "champion")
    version = client.create_model_version(name, champion.source, champion.run_id)
    client.set_registered_model_alias(name, "challenger", str(version.version))
    return str(version.version)


def _logged(project: Path) -> tuple[int, int]:
    """Rows in the inference log, and those holding the challenger's prediction."""
    import pandas as pd  # noqa: PLC0415

    frames = [pd.read_csv(path) for path in sorted((project / SERVED).glob("*.csv"))]
    if not frames:
        return 0, 0
    rows = pd.concat(frames)
    if "challenger_prediction" not in rows.columns:
        return len(rows), 0
    return len(rows), int(rows["challenger_prediction"].notna().sum())


def _arm(project: Path, scratch: Path, mode: str, bodies: list[bytes], seconds: float) -> Load:
    shutil.rmtree(project / SERVED, ignore_errors=True)
    port = _free_port()
    command = [
        str(Path(sys.executable).parent / "kedro"), "mlops", "serve", "--port", str(port),
        "--reload-interval", "0", "--rollout", mode,
    ]  # fmt: skip
    log = scratch / f"rollout-{mode}.log"
    process = _start(command, project, log)
    try:
        url = f"http://127.0.0.1:{port}"
        try:
            wait_ready(url + "/ready", process)
        except RuntimeError:
            sys.exit(f"kedro mlops serve --rollout {mode} exited:\n{log.read_text()[-3000:]}")
        load(url + "/predict", bodies, concurrency=16, seconds=3)  # warm-up
        run = load(url + "/predict", bodies, concurrency=16, seconds=seconds)
    finally:
        stop(process)  # SIGTERM: the shadow worker and the log flush what they hold
    if run.failures or set(run.statuses) - {200}:
        sys.exit(f"{mode}: {run.statuses} {run.failures[:3]}")
    return run


def rollout_benchmark(
    project: Path, scratch: Path, args: argparse.Namespace, bodies: list[bytes]
) -> None:
    """Alternate none and shadow arms ``args.rounds`` times; print p50/p99 and their ratios."""
    version = _challenger(project)
    runs: dict[str, list[Load]] = {"none": [], "shadow": []}
    logged = []
    for _ in range(args.rounds):
        for mode, arms in runs.items():
            arms.append(_arm(project, scratch, mode, bodies, args.seconds))
            if mode == "shadow":
                logged.append(_logged(project))
    ms = 1000

    def pooled(mode: str, q: float) -> float:
        latencies = sorted(x for run in runs[mode] for x in run.latencies)
        return latencies[min(len(latencies) - 1, int(q * len(latencies)))] * ms

    print(f"challenger: version {version} (the champion's model registered again)")
    for mode, arms in runs.items():
        rps = ", ".join(f"{run.rps:.0f}" for run in arms)
        print(
            f"{mode:>7}: p50 {pooled(mode, 0.5):.1f} ms, p99 {pooled(mode, 0.99):.1f} ms "
            f"({sum(len(r.latencies) for r in arms)} requests; requests/s per round: {rps})"
        )
    p50 = pooled("shadow", 0.5) / pooled("none", 0.5)
    p99 = pooled("shadow", 0.99) / pooled("none", 0.99)
    print(f"shadow vs none, 1 row, c=16: p50 {p50:.2f}x, p99 {p99:.2f}x (goal <= 1.25x)")
    for rows, scored in logged:
        print(f"shadow log: {scored} of {rows} rows hold the challenger's prediction")
    print(f"command: python benchmarks/serving.py {' '.join(sys.argv[1:])}".rstrip())
