"""``tracking:`` and ``registry:`` of ``mlops.yml``."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator

from kedro_mlops.config.base import Section


class LineageConfig(Section):
    """What every run records besides kedro-mlflow's parameters (each can be switched off)."""

    git: bool = Field(
        True, description="Tags: commit sha, branch, dirty flag (nothing outside a git repository)."
    )
    environment: bool = Field(
        True, description="Tags: kedro command, pipeline, env, runner, library versions."
    )
    node_timings: bool = Field(True, description="Metrics: node_time_s.<node>, run_time_s.")
    datasets: bool = Field(
        True, description="MLflow dataset inputs: content digest, source path, schema."
    )
    config: bool = Field(
        True, description="Artifact: the resolved parameters and mlops.yml of the run."
    )


class TrackingConfig(Section):
    """Where MLflow records runs, and what a run records."""

    uri: str = Field(
        "sqlite:///mlflow.db",
        description="Where MLflow records runs when MLFLOW_TRACKING_URI is not set in the "
        "environment. A relative sqlite path is resolved from the project root, whatever the "
        "current directory.",
    )
    on_error: Literal["fail", "warn"] = Field(
        "fail",
        description="An unreachable tracking server: fail (stop before running anything) or warn "
        "(run untracked).",
    )
    server_timeout_s: float = Field(
        5.0,
        gt=0,
        le=60,
        description="How long to wait for a tracking server to answer before calling it "
        "unreachable.",
    )
    lineage: LineageConfig = Field(
        LineageConfig(),
        description="What every run records besides kedro-mlflow's parameters (each can be "
        "switched off).",
    )

    @field_validator("uri")
    @classmethod
    def _not_a_file_store(cls, value: str) -> str:
        if "://" not in value and value not in ("databricks", "databricks-uc"):
            # MLflow >= 3.17 refuses file stores (./mlruns) unless MLFLOW_ALLOW_FILE_STORE is set
            raise ValueError(
                f"{value!r} is a plain path; MLflow needs a database or a server, "
                f"e.g. 'sqlite:///{value.rstrip('/') or 'mlflow'}.db' or 'http://host:5000'"
            )
        return value


class GateConfig(Section):
    """How a new model version (challenger) is compared with the ``champion``."""

    metric: str = Field("roc_auc", description="A metric the training run logs.")
    direction: Literal["maximize", "minimize"] = Field(
        "maximize", description="Whether a higher (maximize) or lower (minimize) metric is better."
    )
    min_improvement: float = Field(
        0.0, ge=0, description="The challenger must beat the champion by more than this."
    )


class RegistryConfig(Section):
    """Registration of the pipeline model logged by a training run."""

    enabled: bool = Field(
        True,
        description="Register the pipeline model of every training run and move the "
        "champion/challenger aliases.",
    )
    model_name: str | None = Field(None, description="null: the project's package name.")
    gate: GateConfig = Field(
        GateConfig(),
        description="How a new version (challenger) is compared with the champion.",
    )
