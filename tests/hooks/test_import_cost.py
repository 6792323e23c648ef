"""Every `kedro` command imports the hooks: they must not pull heavy libraries."""

from __future__ import annotations

import subprocess
import sys

HEAVY = (
    "evidently", "fastapi", "uvicorn", "mlflow", "sklearn", "matplotlib",
    "airflow", "kfp", "kubernetes",  # orchestrators: kedro mlops export never imports them
)  # fmt: skip


def test_importing_the_hooks_imports_no_heavy_library():
    code = (
        "import sys, kedro_mlops.hooks, kedro_mlops.cli, kedro_mlops.starters; "
        f"print(sorted(m for m in {HEAVY!r} if m in sys.modules))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip().splitlines()[-1] == "[]"
