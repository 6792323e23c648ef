"""``kedro mlops smoke``: start the serving image, wait for ``/ready``, ask one ``/predict``.

What CD runs after building the serving image, and what a laptop can run the same way. The
command lines are pure functions; the container runner and the HTTP calls are passed in.
"""

from __future__ import annotations

import json
import subprocess
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from kedro_mlops.errors import KedroMlopsError

if TYPE_CHECKING:
    from collections.abc import Callable


class SmokeTestError(KedroMlopsError):
    """The serving image did not start, get ready or answer ``/predict``."""


@dataclass(frozen=True)
class SmokeResult:
    image: str
    ready_s: float
    answer: dict[str, Any]


def run_command(container: str, image: str, name: str, port: int) -> list[str]:
    """Start ``image`` in the background on the host's network, listening on ``port``."""
    return [container, "run", "-d", "--rm", "--name", name, "--network", "host", image,
            "--port", str(port)]  # fmt: skip


def stop_command(container: str, name: str) -> list[str]:
    return [container, "rm", "--force", name]


def logs_command(container: str, name: str) -> list[str]:
    return [container, "logs", name]


def _post(url: str, rows: list[dict[str, Any]], timeout: float) -> dict[str, Any]:
    request = urllib.request.Request(  # noqa: S310 - the caller's own server
        url, data=json.dumps(rows).encode(), headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=timeout) as answer:  # noqa: S310
        return json.loads(answer.read())


def _ready(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as answer:  # noqa: S310
            return answer.status == 200  # noqa: PLR2004
    except (OSError, urllib.error.URLError):
        return False


def smoke_test(
    image: str,
    rows: list[dict[str, Any]],
    *,
    container: str = "docker",
    port: int = 18080,
    timeout_s: float = 120.0,
    run: Callable[..., subprocess.CompletedProcess[str]] = subprocess.run,
) -> SmokeResult:
    """Start ``image``, wait until ``/ready`` answers, post ``rows`` to ``/predict``, stop it.

    Raises:
        SmokeTestError: naming the step that failed, with the container's last log lines.
    """
    name = f"kedro-mlops-smoke-{port}-{int(time.time())}"
    started = run(run_command(container, image, name, port), capture_output=True, text=True)
    if started.returncode != 0:
        raise SmokeTestError(f"{image} did not start: {(started.stderr or started.stdout).strip()}")
    base = f"http://127.0.0.1:{port}"
    begun = time.monotonic()
    try:
        while not _ready(f"{base}/ready"):
            if time.monotonic() - begun > timeout_s:
                raise SmokeTestError(
                    f"{image} was not ready after {timeout_s:.0f} s:\n{_logs(run, container, name)}"
                )
            time.sleep(0.2)
        ready_s = time.monotonic() - begun
        try:
            answer = _post(f"{base}/predict", rows, timeout=30)
        except (OSError, urllib.error.URLError, ValueError) as exc:
            raise SmokeTestError(
                f"{image} did not answer /predict: {exc}\n{_logs(run, container, name)}"
            ) from None
        if len(answer.get("predictions", [])) != len(rows):
            raise SmokeTestError(f"{image} answered {answer!r} for {len(rows)} row(s)")
        return SmokeResult(image, ready_s, answer)
    finally:
        run(stop_command(container, name), capture_output=True, text=True)


def _logs(run: Callable[..., subprocess.CompletedProcess[str]], container: str, name: str) -> str:
    result = run(logs_command(container, name), capture_output=True, text=True)
    return "\n".join((result.stdout + result.stderr).strip().splitlines()[-20:])


def sample_rows(frame: Any, count: int) -> list[dict[str, Any]]:  # noqa: ANN401 - a DataFrame
    """The first ``count`` rows of a DataFrame as JSON objects (missing values as ``null``)."""
    return json.loads(frame.head(count).to_json(orient="records"))
