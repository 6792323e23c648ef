"""Online serving: `kedro mlops serve` against `mlflow models serve` on the same model, the same
machine, in one run, with the same load client (an async httpx client).

Arms:
- 1-row requests at concurrency 16 (requests/s and p99 latency of each server; goal: kedro-mlops
  >= 10x MLflow's requests/s and <= 0.2x its p99);
- 1,000-row requests, one at a time, against the bare in-process call of the same pipeline on the
  same rows: ``ServingModel.score`` on a DataFrame already in memory (with the thread settings the
  server uses and with the library defaults; the faster is the reference), and kedro-mlflow's
  ``KedroPipelineModel.predict`` (what ``mlflow models serve`` runs). Goal: within 1.3x.

The project is generated from the starter and run once (``kedro run``) in a temporary directory
unless ``--project`` names one; both servers serve ``models:/<name>@champion`` of its registry.

    python benchmarks/serving.py [--project PATH] [--requests 2000] [--seconds 30]

Run it on a quiet machine: both servers and the load client share its cores.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
JSON = {"content-type": "application/json"}


# ------------------------------------------------------------------ the load client
@dataclass
class Load:
    """What a load run saw: answers by status, latencies (s), transport failures, versions."""

    statuses: Counter[int] = field(default_factory=Counter)
    latencies: list[float] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    versions: list[str] = field(default_factory=list)  # model version of each 200, in order
    elapsed: float = 0.0

    @property
    def rps(self) -> float:
        return len(self.latencies) / self.elapsed if self.elapsed else 0.0

    def percentile(self, q: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


def load(
    url: str,
    bodies: list[bytes],
    *,
    concurrency: int,
    requests: int | None = None,
    seconds: float | None = None,
    stop: threading.Event | None = None,
    read_version: bool = False,
    headers: dict[str, str] | None = None,
    timeout: float = 600,
) -> Load:
    """POST ``bodies`` in turn to ``url`` from ``concurrency`` connections until ``requests``
    were sent, ``seconds`` have passed or ``stop`` is set; the whole run is bounded by
    ``timeout`` seconds (``TimeoutError``)."""
    return asyncio.run(
        asyncio.wait_for(
            _load(url, bodies, concurrency, requests, seconds, stop, read_version, headers),
            timeout,
        )
    )


async def _load(  # noqa: PLR0917 - the options of load()
    url: str,
    bodies: list[bytes],
    concurrency: int,
    requests: int | None,
    seconds: float | None,
    stop: threading.Event | None,
    read_version: bool,
    headers: dict[str, str] | None,
) -> Load:
    import httpx  # noqa: PLC0415

    result = Load()
    counter = itertools.count()
    started = time.perf_counter()
    deadline = started + seconds if seconds else float("inf")
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)

    def more() -> int | None:
        index = next(counter)
        done = (requests is not None and index >= requests) or time.perf_counter() > deadline
        return None if done or (stop is not None and stop.is_set()) else index

    async with httpx.AsyncClient(limits=limits, timeout=120) as client:

        async def worker() -> None:
            while (index := more()) is not None:
                sent = time.perf_counter()
                try:
                    response = await client.post(
                        url, content=bodies[index % len(bodies)], headers=headers or JSON
                    )
                except httpx.HTTPError as exc:
                    result.failures.append(f"{type(exc).__name__}: {exc}")
                    continue
                result.latencies.append(time.perf_counter() - sent)
                result.statuses[response.status_code] += 1
                if read_version and response.status_code == 200:
                    result.versions.append(response.json()["model"]["version"])

        await asyncio.gather(*(worker() for _ in range(concurrency)))
    result.elapsed = time.perf_counter() - started
    return result


def wait_ready(url: str, process: subprocess.Popen, timeout: float = 180) -> float:
    """Seconds until ``url`` answers 200 (the process must stay up meanwhile)."""
    import httpx  # noqa: PLC0415

    started = time.perf_counter()
    while time.perf_counter() - started < timeout:
        if process.poll() is not None:
            raise RuntimeError(f"the server exited with code {process.returncode}")
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return time.perf_counter() - started
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise TimeoutError(f"{url} not ready after {timeout} s")


# ------------------------------------------------------------------ the benchmark
def _run(*args: str, cwd: Path, env: dict[str, str]) -> str:
    result = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        sys.exit(f"{' '.join(args)} failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}")
    return result.stdout


def _environment(project: Path) -> dict[str, str]:
    bin_dir = str(Path(sys.executable).parent)
    return {
        **{k: v for k, v in os.environ.items() if not k.startswith(("MLFLOW_", "KEDRO_"))},
        "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}",  # uvicorn for MLflow
        "KEDRO_DISABLE_TELEMETRY": "1",
        "MLFLOW_TRACKING_URI": f"sqlite:///{project / 'mlflow.db'}",
    }


def _generated_project(scratch: Path) -> Path:
    env = _environment(scratch / "bench-serve")
    kedro = str(Path(sys.executable).parent / "kedro")
    _run(kedro, "new", "--starter=mlops", "--name", "Bench Serve", cwd=scratch, env=env)
    project = scratch / "bench-serve"
    _run(kedro, "run", cwd=project, env=env)
    return project


def _package_name(project: Path) -> str:
    import tomllib  # noqa: PLC0415

    with (project / "pyproject.toml").open("rb") as file:
        return tomllib.load(file)["tool"]["kedro"]["package_name"]


def _start(command: list[str], project: Path, log: Path) -> subprocess.Popen:
    with log.open("w") as out:
        return subprocess.Popen(
            command,
            cwd=project,
            env=_environment(project),
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # MLflow starts uvicorn as a child: stop the group
        )


def _stop(process: subprocess.Popen) -> None:
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def _median_seconds(call: object, repeat: int) -> float:
    call()  # type: ignore[operator] - warm
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        call()  # type: ignore[operator]
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def _in_process(project: Path, model_uri: str, frame: object, repeat: int) -> dict[str, float]:
    """Median seconds of the bare pipeline call on ``frame``: ours (library thread defaults
    and one native thread, as the server runs it) and kedro-mlflow's model."""
    import logging  # noqa: PLC0415

    import mlflow  # noqa: PLC0415
    from threadpoolctl import threadpool_limits  # noqa: PLC0415

    from kedro_mlops.serving.source import load_from_mlflow  # noqa: PLC0415

    logging.disable(logging.INFO)  # Kedro's runner logs every node at INFO otherwise
    mlflow.set_tracking_uri(f"sqlite:///{project / 'mlflow.db'}")
    sys.path.insert(0, str(project / "src"))
    served = load_from_mlflow(mlflow.MlflowClient(), model_uri)
    pipeline_model = mlflow.pyfunc.load_model(model_uri).unwrap_python_model()
    figures = {"score (library threads)": _median_seconds(lambda: served.score(frame), repeat)}
    with threadpool_limits(1):
        figures["score (1 native thread)"] = _median_seconds(lambda: served.score(frame), repeat)
    figures["KedroPipelineModel.predict"] = _median_seconds(
        lambda: pipeline_model.predict(None, frame), repeat
    )
    logging.disable(logging.NOTSET)
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--project", type=Path, help="a project after `kedro run`")
    parser.add_argument("--seconds", type=float, default=30, help="per 1-row load run [30]")
    parser.add_argument("--big", type=int, default=30, help="1,000-row requests per arm [30]")
    args = parser.parse_args()
    import pandas as pd  # noqa: PLC0415

    with tempfile.TemporaryDirectory(prefix="bench-serve-") as scratch:
        project = args.project.resolve() if args.project else _generated_project(Path(scratch))
        model_uri = f"models:/{_package_name(project)}@champion"
        batch = pd.read_csv(project / "data" / "01_raw" / "production_batch.csv")
        rows = json.loads(batch.to_json(orient="records"))
        one_row = [json.dumps(row).encode() for row in rows]
        thousand = batch.head(1000)
        big_ours = [json.dumps(rows[:1000]).encode()]
        big_mlflow = [thousand.to_json(orient="split", index=False).join(
            ['{"dataframe_split": ', "}"]).encode()]  # fmt: skip
        kedro = str(Path(sys.executable).parent / "kedro")
        arms = {
            "kedro mlops serve": (
                [kedro, "mlops", "serve", "--port", "{port}", "--reload-interval", "0"],
                "/predict", "/ready", big_ours,
            ),
            "mlflow models serve": (
                [str(Path(sys.executable).parent / "mlflow"), "models", "serve", "-m", model_uri,
                 "--env-manager", "local", "-h", "127.0.0.1", "-p", "{port}"],
                "/invocations", "/ping", big_mlflow,
            ),
        }  # fmt: skip
        results: dict[str, tuple[float, Load, Load]] = {}
        for name, (command, route, ready, big) in arms.items():
            port = _free_port()
            log = Path(scratch) / f"{name.split()[0]}.log"
            process = _start([part.format(port=port) for part in command], project, log)
            try:
                url = f"http://127.0.0.1:{port}"
                started = wait_ready(url + ready, process)
                bodies = (
                    one_row
                    if route == "/predict"
                    else [b'{"dataframe_records": [' + body + b"]}" for body in one_row]
                )
                load(url + route, bodies, concurrency=16, seconds=3)  # warm-up
                small = load(url + route, bodies, concurrency=16, seconds=args.seconds)
                large = load(url + route, big, concurrency=1, requests=args.big)
            finally:
                _stop(process)
            for run in (small, large):
                if run.failures or set(run.statuses) != {200}:
                    sys.exit(
                        f"{name}: {run.statuses} {run.failures[:3]}\n{log.read_text()[-3000:]}"
                    )
            results[name] = (started, small, large)
        in_process = _in_process(project, model_uri, thousand, args.big)
    _report(results, in_process, args)


