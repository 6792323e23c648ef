"""``export:`` of ``mlops.yml``."""

from __future__ import annotations

import re
from typing import Literal

from pydantic import Field, field_validator
from pydantic_core import PydanticCustomError

from kedro_mlops.config.base import Section
from kedro_mlops.config.export_platforms import (
    AzureMLExportConfig,
    DatabricksExportConfig,
    StepFunctionsExportConfig,
)

# the targets of `kedro mlops export` (the CLI's --target choices are these)
TARGETS = ("airflow", "kubeflow", "stepfunctions", "azureml", "databricks")

_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
# names of variables that hold secrets: they come from the deployment (Airflow Connections or
# Variables, Kubernetes Secrets), never from mlops.yml, so the exported files hold no credential
_SECRET_NAME = re.compile(r"PASSWORD|PASSWD|SECRET|TOKEN|CREDENTIAL|PRIVATE|API_?KEY|ACCESS_?KEY")
_USERINFO = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://[^/@\s]+@")
_QUANTITY = re.compile(r"^[0-9]+(?:\.[0-9]+)?(?:m|k|Ki|M|Mi|G|Gi|T|Ti)?$")
_DNS_NAME = re.compile(r"^[a-z0-9](?:[-a-z0-9]{0,61}[a-z0-9])?$")
_CRON_PRESETS = ("@once", "@hourly", "@daily", "@weekly", "@monthly", "@yearly", "@annually")
_CRON_FIELD = re.compile(r"^[A-Za-z0-9*/,?-]+$")
_CRON_FIELDS = 5  # minute hour day-of-month month day-of-week


def check_schedule(value: str | None) -> str | None:
    """``value`` if it is a cron expression (5 fields) or a preset such as ``@daily``.

    Raises:
        ValueError: saying what a schedule looks like.
    """
    if value is None:
        return value
    fields = value.split()
    cron = len(fields) == _CRON_FIELDS and all(map(_CRON_FIELD.match, fields))
    if value in _CRON_PRESETS or cron:
        return value
    raise ValueError(
        f"{value!r} is not a schedule; use 5 cron fields (e.g. '0 3 * * *') or one of "
        f"{', '.join(_CRON_PRESETS)}"
    )


def check_quantity(value: str | None) -> str | None:
    """``value`` if it is a Kubernetes quantity (``500m``, ``2``, ``512Mi``, ``4Gi``).

    Raises:
        ValueError: saying what a quantity looks like.
    """
    if value is not None and not _QUANTITY.match(value):
        raise ValueError(
            f"{value!r} is not a Kubernetes quantity; use e.g. '500m', '2', '512Mi', '4Gi'"
        )
    return value


def check_k8s_name(value: str | None) -> str | None:
    """``value`` if it is a Kubernetes object name (DNS label).

    Raises:
        ValueError: saying what a name looks like.
    """
    if value is not None and not _DNS_NAME.match(value):
        raise ValueError(
            f"{value!r} is not a Kubernetes name; use lower-case letters, digits and '-' "
            "(at most 63, no '_'), e.g. 'churn-data'"
        )
    return value


class ExportResources(Section):
    """Resource requests (and a memory limit) of every step on Kubernetes and Kubeflow."""

    cpu: str | None = Field(None, description="CPU request, e.g. 500m or 2.")
    memory: str | None = Field(None, description="Memory request, e.g. 2Gi.")
    memory_limit: str | None = Field(None, description="Memory limit, e.g. 4Gi.")

    @field_validator("cpu", "memory", "memory_limit")
    @classmethod
    def _quantity(cls, value: str | None) -> str | None:
        return check_quantity(value)


class ContinuousTrainingConfig(Section):
    """``<project>_ct``: the drift check (and performance checks) on the latest scored data;
    retraining on drift or degradation."""

    enabled: bool = Field(True, description="Write the continuous-training definition.")
    check: str | None = Field(
        None, description="A name of monitoring.checks; null: the first drift check."
    )
    schedule: str | None = Field(
        "@daily", description="Cron (5 fields) or a preset such as @daily; null: on demand."
    )
    quality_checks: list[str] | None = Field(
        None,
        description="Performance checks run with it: retraining on drift or degradation "
        "(insufficient_labels never retrains); null: every performance check of data the "
        "exported pipelines write, e.g. batch_quality; []: drift only.",
    )

    @field_validator("schedule")
    @classmethod
    def _schedule(cls, value: str | None) -> str | None:
        return check_schedule(value)


class AirflowExportConfig(Section):
    """The operator of every task of the Airflow DAGs."""

    operator: Literal["docker", "kubernetes"] = Field(
        "docker",
        description="docker (DockerOperator: a host with a Docker API) | kubernetes "
        "(KubernetesPodOperator).",
    )


