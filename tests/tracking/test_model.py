from __future__ import annotations

from importlib import metadata
from pathlib import Path

from kedro_mlops.tracking import model_log_kwargs
from kedro_mlops.tracking.model import pinned_requirements


def test_requirements_are_pinned_to_the_running_versions():
    pins = dict(pin.split("==") for pin in pinned_requirements())
    assert pins["kedro"] == metadata.version("kedro")
    assert pins["kedro-mlflow"] == metadata.version("kedro-mlflow")
    assert pins["scikit-learn"] == metadata.version("scikit-learn")


def test_unknown_distributions_are_skipped():
    assert pinned_requirements(("kedro", "no-such-distribution-xyz")) == [
        f"kedro=={metadata.version('kedro')}"
    ]


def test_model_carries_the_project_package(tmp_path):
    kwargs = model_log_kwargs(tmp_path / "src" / "churn")
    assert kwargs["code_paths"] == [str(Path(tmp_path / "src" / "churn"))]
    assert kwargs["name"] == "model"
    assert kwargs["signature"] == "auto"
