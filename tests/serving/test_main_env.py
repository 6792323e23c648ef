"""`python -m kedro_mlops.serving` (the serving image's command) takes its limits from the
environment too (a Kubernetes ConfigMap sets them); a bad value is one line, exit 2."""

from __future__ import annotations

import os
import subprocess
import sys


def serving(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "kedro_mlops.serving", *args],
        capture_output=True,
        text=True,
        env={**os.environ, **env},
        timeout=120,
        check=False,
    )


def test_limits_come_from_the_environment():
    result = serving("--help", KEDRO_MLOPS_SERVE_MAX_ROWS="12", KEDRO_MLOPS_SERVE_MAX_BODY_MB="2")
    assert result.returncode == 0
    text = " ".join(result.stdout.split())
    assert "[$KEDRO_MLOPS_SERVE_MAX_ROWS; 12]" in text
    assert "[$KEDRO_MLOPS_SERVE_MAX_BODY_MB; 2.0]" in text


def test_a_limit_that_is_no_number_is_one_line():
    result = serving("--bundle", "/nowhere", KEDRO_MLOPS_SERVE_MAX_ROWS="many")
    assert result.returncode == 2
    assert result.stderr == "Error: KEDRO_MLOPS_SERVE_MAX_ROWS='many' is not an integer\n"


def test_a_rollout_without_a_challenger_bundle_is_one_line():
    result = serving("--bundle", "/nowhere", KEDRO_MLOPS_SERVE_ROLLOUT="shadow")
    assert result.returncode == 2
    assert result.stderr.splitlines()[-1] == (
        "python -m kedro_mlops.serving: error: --rollout shadow needs --challenger-bundle "
        "($KEDRO_MLOPS_SERVE_CHALLENGER)"
    )


def test_the_image_command_serves_a_canary_from_its_environment(model, tmp_path):
    """What the serving image of a rollout runs: both bundles, the mode from the environment,
    a real server process answering over HTTP."""
    import httpx  # noqa: PLC0415

    from benchmarks.serving import stop, wait_ready  # noqa: PLC0415
    from tests.conftest import free_port  # noqa: PLC0415
    from tests.serving.conftest import rows_of  # noqa: PLC0415
    from tests.serving.pipeline import serving_model  # noqa: PLC0415

    model.save_bundle(tmp_path / "model")
    serving_model("2", seed=3, c=0.05).save_bundle(tmp_path / "challenger")
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "kedro_mlops.serving", "--bundle", str(tmp_path / "model"),
         "--port", str(port)],
        env={
            **os.environ,
            "KEDRO_MLOPS_SERVE_ROLLOUT": "canary",
            "KEDRO_MLOPS_SERVE_CHALLENGER": str(tmp_path / "challenger"),
            "KEDRO_MLOPS_SERVE_FRACTION": "0.5",
        },
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        wait_ready(url + "/ready", process, timeout=60)
        answers = httpx.post(url + "/predict", json=rows_of(200), timeout=30).json()
        rollout = httpx.get(url + "/metadata", timeout=30).json()["rollout"]
    finally:
        stop(process)
    versions = [row["model_version"] for row in answers["predictions"]]
    assert 60 <= versions.count("2") <= 140 and versions.count("1") == 200 - versions.count("2")
    assert (rollout["mode"], rollout["fraction"], rollout["challenger"]["version"]) == (
        "canary",
        0.5,
        "2",
    )
    assert "Rollout canary 0.5 of rows: challenger version 2" in process.stdout.read()
