"""``export.stepfunctions``, ``export.azureml``, ``export.databricks`` of ``mlops.yml``: what the
cloud platforms provide. Names and references only: no credential is ever a value here."""

from __future__ import annotations

import re
from typing import Literal

from pydantic import Field, field_validator

from kedro_mlops.config.base import Section

_ARN = re.compile(r"^arn:aws[a-z-]*:[a-z0-9-]+:[a-z0-9-]*:[0-9]{0,12}:\S+$")


def check_arn(value: str | None) -> str | None:
    """``value`` if it is an Amazon Resource Name.

    Raises:
        ValueError: saying what an ARN looks like.
    """
    if value is not None and not _ARN.match(value):
        raise ValueError(
            f"{value!r} is not an ARN; use e.g. 'arn:aws:iam::123456789012:role/ecs-task'"
        )
    return value


class StepFunctionsExportConfig(Section):
    """Where the ECS tasks of the Step Functions state machines run."""

    cluster: str | None = Field(None, description="ECS cluster name or ARN; null: <project>.")
    launch_type: Literal["FARGATE", "EC2"] = Field("FARGATE", description="FARGATE | EC2.")
    subnets: list[str] = Field(
        default_factory=list,
        description="Subnet ids of the tasks (awsvpc; Fargate needs at least one).",
    )
    security_groups: list[str] = Field(
        default_factory=list, description="Security group ids of the tasks."
    )
    assign_public_ip: bool = Field(
        False, description="Give the tasks a public IP (a public subnet without NAT)."
    )
    cpu: str = Field("1024", description="Task CPU units (Fargate: 256 ... 16384).")
    memory: str = Field("4096", description="Task memory in MiB (a size Fargate allows).")
    execution_role_arn: str | None = Field(
        None,
        description="The role ECS pulls the images and reads the secret with; null: set it "
        "when registering the task definitions.",
    )
    task_role_arn: str | None = Field(
        None, description="The role the containers run as (S3 data, ...); null: none."
    )
    secret_arn: str | None = Field(
        None,
        description="A Secrets Manager secret whose JSON keys MLFLOW_TRACKING_URI, "
        "MLFLOW_TRACKING_USERNAME, MLFLOW_TRACKING_PASSWORD become the containers' environment; "
        "null: none.",
    )

    @field_validator("execution_role_arn", "task_role_arn", "secret_arn")
    @classmethod
    def _arn(cls, value: str | None) -> str | None:
        return check_arn(value)


class AzureMLExportConfig(Section):
    """The Azure ML workspace's resources the pipeline jobs use."""

    compute: str = Field("cpu-cluster", description="The compute cluster every step runs on.")
    experiment: str | None = Field(None, description="Experiment name; null: <package>.")


class DatabricksExportConfig(Section):
    """The job cluster of the Databricks jobs and the workspace of the bundle."""

    host: str | None = Field(
        None,
        description="Workspace URL of the bundle's target, e.g. https://adb-1.azuredatabricks.net; "
        "null: the Databricks CLI profile's.",
    )
    spark_version: str = Field(
        "15.4.x-scala2.12", description="Databricks Runtime of the job cluster."
    )
    node_type_id: str = Field("i3.xlarge", description="Node type of the job cluster.")
    num_workers: int = Field(1, ge=0, description="Workers of the job cluster.")
    secret_scope: str | None = Field(
        None,
        description="A secret scope whose keys mlflow_tracking_username / "
        "mlflow_tracking_password become the cluster's environment; null: the workspace's own "
        "MLflow (MLFLOW_TRACKING_URI=databricks).",
    )

    @field_validator("host")
    @classmethod
    def _https(cls, value: str | None) -> str | None:
        if value is not None and not re.match(r"^https://[^/@\s]+/?$", value):
            # the message does not repeat the value: it may hold a user and password
            raise ValueError("not a workspace URL; use https://<workspace host>, nothing more")
        return value
