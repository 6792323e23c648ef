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


async def _load(  # noqa: PLR0913, PLR0917 - the options of load()
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
