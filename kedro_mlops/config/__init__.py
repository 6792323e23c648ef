"""The models of ``conf/<env>/mlops.yml``, one module per section: validation only, no side
effects.

Unknown keys are rejected (``extra="forbid"``) so a typo never silently falls back to a default.
Every field carries its description: the configuration reference and the shipped ``mlops.yml``
are written from them (``kedro_mlops.config.reference``).
"""

from __future__ import annotations

from kedro_mlops.config.base import (
    DEFAULT_BASE_IMAGE,
    DEFAULT_DRIFT_SHARE,
    SERVE_IMAGE,
    SERVE_PORT,
    Section,
)
from kedro_mlops.config.deploy import DeployConfig, DeployResources, OverlayConfig
from kedro_mlops.config.export import (
    AirflowExportConfig,
    ContinuousTrainingConfig,
    ExportConfig,
    ExportResources,
    KubernetesExportConfig,
    check_k8s_name,
    check_quantity,
    check_schedule,
)
from kedro_mlops.config.monitoring import (
    DriftCheckConfig,
    MonitoringConfig,
    PerformanceConfig,
    PredictionDriftConfig,
)
from kedro_mlops.config.packaging import DEFAULT_PRUNE, PackagingConfig
from kedro_mlops.config.rollout import RolloutAnalysisConfig, RolloutConfig, ServingRolloutConfig
from kedro_mlops.config.root import (
    MlopsConfig,
    config_files,
    model_at,
    override,
    parse_config,
    section_model,
    validate_files,
)
from kedro_mlops.config.serving import ServingConfig
from kedro_mlops.config.tracking import (
    GateConfig,
    LineageConfig,
    RegistryConfig,
    TrackingConfig,
)

__all__ = [
    "DEFAULT_BASE_IMAGE",
    "DEFAULT_DRIFT_SHARE",
    "DEFAULT_PRUNE",
    "SERVE_IMAGE",
    "SERVE_PORT",
    "AirflowExportConfig",
    "ContinuousTrainingConfig",
    "DeployConfig",
    "DeployResources",
    "DriftCheckConfig",
    "ExportConfig",
    "ExportResources",
    "GateConfig",
    "KubernetesExportConfig",
    "LineageConfig",
    "MlopsConfig",
    "MonitoringConfig",
    "OverlayConfig",
    "PackagingConfig",
    "PerformanceConfig",
    "PredictionDriftConfig",
    "RegistryConfig",
    "RolloutAnalysisConfig",
    "RolloutConfig",
    "Section",
    "ServingConfig",
    "ServingRolloutConfig",
    "TrackingConfig",
    "check_k8s_name",
    "check_quantity",
    "check_schedule",
    "config_files",
    "model_at",
    "override",
    "parse_config",
    "section_model",
    "validate_files",
]
