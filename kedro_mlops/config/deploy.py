"""``deploy:`` of ``mlops.yml``."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator, model_validator

from kedro_mlops.config.base import Section
from kedro_mlops.config.export import check_k8s_name, check_quantity, check_schedule


class DeployResources(Section):
    """CPU and memory of a container: requests (what the scheduler reserves) and limits."""

    cpu: str | None = Field(None, description="CPU request, e.g. 250m.")
    memory: str | None = Field(None, description="Memory request, e.g. 512Mi.")
    cpu_limit: str | None = Field(None, description="CPU limit, e.g. 1; null: none.")
    memory_limit: str | None = Field(None, description="Memory limit, e.g. 1Gi.")

    @field_validator("cpu", "memory", "cpu_limit", "memory_limit")
    @classmethod
    def _quantity(cls, value: str | None) -> str | None:
        return check_quantity(value)


class OverlayConfig(Section):
    """What one environment (a kustomize overlay) changes in the base."""

    replicas: int = Field(1, ge=1, description="Replicas of the serving Deployment.")
    min_replicas: int = Field(1, ge=1, description="The HorizontalPodAutoscaler's lower bound.")
    max_replicas: int = Field(2, ge=1, description="The HorizontalPodAutoscaler's upper bound.")
    namespace: str | None = Field(
        None, description="The environment's namespace; null: deploy.namespace."
    )
    image_tag: str | None = Field(
        None, description="The images' tag in this environment; null: the one of the base."
    )
    resources: DeployResources | None = Field(
        None, description="The serving container's resources here; null: deploy.resources."
    )

    @field_validator("namespace")
    @classmethod
    def _name(cls, value: str | None) -> str | None:
        return check_k8s_name(value)

    @model_validator(mode="after")
    def _bounds(self) -> OverlayConfig:
        if not self.min_replicas <= self.replicas <= self.max_replicas:
            raise ValueError(
                f"replicas {self.replicas} must lie within min_replicas {self.min_replicas} and "
                f"max_replicas {self.max_replicas}"
            )
        return self


def _default_overlays() -> dict[str, OverlayConfig]:
    return {
        "staging": OverlayConfig(replicas=1, min_replicas=1, max_replicas=2),
        "production": OverlayConfig(replicas=2, min_replicas=2, max_replicas=6),
    }


class AlertsConfig(Section):
    """Prometheus alerting rules on the serving image's /metrics (`deploy/prometheus/rules.yml`)."""

    max_error_rate: float = Field(
        0.05, gt=0, le=1, description="The share of requests answered 5xx above which it fires."
    )
    max_p99_latency_s: float = Field(
        0.5, gt=0, description="The p99 latency of /predict and /invocations above which it fires."
    )
    max_share_shift: float = Field(
        0.2,
        gt=0,
        le=1,
        description="How far a predicted class's share may move from its average of the last "
        "day before it fires.",
    )
    no_traffic_minutes: int = Field(
        15, ge=1, description="Minutes without a scoring request after which it fires."
    )
    for_minutes: int = Field(
        5, ge=0, description="How long a condition must hold before its alert fires."
    )


class DeployConfig(Section):
    """``kedro mlops deploy``: Kubernetes manifests of the serving image (Deployment, Service,
    autoscaler, disruption budget) and of the batch images (scoring CronJob, training Job), as a
    kustomize base with one overlay per environment. CLI options override these keys. Volume
    claims and the tracking Secret are the ones ``export.kubernetes`` names."""

    target: Literal["kubernetes", "compose"] = Field(
        "kubernetes",
        description="kubernetes: a kustomize tree (base/ and overlays/<env>/); compose: one host "
        "running the serving image, an MLflow tracking server and Prometheus (docker compose, "
        "podman-compose).",
    )
    output: str = Field(
        "deploy",
        description="Where the tree is written, as <output>/<target> (relative to the project "
        "root).",
    )
    image_tag: str | None = Field(
        None, description="null: packaging.tag, else the project's version."
    )
    registry: str | None = Field(
        None,
        description="Image references under this registry, e.g. ghcr.io/acme; null: "
        "packaging.push.",
    )
    namespace: str | None = Field(
        None, description="The namespace of every object; null: the one kubectl uses."
    )
    resources: DeployResources = Field(
        DeployResources(cpu="250m", memory="512Mi", cpu_limit="1", memory_limit="1Gi"),
        description="The serving container's requests and limits.",
    )
    batch_resources: DeployResources = Field(
        DeployResources(cpu="500m", memory="1Gi", memory_limit="4Gi"),
        description="The batch containers' (scoring CronJob, training Job) requests and limits.",
    )
    target_cpu_utilization: int = Field(
        70,
        ge=1,
        le=100,
        description="The autoscaler adds replicas above this average CPU use (% of the request).",
    )
    scoring_schedule: str | None = Field(
        "@daily",
        description="When the scoring CronJob runs (cron, or @hourly, @daily ...); null: no "
        "CronJob.",
    )
    training: bool = Field(True, description="Write the training Job.")
    prometheus_image: str = Field(
        "docker.io/prom/prometheus:v2.53.0",
        description="compose: the Prometheus image that scrapes the server's /metrics.",
    )
    rollout_timeout_s: int = Field(
        300, ge=1, description="`make deploy` waits this long for the rollout before undoing it."
    )
    alerts: AlertsConfig = Field(
        AlertsConfig(),
        description="Prometheus alerting rules on the server's /metrics, written beside the "
        "manifests (prometheus/rules.yml).",
    )
    overlays: dict[str, OverlayConfig] = Field(
        default_factory=_default_overlays,
        description="One kustomize overlay per environment (`make deploy ENV=<name>`).",
    )

    @field_validator("namespace")
    @classmethod
    def _name(cls, value: str | None) -> str | None:
        return check_k8s_name(value)

    @field_validator("scoring_schedule")
    @classmethod
    def _schedule(cls, value: str | None) -> str | None:
        if value == "@once":
            raise ValueError("'@once' is no CronJob schedule; use cron fields or @daily ...")
        return check_schedule(value)

    @field_validator("overlays")
    @classmethod
    def _overlay_names(cls, overlays: dict[str, OverlayConfig]) -> dict[str, OverlayConfig]:
        if not overlays:
            raise ValueError("name at least one environment, e.g. {staging: {}}")
        for name in overlays:
            check_k8s_name(name)
        return overlays
