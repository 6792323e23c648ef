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
    python benchmarks/serving.py --rollout [--rounds 3]   # shadow vs none (serving_rollout.py)

Run it on a quiet machine: both servers and the load client share its cores.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Callable

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


def stop(process: subprocess.Popen) -> None:
    """Stop a server started in its own session (SIGTERM to the group; SIGKILL after 30 s)."""
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def _seconds(call: Callable[[], object], repeat: int) -> list[float]:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        call()
        times.append(time.perf_counter() - started)
    return times


def _bare_calls(project: Path, model_uri: str, frame: object) -> dict[str, Callable[[], object]]:
    """The bare pipeline call on ``frame`` in this process: ours (with the libraries' own native
    thread count, and with one native thread as the server runs it) and kedro-mlflow's model."""
    import logging  # noqa: PLC0415

    import mlflow  # noqa: PLC0415
    from threadpoolctl import ThreadpoolController  # noqa: PLC0415

    from kedro_mlops.serving.source import load_from_mlflow  # noqa: PLC0415

    logging.disable(logging.INFO)  # Kedro's runner and nodes log every call at INFO otherwise
    mlflow.set_tracking_uri(f"sqlite:///{project / 'mlflow.db'}")
    sys.path.insert(0, str(project / "src"))
    served = load_from_mlflow(mlflow.MlflowClient(), model_uri)
    pipeline_model = mlflow.pyfunc.load_model(model_uri).unwrap_python_model()
    threads = ThreadpoolController()

    def one_thread() -> object:
        with threads.limit(limits=1):
            return served.score(frame)

    calls = {
        "ServingModel.score, library threads": lambda: served.score(frame),
        "ServingModel.score, 1 native thread": one_thread,
        "KedroPipelineModel.predict": lambda: pipeline_model.predict(None, frame),
    }
    for call in calls.values():
        call()  # warm
    return calls


@dataclass
class Arm:
    name: str
    command: list[str]
    route: str
    ready: str
    one_row: list[bytes]
    big: bytes
    env: str | None = None  # a configuration environment written for the arm
    started: float = 0.0
    small: Load = field(default_factory=Load)
    large: list[float] = field(default_factory=list)
    bare: dict[str, list[float]] = field(default_factory=dict)
    cpu_per_request: float = 0.0  # CPU seconds of the server's processes per 1-row request
    large_cpu: float = 0.0  # CPU seconds of the server's processes for all 1,000-row requests
    bare_cpu: dict[str, float] = field(default_factory=dict)  # CPU seconds of the bare calls


