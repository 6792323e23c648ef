"""Drift check speed and memory vs a plain scipy implementation of the same tests.

For 10k, 100k and 1M rows x 13 columns (10 numerical, 3 categorical; 3 of them drifted), in one
process:
- ``check``: kedro-mlops's check (verdicts + JSON summary + MLflow logging; HTML excluded);
- ``scipy``: the same tests written directly with scipy (Wasserstein distance normed by the
  reference's standard deviation, Jensen-Shannon distance of category frequencies);
- ``preset``: Evidently's ``DataDriftPreset`` report (``--preset-max-rows`` caps it: 42 s at 1M);
- the HTML report built from the capped sample (50,000 rows a frame).
Verdicts of the three are printed side by side. Peak memory at the largest size is measured with
tracemalloc (numpy reports its buffers to it) against the two frames' in-memory size.

    python benchmarks/drift.py [--sizes 10000 100000 1000000] [--repeats 3]
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
import tracemalloc
from pathlib import Path

import mlflow
import numpy as np
import pandas as pd
from scipy import stats
from scipy.spatial import distance

from kedro_mlops.monitoring import Methods, run_check, write_outputs
from kedro_mlops.monitoring.check import log_to_mlflow
from kedro_mlops.monitoring.report import HtmlInputs

NUMERICAL = [f"num_{i}" for i in range(10)]
CATEGORICAL = [f"cat_{i}" for i in range(3)]
KINDS = {**dict.fromkeys(NUMERICAL, "numerical"), **dict.fromkeys(CATEGORICAL, "categorical")}
DRIFTED = {"num_0", "num_1", "cat_0"}


def make_frames(rows: int, seed: int = 0) -> tuple[pd.DataFrame, pd.DataFrame]:
    rng = np.random.default_rng(seed)

    def frame(shifted: bool) -> pd.DataFrame:
        data = {}
        for i, column in enumerate(NUMERICAL):
            shift = 0.5 if shifted and column in DRIFTED else 0.0
            scale = 1.5 if shifted and column == "num_1" else 1.0
            data[column] = rng.normal(10 + i + shift, scale, rows)
        for column in CATEGORICAL:
            p = [0.6, 0.2, 0.1, 0.1] if shifted and column in DRIFTED else [0.25] * 4
            data[column] = rng.choice(["a", "b", "c", "d"], rows, p=p)
        result = pd.DataFrame(data)
        result.loc[rng.random(rows) < 0.02, "num_2"] = np.nan
        return result

    return frame(False), frame(True)


def scipy_check(reference: pd.DataFrame, current: pd.DataFrame) -> dict[str, bool]:
    """The same tests, by hand: what a user without Evidently would write."""
    verdicts = {}
    for column in NUMERICAL:
        ref = reference[column].dropna().to_numpy()
        cur = current[column].dropna().to_numpy()
        score = stats.wasserstein_distance(ref, cur) / max(np.std(ref), 0.001)
        verdicts[column] = bool(score >= 0.1)
    for column in CATEGORICAL:
        ref_counts = reference[column].value_counts(normalize=True)
        cur_counts = current[column].value_counts(normalize=True)
        keys = ref_counts.index.union(cur_counts.index)
        ref_p = ref_counts.reindex(keys, fill_value=0.0001).to_numpy()
        cur_p = cur_counts.reindex(keys, fill_value=0.0001).to_numpy()
        verdicts[column] = bool(distance.jensenshannon(ref_p, cur_p) >= 0.1)
    return verdicts


def preset_check(reference: pd.DataFrame, current: pd.DataFrame) -> dict[str, bool]:
    from evidently import DataDefinition, Dataset, Report  # noqa: PLC0415
    from evidently.presets import DataDriftPreset  # noqa: PLC0415

    definition = DataDefinition(numerical_columns=NUMERICAL, categorical_columns=CATEGORICAL)
    snapshot = (
        Report([DataDriftPreset(columns=list(KINDS))], include_tests=True)
        .run(
            Dataset.from_pandas(current, data_definition=definition),
            Dataset.from_pandas(reference, data_definition=definition),
        )
        .dict()
    )
    return {
        t["metric_config"]["params"]["column"]: t["status"] == "FAIL"
        for t in snapshot["tests"]
        if t["metric_config"]["params"]["type"].endswith("ValueDrift")
    }


def our_check(reference: pd.DataFrame, current: pd.DataFrame, workdir: Path) -> dict[str, bool]:
    result = run_check("bench", reference, current, dict(KINDS))
    paths = write_outputs(result, workdir / "out", html_inputs=None)
    client = mlflow.MlflowClient()
    run = client.create_run("0")
    log_to_mlflow(run.info.run_id, result, paths)
    return {c.column: c.drifted for c in result.columns}


def timed(function, *args, repeats: int) -> tuple[float, object]:
    times, value = [], None
    for _ in range(repeats):
        started = time.perf_counter()
        value = function(*args)
        times.append(time.perf_counter() - started)
    return statistics.median(times), value


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--preset-max-rows", type=int, default=1_000_000)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        mlflow.set_tracking_uri(f"sqlite:///{workdir / 'mlflow.db'}")
        warm_ref, warm_cur = make_frames(2000)
        our_check(warm_ref, warm_cur, workdir)  # imports (evidently 2.6 s) and store creation
        print(
            "rows       check    scipy    ratio   preset   html(50k)  verdicts (check/scipy/preset)"
        )
        for rows in args.sizes:
            reference, current = make_frames(rows)
            check_s, ours = timed(our_check, reference, current, workdir, repeats=args.repeats)
            scipy_s, plain = timed(scipy_check, reference, current, repeats=args.repeats)
            preset_s, preset = (
                timed(preset_check, reference, current, repeats=1)
                if rows <= args.preset_max_rows
                else (float("nan"), None)
            )
            result = run_check("bench", reference, current, dict(KINDS))
            started = time.perf_counter()
            write_outputs(
                result,
                workdir / "html",
                html_inputs=HtmlInputs(reference, current, dict(KINDS), Methods(), 50_000),
            )
            html_s = time.perf_counter() - started
            agree = "identical" if ours == plain == (preset or ours) else "DIFFER"
            drifted = sorted(column for column, value in ours.items() if value)
            print(
                f"{rows:>9,}  {check_s:6.2f}s  {scipy_s:6.2f}s  {check_s / scipy_s:5.2f}x  "
                f"{preset_s:6.2f}s  {html_s:6.2f}s    {agree}: drifted {drifted}"
            )
            if agree != "identical":
                print(json.dumps({"check": ours, "scipy": plain, "preset": preset}, indent=1))

        rows = max(args.sizes)
        reference, current = make_frames(rows)
        frames_bytes = int(
            reference.memory_usage(deep=True).sum() + current.memory_usage(deep=True).sum()
        )
        tracemalloc.start()
        our_check(reference, current, workdir)
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        print(
            f"peak memory at {rows:,} rows: frames {frames_bytes / 2**20:.0f} MiB + check "
            f"{peak / 2**20:.0f} MiB = {(frames_bytes + peak) / frames_bytes:.2f}x the frames"
        )


if __name__ == "__main__":
    main()