def _free_port() -> int:
    import socket  # noqa: PLC0415

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _report(
    results: dict[str, tuple[float, Load, Load]], in_process: dict[str, float], args: object
) -> None:
    ours_start, ours, ours_big = results["kedro mlops serve"]
    mlflow_start, theirs, theirs_big = results["mlflow models serve"]
    ms = 1000
    print(f"{'':34}{'kedro mlops serve':>20}{'mlflow models serve':>22}{'ratio':>10}")
    lines = [
        ("start to ready (s)", ours_start, mlflow_start, ours_start / mlflow_start),
        ("1 row, c=16: requests/s", ours.rps, theirs.rps, ours.rps / theirs.rps),
        ("1 row, c=16: p50 (ms)", ours.percentile(0.5) * ms, theirs.percentile(0.5) * ms,
         ours.percentile(0.5) / theirs.percentile(0.5)),
        ("1 row, c=16: p99 (ms)", ours.percentile(0.99) * ms, theirs.percentile(0.99) * ms,
         ours.percentile(0.99) / theirs.percentile(0.99)),
        ("1,000 rows, c=1: p50 (ms)", ours_big.percentile(0.5) * ms,
         theirs_big.percentile(0.5) * ms, ours_big.percentile(0.5) / theirs_big.percentile(0.5)),
    ]  # fmt: skip
    for label, a, b, ratio in lines:
        print(f"{label:34}{a:>20.1f}{b:>22.1f}{ratio:>9.2f}x")
    count = f"{len(ours.latencies)} and {len(theirs.latencies)}"
    print(f"requests: {count} 1-row, {args.big} 1,000-row each")
    print("\n1,000 rows in process (median ms):")
    for label, seconds in in_process.items():
        print(f"  {label:32}{seconds * ms:>10.1f}")
    reference = min(in_process["score (library threads)"], in_process["score (1 native thread)"])
    print(
        f"\n1 row, c=16: {ours.rps / theirs.rps:.1f}x MLflow's requests/s (goal >= 10x), "
        f"p99 {ours.percentile(0.99) / theirs.percentile(0.99):.2f}x MLflow's (goal <= 0.2x)\n"
        f"1,000 rows: served p50 {ours_big.percentile(0.5) / reference:.2f}x the bare in-process "
        "ServingModel.score (goal <= 1.3x); KedroPipelineModel.predict in process: "
        f"{in_process['KedroPipelineModel.predict'] / reference:.2f}x\n"
        f"command: python benchmarks/serving.py {' '.join(sys.argv[1:])}".rstrip()
    )


if __name__ == "__main__":
    main()