def _measure(arm: Arm, project: Path, scratch: Path, args: argparse.Namespace, bare) -> None:
    """Start the arm's server; 1-row load at concurrency 16; then 1,000-row requests one at a
    time, interleaved in rounds of 5 with the bare in-process calls (same moment, same load)."""
    port = _free_port()
    log = scratch / f"{arm.name.replace(' ', '-')}.log"
    process = _start([part.format(port=port) for part in arm.command], project, log)
    try:
        url = f"http://127.0.0.1:{port}"
        arm.started = wait_ready(url + arm.ready, process)
        load(url + arm.route, arm.one_row, concurrency=16, seconds=3)  # warm-up
        cpu = _cpu_seconds(process.pid)
        arm.small = load(url + arm.route, arm.one_row, concurrency=16, seconds=args.seconds)
        arm.cpu_per_request = (_cpu_seconds(process.pid) - cpu) / len(arm.small.latencies)
        asyncio.run(_interleaved(arm, url + arm.route, bare, process.pid, max(1, args.big // 5)))
    finally:
        stop(process)
    run = arm.small
    if run.failures or set(run.statuses) - {200}:
        sys.exit(f"{arm.name}: {run.statuses} {run.failures[:3]}\n{log.read_text()[-3000:]}")


async def _interleaved(
    arm: Arm, url: str, bare: dict[str, Callable[[], object]], group: int, rounds: int
) -> None:
    """Rounds of 5 requests of 1,000 rows (one connection, one at a time), each followed by 5 of
    each bare call: both sides see the machine in the same state."""
    import httpx  # noqa: PLC0415

    async with httpx.AsyncClient(timeout=120) as client:
        for _ in range(rounds):
            cpu = _cpu_seconds(group)
            for _ in range(5):
                sent = time.perf_counter()
                response = await client.post(url, content=arm.big, headers=JSON)
                arm.large.append(time.perf_counter() - sent)
                if response.status_code != 200:
                    sys.exit(f"{arm.name}: {response.status_code} {response.text[:1000]}")
            arm.large_cpu += _cpu_seconds(group) - cpu
            for label, call in bare.items():
                cpu = time.process_time()
                arm.bare.setdefault(label, []).extend(_seconds(call, 5))
                arm.bare_cpu[label] = arm.bare_cpu.get(label, 0.0) + time.process_time() - cpu


def _cpu_seconds(group: int) -> float:
    """CPU time (user + system) used so far by the processes of a process group: a figure the
    machine's other load does not inflate much, unlike latencies."""
    total = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:  # the process ended meanwhile
            continue
        if int(fields[2]) == group:  # pgrp
            total += int(fields[11]) + int(fields[12])  # utime, stime in clock ticks
    return total / os.sysconf("SC_CLK_TCK")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--project", type=Path, help="a project after `kedro run`")
    parser.add_argument("--seconds", type=float, default=30, help="per 1-row load run [30]")
    parser.add_argument("--big", type=int, default=30, help="1,000-row requests per arm [30]")
    parser.add_argument(
        "--rollout",
        action="store_true",
        help="instead: serving.rollout none vs shadow (benchmarks/serving_rollout.py)",
    )
    parser.add_argument("--rounds", type=int, default=3, help="--rollout: arms of each mode [3]")
    args = parser.parse_args()
    import pandas as pd  # noqa: PLC0415

    with tempfile.TemporaryDirectory(prefix="bench-serve-") as directory:
        scratch = Path(directory)
        project = args.project.resolve() if args.project else _generated_project(scratch)
        model_uri = f"models:/{_package_name(project)}@champion"
        batch = pd.read_csv(project / "data" / "01_raw" / "production_batch.csv")
        rows = json.loads(batch.to_json(orient="records"))
        one_row = [json.dumps(row).encode() for row in rows]
        if args.rollout:
            sys.path.insert(0, str(ROOT))
            from benchmarks.serving_rollout import rollout_benchmark  # noqa: PLC0415

            rollout_benchmark(project, scratch, args, one_row)
            return
        thousand = batch.head(1000)
        bin_dir = Path(sys.executable).parent
        serve = [
            str(bin_dir / "kedro"),
            "mlops",
            "serve",
            "--port",
            "{port}",
            "--reload-interval",
            "0",
        ]
        arms = [
            Arm("kedro mlops serve", serve, "/predict", "/ready", one_row,
                json.dumps(rows[:1000]).encode()),
            Arm("kedro mlops serve, no inference log", [*serve, "--env", NO_LOG], "/predict",
                "/ready", one_row, json.dumps(rows[:1000]).encode(), env=NO_LOG),
            Arm("mlflow models serve",
                [str(bin_dir / "mlflow"), "models", "serve", "-m", model_uri, "--env-manager",
                 "local", "-h", "127.0.0.1", "-p", "{port}"],
                "/invocations", "/ping",
                [b'{"dataframe_records": [' + body + b"]}" for body in one_row],
                b'{"dataframe_split": ' + thousand.to_json(orient="split", index=False).encode()
                + b"}"),
        ]  # fmt: skip
        bare = _bare_calls(project, model_uri, thousand)
        conf = project / "conf" / NO_LOG
        conf.mkdir(exist_ok=True)
        try:
            (conf / "mlops.yml").write_text("serving:\n  log_predictions: false\n")
            for arm in arms:
                _measure(arm, project, scratch, args, bare)
        finally:
            shutil.rmtree(conf)
    _report(arms)


NO_LOG = "bench_no_inference_log"


def _free_port() -> int:
    import socket  # noqa: PLC0415

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _report(arms: list[Arm]) -> None:
    ours, quiet, theirs = arms
    ms = 1000

    def p(values: list[float], q: float = 0.5) -> float:
        ordered = sorted(values)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * ms

    def bare_cpu(arm: Arm, label: str) -> float:
        return arm.bare_cpu[label] / len(arm.bare[label]) * ms

    def large_cpu(arm: Arm) -> float:
        return arm.large_cpu / len(arm.large) * ms

    names = [arm.name.replace("kedro mlops serve, ", "") for arm in arms]
    print(f"{'':36}" + "".join(f"{name:>22}" for name in names))
    table = [
        ("start to ready (s)", [arm.started for arm in arms]),
        ("1 row, c=16: requests/s", [arm.small.rps for arm in arms]),
        ("1 row, c=16: p50 (ms)", [arm.small.percentile(0.5) * ms for arm in arms]),
        ("1 row, c=16: p99 (ms)", [arm.small.percentile(0.99) * ms for arm in arms]),
        ("1 row: server CPU/request (ms)", [arm.cpu_per_request * ms for arm in arms]),
        ("1,000 rows, c=1: p50 (ms)", [p(arm.large) for arm in arms]),
        ("1,000 rows, c=1: p99 (ms)", [p(arm.large, 0.99) for arm in arms]),
        ("1,000 rows: server CPU/request (ms)", [large_cpu(arm) for arm in arms]),
    ]
    for label, values in table:
        print(f"{label:36}" + "".join(f"{value:>22.1f}" for value in values))
    counts = ", ".join(str(len(arm.small.latencies)) for arm in arms)
    print(f"requests: {counts} of 1 row; {len(ours.large)} of 1,000 rows each")
    print("\nbare in-process calls on the same 1,000 rows, between the requests: p50 | CPU (ms)")
    for label in ours.bare:
        figures = "".join(
            f"{p(arm.bare[label]):>10.1f} |{bare_cpu(arm, label):>6.1f}" for arm in arms
        )
        print(f"  {label:38}{figures}")
    rps = ours.small.rps / theirs.small.rps
    p99 = ours.small.percentile(0.99) / theirs.small.percentile(0.99)
    cpu = ours.cpu_per_request / theirs.cpu_per_request
    print(
        f"\n1 row, c=16: {rps:.1f}x MLflow's requests/s (goal >= 10x); p99 {p99:.2f}x MLflow's "
        f"(goal <= 0.2x); server CPU per request {cpu:.3f}x MLflow's"
    )
    for arm in (ours, quiet):
        scores = [label for label in arm.bare if label.startswith("ServingModel")]
        latency = min(p(arm.bare[label]) for label in scores)
        cpu = min(bare_cpu(arm, label) for label in scores)
        print(
            f"1,000 rows, {arm.name}: p50 {p(arm.large) / latency:.2f}x the bare "
            f"ServingModel.score (goal <= 1.3x), server CPU {large_cpu(arm) / cpu:.2f}x its CPU; "
            "KedroPipelineModel.predict in process "
            f"{p(arm.bare['KedroPipelineModel.predict']) / latency:.2f}x, mlflow models serve "
            f"{p(theirs.large) / latency:.2f}x"
        )
    print(f"command: python benchmarks/serving.py {' '.join(sys.argv[1:])}".rstrip())


if __name__ == "__main__":
    main()
