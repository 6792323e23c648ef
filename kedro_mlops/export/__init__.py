"""``kedro mlops export``: the images of ``kedro mlops package`` as Airflow DAGs or Kubeflow
pipelines, each with a continuous-training twin (drift check, retraining on drift).

Usable from Python on its own::

    from kedro_mlops.export import PipelineData, ContainerSettings, plan_export, write_export
    from kedro_mlops.export import ExportProject, export_project  # all of it, as the command does
"""

from __future__ import annotations

from kedro_mlops.export.errors import ExportError
from kedro_mlops.export.graph import PipelineData, ancestors, topological_order, upstream_of
from kedro_mlops.export.plan import (
    ContainerSettings,
    ContinuousTraining,
    ExportPlan,
    Service,
    Step,
    Training,
    k8s_name,
    merge_options,
    monitor_command,
    plan_export,
)
from kedro_mlops.export.project import ExportProject, export_project
from kedro_mlops.export.render import ExportResult, template_path, write_export

__all__ = [
    "ContainerSettings",
    "ContinuousTraining",
    "ExportError",
    "ExportPlan",
    "ExportProject",
    "ExportResult",
    "PipelineData",
    "Service",
    "Step",
    "Training",
    "ancestors",
    "export_project",
    "k8s_name",
    "merge_options",
    "monitor_command",
    "plan_export",
    "template_path",
    "topological_order",
    "upstream_of",
    "write_export",
]
