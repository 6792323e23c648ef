"""The Spark engine vs the pandas engine: data engineering + drift check, time and peak memory.

The starter's data (12,000 customers, 3,000 in the production batch) is replicated by Spark to
``--rows`` raw rows and ``--rows / 5`` batch rows, with new ids (CSV files, like the starter's).
Each engine then runs, in a process of its own, what its generated project's nodes do on the
default pipeline up to the drift check: validate, clean, build features, split, snapshot the
reference, prepare the production batch and run the `production_batch` drift check (features).
The Spark side persists what its catalog persists (Parquet); the pandas side keeps frames in
memory (its project writes Parquet too: a lower bound for pandas).

Peak memory is the largest resident set of the engine's process tree (for Spark: the Python
driver, the JVM and the Python workers), sampled every 0.1 s with psutil.

    python benchmarks/spark.py [--rows 10000000 100000] [--memory-limit-gib 12]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ENGINES = ("pandas", "spark")
BATCH_SHARE = 5  # the production batch has rows / BATCH_SHARE rows


def make_projects(directory: Path) -> dict[str, Path]:
    """A pandas and a Spark project generated from the starter."""
    projects = {}
    for engine in ENGINES:
        config = directory / f"{engine}.yml"
        config.write_text(f"project_name: Bench {engine}\nengine: {engine}\nci: none\n")
        subprocess.run(
            [sys.executable, "-m", "kedro", "new", "--starter=mlops", "--config", str(config)],
            cwd=directory,
            check=True,
            capture_output=True,
            env={**os.environ, "KEDRO_DISABLE_TELEMETRY": "1"},
        )
        projects[engine] = directory / f"bench-{engine}"
    return projects


def spark_session(project: Path, cores: int = 2):
    sys.path.insert(0, str(project / "src"))
    from bench_spark.hooks import local_session  # noqa: PLC0415
    from bench_spark.settings import CONFIG_LOADER_ARGS  # noqa: PLC0415
    from kedro.config import OmegaConfigLoader  # noqa: PLC0415

    loader = OmegaConfigLoader(conf_source=str(project / "conf"), **CONFIG_LOADER_ARGS)
    return local_session({**loader["spark"], "spark.master": f"local[{cores}]"})


def make_data(project: Path, rows: int, directory: Path) -> dict[str, Path]:
    """The starter's raw files replicated to ``rows`` (and ``rows / 5``) rows, as single CSVs."""
    from pyspark.sql import functions as F  # noqa: PLC0415

    spark = spark_session(project)
    files = {}
    for name, count in (("customers", rows), ("production_batch", rows // BATCH_SHARE)):
        source = spark.read.csv(str(project / "data" / "01_raw" / f"{name}.csv"), header=True)
        size = source.count()
        copies = spark.range(-(-count // size)).withColumnRenamed("id", "copy")
        table = (
            source.crossJoin(copies)
            .withColumn(
                "customer_id",
                (F.col("customer_id").cast("long") + F.col("copy") * 10_000_000).cast("string"),
            )
            .drop("copy")
            .limit(count)
        )
        folder = directory / f"{name}.csvdir"
        table.coalesce(1).write.mode("overwrite").csv(str(folder), header=True)
        (part,) = folder.glob("part-*.csv")
        files[name] = part.rename(directory / f"{name}.csv")
    spark.stop()
    return files


def run_pandas(project: Path, files: dict[str, str]) -> dict:
    import pandas as pd  # noqa: PLC0415

    sys.path.insert(0, str(project / "src"))
    from bench_pandas.features import build_features  # noqa: PLC0415
    from bench_pandas.pipelines.data_engineering import nodes  # noqa: PLC0415
    from bench_pandas.pipelines.serving.nodes import prepare_batch  # noqa: PLC0415
    from bench_pandas.settings import CONFIG_LOADER_ARGS  # noqa: PLC0415
    from kedro.config import OmegaConfigLoader  # noqa: PLC0415

    from kedro_mlops.monitoring import run_check  # noqa: PLC0415

    loader = OmegaConfigLoader(conf_source=str(project / "conf"), **CONFIG_LOADER_ARGS)
    params = loader["parameters"]
    dataset, features = params["dataset"], params["features"]
    started = time.perf_counter()
    raw = pd.read_csv(files["customers"])
    clean = nodes.clean_data(nodes.validate_data(raw, dataset, params["validation"]), dataset)
    del raw
    built = build_features(clean, dataset, features)
    del clean
    train, _test = nodes.split_data(built, dataset, params["split"])
    del built
    reference = nodes.snapshot_reference(train, dataset, features)
    del train
    current = prepare_batch(
        pd.read_csv(files["production_batch"]), dataset, features, params["serving"]
    )
    kinds = {c: "numerical" for c in dataset["numeric_features"]}
    kinds.update({c: "categorical" for c in dataset["categorical_features"]})
    result = run_check(
        "production_batch", reference, current, kinds, drift_share=0.2, explicit=frozenset(kinds)
    )
    return {
        "seconds": time.perf_counter() - started,
        "verdict": result.status,
        "drifted": result.drifted_columns,
        "rows": result.rows,
    }


def run_spark(project: Path, files: dict[str, str], work: Path) -> dict:
    from kedro.config import OmegaConfigLoader  # noqa: PLC0415

    spark = spark_session(project)
    from bench_spark.pipelines.data_engineering import nodes  # noqa: PLC0415
    from bench_spark.pipelines.serving.nodes import prepare_table  # noqa: PLC0415
    from bench_spark.settings import CONFIG_LOADER_ARGS  # noqa: PLC0415

    from kedro_mlops.monitoring.drift import Methods  # noqa: PLC0415
    from kedro_mlops.monitoring.spark_check import feature_verdicts, prepare_features  # noqa: PLC0415

    params = OmegaConfigLoader(conf_source=str(project / "conf"), **CONFIG_LOADER_ARGS)[
        "parameters"
    ]
    dataset, features = params["dataset"], params["features"]

    def saved(frame, name):  # what SparkDatasetV2 does between nodes
        path = str(work / f"{name}.parquet")
        frame.write.mode("overwrite").parquet(path)
        return spark.read.parquet(path)

    started = time.perf_counter()
    csv = {"header": True, "inferSchema": True}
    raw = spark.read.csv(files["customers"], **csv)
    clean = saved(
        nodes.clean_data(nodes.validate_data(raw, dataset, params["validation"]), dataset), "clean"
    )
    built = saved(nodes.build_features(clean, dataset, features), "features")
    train, test = nodes.split_data(built, dataset, params["split"])
    train, test = saved(train, "train"), saved(test, "test")
    reference = saved(
        nodes.snapshot_reference(train, dataset, features, params["reference"]), "reference"
    )
    batch = spark.read.csv(files["production_batch"], **csv)
    current = saved(prepare_table(batch, dataset, features, params["serving"]), "batch_features")
    kinds = {c: "numerical" for c in dataset["numeric_features"]}
    kinds.update({c: "categorical" for c in dataset["categorical_features"]})
    prepared, _html = prepare_features(
        reference,
        current,
        kinds,
        Methods(),
        names=("reference", "current"),
        min_rows=10,
        html_max_rows=None,
        html=False,
    )
    result = feature_verdicts(
        "production_batch", prepared, drift_share=0.2, html_path=None, html_inputs=None
    )
    seconds = time.perf_counter() - started
    spark.stop()
    return {
        "seconds": seconds,
        "verdict": result.status,
        "drifted": result.drifted_columns,
        "rows": result.rows,
    }


def child(engine: str, project: str, files: str, work: str) -> None:
    paths = json.loads(files)
    if engine == "pandas":
        result = run_pandas(Path(project), paths)
    else:
        result = run_spark(Path(project), paths, Path(work))
    print(json.dumps(result))


def measure(
    engine: str, project: Path, files: dict[str, Path], work: Path, limit_gib: float
) -> dict:
    """Run one engine in a child process; its time, result and peak memory (process tree)."""
    import psutil  # noqa: PLC0415

    command = [
        sys.executable,
        __file__,
        "--child",
        engine,
        str(project),
        json.dumps({k: str(v) for k, v in files.items()}),
        str(work),
    ]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    peak = 0
    stop = threading.Event()

    def sample() -> None:
        nonlocal peak
        root = psutil.Process(process.pid)
        while not stop.is_set():
            try:
                tree = [root, *root.children(recursive=True)]
                total = sum(p.memory_info().rss for p in tree if p.is_running())
            except psutil.Error:
                total = 0
            peak = max(peak, total)
            if limit_gib and total > limit_gib * 2**30:
                process.kill()  # the machine is shared: stop before it swaps everyone out
            stop.wait(0.1)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    stdout, stderr = process.communicate()
    stop.set()
    sampler.join()
    if process.returncode != 0:
        over = limit_gib and peak > limit_gib * 2**30
        return {
            "ok": False,
            "peak_gib": peak / 2**30,
            "error": f"stopped above {limit_gib} GiB" if over else stderr[-500:],
        }
    return {"ok": True, "peak_gib": peak / 2**30, **json.loads(stdout.strip().splitlines()[-1])}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, nargs="+", default=[10_000_000, 100_000])
    parser.add_argument("--memory-limit-gib", type=float, default=12.0)
    parser.add_argument("--child", nargs=4)
    args = parser.parse_args()
    if args.child:
        child(*args.child)
        return
    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp)
        projects = make_projects(directory)
        for rows in args.rows:
            data = directory / f"data-{rows}"
            data.mkdir()
            started = time.perf_counter()
            files = make_data(projects["spark"], rows, data)
            took = time.perf_counter() - started
            print(
                f"{rows:,} raw rows, {rows // BATCH_SHARE:,} batch rows: {took:.0f} s", flush=True
            )
            results = {}
            for engine in ENGINES:
                work = data / engine
                work.mkdir()
                results[engine] = measure(
                    engine, projects[engine], files, work, args.memory_limit_gib
                )
                outcome = results[engine]
                if outcome["ok"]:
                    drifted = ", ".join(outcome["drifted"])
                    seconds, peak = outcome["seconds"], outcome["peak_gib"]
                    print(
                        f"  {engine:6} {seconds:7.1f} s  peak {peak:5.2f} GiB  "
                        f"{outcome['verdict']} ({drifted}) rows {outcome['rows']}",
                        flush=True,
                    )
                else:
                    peak = outcome["peak_gib"]
                    print(
                        f"  {engine:6} FAILED  peak {peak:5.2f} GiB: {outcome['error']}", flush=True
                    )
            if all(r["ok"] for r in results.values()):
                ratio = results["spark"]["seconds"] / results["pandas"]["seconds"]
                print(f"  spark / pandas time: {ratio:.2f}x", flush=True)
            for path in data.glob("*.csv"):
                path.unlink()


if __name__ == "__main__":
    main()
