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
