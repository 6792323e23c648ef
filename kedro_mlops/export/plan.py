"""What the orchestrator definitions hold: steps, their images, commands and order. Pure:
built from plain values (pipeline data, image references, mlops.yml), no Kedro import."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from kedro_mlops import names
from kedro_mlops.config import override
from kedro_mlops.errors import ConfigError
from kedro_mlops.export.errors import ExportError
from kedro_mlops.export.graph import ancestors, producer_of, topological_order, upstream_of

if TYPE_CHECKING:
    from collections.abc import Callable

    from kedro_mlops.config import ExportConfig, MonitoringConfig
    from kedro_mlops.export.graph import PipelineData

# targets whose settings are a section export.<target> of the same name
CLOUD_TARGETS = ("stepfunctions", "azureml", "databricks")
# the drift check's exit codes (`kedro mlops monitor`): 0 no drift, 1 drift, anything else: error
DRIFT_EXIT_CODE = 1


def k8s_name(*parts: str) -> str:
    """A Kubernetes object name of ``parts`` (``names.k8s_name``).

    Raises:
        ExportError: when nothing valid is left.
    """
    try:
        return names.k8s_name(*parts)
    except ValueError as exc:
        raise ExportError(str(exc)) from None


def identifier(name: str) -> str:
    """A Python identifier and Airflow task id made of a pipeline name."""
    text = re.sub(r"\W+", "_", name).strip("_") or "pipeline"
    return f"p_{text}" if text[0].isdigit() else text


@dataclass(frozen=True)
class Step:
    """One container run: a Kedro pipeline's image (its entrypoint runs the pipeline) or the
    drift check (``command`` given)."""

    task_id: str  # Airflow task id, Python identifier
    name: str  # Kubernetes name (pods, KFP components)
    image: str
    upstream: tuple[str, ...] = ()  # task ids
    pipeline: str | None = None
    command: tuple[str, ...] = ()  # empty: the image's entrypoint

    @property
    def label(self) -> str:
        return self.pipeline or self.task_id


@dataclass(frozen=True)
class Training:
    """``<project>``: every packaged Kedro pipeline, in the order of their data."""

    dag_id: str
    name: str
    schedule: str | None
    steps: tuple[Step, ...]


@dataclass(frozen=True)
class ContinuousTraining:
    """``<project>_ct``: the drift check (and performance checks), then (on drift or
    degradation) the pipelines the scoring depends on."""

    dag_id: str
    name: str
    schedule: str | None
    check: str
    monitor: Step
    retrain: tuple[Step, ...]
    quality: tuple[str, ...] = ()  # performance checks run with it (retrain on degradation too)


@dataclass(frozen=True)
class Service:
    """A packaged image that is not a Kedro pipeline (e.g. an online-serving server)."""

    name: str
    image: str


@dataclass(frozen=True)
class ExportPlan:
    """Everything the templates render (they get these fields as variables)."""

    project_name: str
    package: str
    kedro_mlops_version: str
    target: str
    operator: str
    training: Training
    ct: ContinuousTraining | None
    ct_note: str | None  # why there is no continuous training
    services: tuple[Service, ...]
    environment: dict[str, str]
    resources: dict[str, str | None]
    namespace: str | None
    data_claim: str
    mlflow_claim: str
    secret: str
    workdir: str
    data_dir: str
    mlflow_dir: str
    tracking_uri: str
    registry: str | None = None
    uid: int = 10001
    # the settings of a cloud target (export.<target>: stepfunctions, azureml, databricks)
    platform: dict[str, object] = field(default_factory=dict)

    @property
    def variable_prefix(self) -> str:
        """Airflow Variables of this project start with it (``bar_demo_data_dir``)."""
        return self.package

    @property
    def images(self) -> dict[str, str]:
        """Pipeline name -> image reference, in task order."""
        return {step.label: step.image for step in self.training.steps}

    @property
    def requests(self) -> dict[str, str]:
        """Kubernetes resource requests (only those configured)."""
        wanted = {"cpu": self.resources.get("cpu"), "memory": self.resources.get("memory")}
        return {name: value for name, value in wanted.items() if value}

    @property
    def limits(self) -> dict[str, str]:
        """Kubernetes resource limits (only those configured)."""
        limit = self.resources.get("memory_limit")
        return {"memory": limit} if limit else {}

    def variables(self) -> dict[str, object]:
        """The template variables: every field and property, and the drift exit code."""
        values: dict[str, object] = {
            name: getattr(self, name) for name in self.__dataclass_fields__
        }
        for name in ("variable_prefix", "images", "requests", "limits"):
            values[name] = getattr(self, name)
        values["drift_exit_code"] = DRIFT_EXIT_CODE
        return values


@dataclass(frozen=True)
class ContainerSettings:
    """Where the images work (from ``kedro mlops package``)."""

    workdir: str
    data_dir: str
    mlflow_dir: str
    tracking_uri: str


def merge_options(config: ExportConfig, **options: str | None) -> ExportConfig:
    """Command-line options (``None``: not given) override the ``export:`` keys of mlops.yml.

    Raises:
        ExportError: naming the option (``--schedule``) and what it should look like.
    """
    try:
        return override(config, **options)
    except ConfigError as exc:
        raise ExportError(exc.message) from None


def pipeline_command(package: str, pipeline: str) -> tuple[str, ...]:
    """What a pipeline's image runs (its entrypoint, templates/packaging/Dockerfile.j2), for the
    platforms that start a command in the image instead of its entrypoint."""
    return ("python", "-m", package, "--pipelines", pipeline)


def monitor_command(check: str, *quality: str) -> tuple[str, ...]:
    """The drift check (and performance checks) inside an image: exit 0 no drift and no
    degradation, 1 drift or degradation, 2 error (``--fail-on-alert`` covers both)."""
    checks = (part for name in (check, *quality) for part in ("--check", name))
    return ("kedro", "mlops", "monitor", *checks, names.FAIL_ON_ALERT)


def plan_export(
    *,
    project_name: str,
    package: str,
    version: str,
    pipelines: list[PipelineData],
    images: dict[str, str],
    services: dict[str, str],
    config: ExportConfig,
    monitoring: MonitoringConfig,
    container: ContainerSettings,
    registry: str | None = None,
) -> ExportPlan:
    """The definitions for ``pipelines`` (packaged Kedro pipelines, in packaging order).

    Raises:
        ExportError: no pipeline to schedule, an unknown check, a cycle in the data.
    """
    if not pipelines:
        raise ExportError(
            "No Kedro pipeline to schedule: packaging.pipelines in mlops.yml lists none that "
            f"the project registers (listed: {', '.join(services) or 'none'})."
        )
    upstream = upstream_of(pipelines)
    order = topological_order(upstream)
    tasks = {name: identifier(name) for name in order}

    def step(name: str, among: set[str] | None = None) -> Step:
        before = [p for p in upstream[name] if among is None or p in among]
        return Step(
            task_id=tasks[name],
            name=k8s_name(project_name, name),
            image=images[name],
            upstream=tuple(tasks[p] for p in before),
            pipeline=name,
        )

    slug = k8s_name(project_name)
    training = Training(
        dag_id=package,
        name=slug,
        schedule=config.schedule,
        steps=tuple(step(name) for name in order),
    )
    ct, ct_note = _continuous_training(
        config, monitoring, pipelines, upstream, order, step, package, slug, images
    )
    kube = config.kubernetes
    data_claim, mlflow_claim, secret = kube.names(slug)
    return ExportPlan(
        project_name=project_name,
        package=package,
        kedro_mlops_version=version,
        target=config.target,
        operator=config.airflow.operator,
        training=training,
        ct=ct,
        ct_note=ct_note,
        services=tuple(Service(name, image) for name, image in services.items()),
        environment=dict(config.environment),
        resources=config.resources.model_dump(),
        namespace=kube.namespace,
        data_claim=data_claim,
        mlflow_claim=mlflow_claim,
        secret=secret,
        workdir=container.workdir,
        data_dir=container.data_dir,
        mlflow_dir=container.mlflow_dir,
        tracking_uri=container.tracking_uri,
        registry=registry,
        platform=_platform_settings(config),
    )


def _platform_settings(config: ExportConfig) -> dict[str, object]:
    """``export.<target>`` of a cloud target as plain values; empty for the others."""
    section = getattr(config, config.target, None)
    return section.model_dump() if config.target in CLOUD_TARGETS and section else {}


def _continuous_training(  # noqa: PLR0917 - the parts of plan_export it needs
    config: ExportConfig,
    monitoring: MonitoringConfig,
    pipelines: list[PipelineData],
    upstream: dict[str, tuple[str, ...]],
    order: list[str],
    step: Callable[..., Step],
    package: str,
    slug: str,
    images: dict[str, str],
) -> tuple[ContinuousTraining | None, str | None]:
    if not config.ct.enabled:
        return None, "export.ct.enabled is false"
    checks = {check.name: check for check in monitoring.checks}
    if config.ct.check is not None and config.ct.check not in checks:
        raise ExportError(
            f"export.ct.check {config.ct.check!r} is not a check of monitoring.checks in "
            f"mlops.yml (configured: {', '.join(checks) or 'none'}); name one of them, or set "
            "export.ct.enabled: false."
        )
    if not checks:
        return None, "monitoring.checks in mlops.yml is empty: there is no drift check to run"
    drift = [c.name for c in monitoring.checks if c.kind == "drift"] or [monitoring.checks[0].name]
    check = checks[config.ct.check or drift[0]]
    quality = _quality_checks(config, monitoring, pipelines)
    scorer = producer_of(pipelines, check.current)
    if scorer is None:
        raise ExportError(
            f"Drift check {check.name!r} compares dataset {check.current!r}, which none of the "
            f"exported pipelines ({', '.join(order)}) writes: package the pipeline that scores "
            "the batches (packaging.pipelines), or choose another check (export.ct.check)."
        )
    needed = ancestors(upstream, scorer)
    if not needed:
        return None, (
            f"pipeline {scorer!r}, which writes {check.current!r}, depends on no other "
            "exported pipeline: there is nothing to retrain"
        )
    monitor = Step(
        task_id="drift_check",
        name=k8s_name(slug, "drift-check"),
        image=images[scorer],
        pipeline=None,
        command=monitor_command(check.name, *quality),
    )
    retrain = tuple(step(name, needed) for name in order if name in needed)
    return (
        ContinuousTraining(
            dag_id=f"{package}_ct",
            name=f"{slug}-ct",
            schedule=config.ct.schedule,
            check=check.name,
            quality=quality,
            monitor=monitor,
            retrain=retrain,
        ),
        None,
    )


def _quality_checks(
    config: ExportConfig, monitoring: MonitoringConfig, pipelines: list[PipelineData]
) -> tuple[str, ...]:
    """The performance checks of the CT definition: ``export.ct.quality_checks``, or (null) every
    performance check of data the exported pipelines write (served traffic is the server's)."""
    names = config.ct.quality_checks
    if names is None:
        return tuple(
            check.name
            for check in monitoring.checks
            if check.kind == "performance" and producer_of(pipelines, check.current)
        )
    checks = [check.name for check in monitoring.checks]
    unknown = [name for name in names if name not in checks]
    if unknown:
        raise ExportError(
            f"export.ct.quality_checks names {', '.join(map(repr, unknown))}, not a check of "
            f"monitoring.checks in mlops.yml (configured: {', '.join(checks)})."
        )
    return tuple(names)