class KubernetesExportConfig(Section):
    """Names of what the cluster provides (Airflow's KubernetesPodOperator and Kubeflow)."""

    namespace: str | None = Field(None, description="null: the orchestrator's default.")
    data_volume_claim: str | None = Field(
        None, description="null: <project>-data, mounted on the images' data/."
    )
    mlflow_volume_claim: str | None = Field(
        None, description="null: <project>-mlflow, mounted for the SQLite store."
    )
    secret: str | None = Field(
        None,
        description="null: <project>-mlflow; its keys (MLFLOW_TRACKING_URI, USERNAME, PASSWORD) "
        "become environment variables.",
    )

    @field_validator("namespace", "data_volume_claim", "mlflow_volume_claim", "secret")
    @classmethod
    def _dns_name(cls, value: str | None) -> str | None:
        return check_k8s_name(value)

    def names(self, slug: str) -> tuple[str, str, str]:
        """The data claim, the MLflow claim and the Secret of the project named ``slug`` in
        Kubernetes (``kedro mlops export`` and ``kedro mlops deploy`` use the same)."""
        return (
            self.data_volume_claim or f"{slug}-data",
            self.mlflow_volume_claim or f"{slug}-mlflow",
            self.secret or f"{slug}-mlflow",
        )


class ExportConfig(Section):
    """``kedro mlops export``: the images of ``kedro mlops package`` as orchestrator definitions,
    with continuous training. CLI options override these keys. Nothing secret goes here:
    credentials, the tracking server and volumes come from the deployment (Airflow
    Variables/Connections or Kubernetes Secrets and claims)."""

    target: Literal[TARGETS] = Field(
        "airflow",
        description="airflow (a DAG file for Airflow 3) | kubeflow (a KFP v2 YAML, also for "
        "Vertex AI) | stepfunctions (Amazon States Language, ECS tasks) | azureml (pipeline job "
        "YAML) | databricks (a bundle of jobs).",
    )
    output: str = Field(
        "dist/orchestration",
        description="Where the definitions are written (relative to the project root).",
    )
    image_tag: str | None = Field(
        None,
        description="null: packaging.tag, else the project's version (what `kedro mlops "
        "package` tags).",
    )
    registry: str | None = Field(
        None,
        description="Image references under this registry, e.g. ghcr.io/acme; null: "
        "packaging.push.",
    )
    schedule: str | None = Field(
        None,
        description="Cron or @daily ... of <project> (every packaged pipeline); null: on demand.",
    )
    template: str | None = Field(
        None, description="Your own Jinja template instead of the built-in one."
    )
    environment: dict[str, str] = Field(
        default_factory=dict,
        description="Non-secret environment variables of every step, e.g. "
        "{MLFLOW_TRACKING_URI: http://mlflow:5000}; names that look like credentials are "
        "refused.",
    )
    resources: ExportResources = Field(
        ExportResources(), description="Requests of every step on Kubernetes / Kubeflow."
    )
    ct: ContinuousTrainingConfig = Field(
        ContinuousTrainingConfig(),
        description="<project>_ct: the drift and performance checks on the latest scored data, "
        "retraining on drift or degradation.",
    )
    airflow: AirflowExportConfig = Field(
        AirflowExportConfig(), description="The Airflow DAGs' operator."
    )
    kubernetes: KubernetesExportConfig = Field(
        KubernetesExportConfig(),
        description="What the cluster provides (KubernetesPodOperator and Kubeflow).",
    )
    stepfunctions: StepFunctionsExportConfig = Field(
        StepFunctionsExportConfig(),
        description="AWS Step Functions: where the ECS tasks run.",
    )
    azureml: AzureMLExportConfig = Field(
        AzureMLExportConfig(), description="Azure ML pipeline jobs: the compute they run on."
    )
    databricks: DatabricksExportConfig = Field(
        DatabricksExportConfig(), description="Databricks jobs: the job cluster and the wheel."
    )

    @field_validator("schedule")
    @classmethod
    def _schedule(cls, value: str | None) -> str | None:
        return check_schedule(value)

    @field_validator("environment")
    @classmethod
    def _no_secrets(cls, environment: dict[str, str]) -> dict[str, str]:
        for name, value in environment.items():
            if not _ENV_NAME.match(name):
                raise ValueError(f"{name!r} is not an environment variable name")
            if _SECRET_NAME.search(name.upper()) or _USERINFO.match(value):
                # its own error type: the message must not repeat the value
                raise PydanticCustomError(
                    "credential",
                    "'{name}' looks like a credential; the exported files never hold one: put "
                    "it in an Airflow Variable/Connection or a Kubernetes Secret (see the notes "
                    "`kedro mlops export` prints)",
                    {"name": name},
                )
        return environment
