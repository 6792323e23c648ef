"""The whole ``mlops.yml``, and reading it: validation only, no side effects."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, TypeVar, get_args

import yaml
from pydantic import BaseModel, Field, ValidationError

from kedro_mlops.config.base import Section
from kedro_mlops.config.deploy import DeployConfig
from kedro_mlops.config.export import ExportConfig
from kedro_mlops.config.monitoring import MonitoringConfig
from kedro_mlops.config.packaging import PackagingConfig
from kedro_mlops.config.rollout import RolloutConfig
from kedro_mlops.config.serving import ServingConfig
from kedro_mlops.config.tracking import RegistryConfig, TrackingConfig
from kedro_mlops.errors import ConfigError, validation_message

if TYPE_CHECKING:
    from pathlib import Path


class MlopsConfig(Section):
    """The whole ``mlops.yml``. Validated on every kedro command: unknown keys are rejected.
    Override per environment in ``conf/<env>/mlops.yml``."""

    tracking: TrackingConfig = Field(
        TrackingConfig(), description="Where MLflow records runs, and what a run records."
    )
    registry: RegistryConfig = Field(
        RegistryConfig(),
        description="Registration of every training run's model, and the champion/challenger gate.",
    )
    serving: ServingConfig = Field(
        ServingConfig(),
        description="Which model scores (batch and online) and the REST server's options.",
    )
    rollout: RolloutConfig = Field(
        RolloutConfig(),
        description="`kedro mlops rollout analyze`: when the challenger is promoted, held or "
        "rolled back on live traffic.",
    )
    packaging: PackagingConfig = Field(
        PackagingConfig(),
        description="`kedro mlops package`: one container image per pipeline, and the serving "
        "image.",
    )
    monitoring: MonitoringConfig = Field(
        MonitoringConfig(), description="Drift checks with Evidently's tests."
    )
    export: ExportConfig = Field(
        ExportConfig(),
        description="`kedro mlops export`: the images as orchestrator definitions with "
        "continuous training.",
    )
    deploy: DeployConfig = Field(
        DeployConfig(),
        description="`kedro mlops deploy`: Kubernetes manifests of the images, one overlay per "
        "environment.",
    )


def parse_config(data: dict[str, Any] | None, source: str = "mlops.yml") -> MlopsConfig:
    """Validate raw ``mlops.yml`` content.

    Raises:
        ConfigError: naming ``source``, each offending key and what was expected.
    """
    try:
        return MlopsConfig.model_validate(data or {})
    except ValidationError as exc:
        raise ConfigError(_describe(exc, source)) from None


def _describe(exc: ValidationError, source: str) -> str:
    lines = [f"Invalid kedro-mlops configuration in {source}:"]
    for err in exc.errors():
        key = ".".join(str(part) for part in err["loc"])
        if err["type"] == "extra_forbidden":
            parent = model_at(err["loc"][:-1])
            allowed = ", ".join(parent.model_fields) if parent else "?"
            lines.append(f"  - unknown key {key!r} (expected one of: {allowed})")
        elif err["type"] == "credential":
            lines.append(f"  - {key!r}: {validation_message(err)}")
        else:
            lines.append(f"  - {key!r}: {validation_message(err)} (got {err['input']!r})")
    return "\n".join(lines)


SectionT = TypeVar("SectionT", bound=BaseModel)


def override(section: SectionT, **options: Any) -> SectionT:  # noqa: ANN401 - option values
    """``section`` with command-line options (``None``: not given) in place of its keys.

    Raises:
        ConfigError: naming the option (``--schedule``) and what it should look like.
    """
    chosen = {name: value for name, value in options.items() if value is not None}
    try:
        return type(section).model_validate(section.model_dump() | chosen)
    except ValidationError as exc:
        problems = [
            f"--{str(error['loc'][0]).replace('_', '-')} {error['input']!r}: "
            + validation_message(error)
            for error in exc.errors()
        ]
        raise ConfigError("Invalid option " + "; ".join(problems)) from None


def section_model(annotation: Any) -> type[BaseModel] | None:  # noqa: ANN401 - a type hint
    """The model a field holds: ``X``, ``list[X]`` or ``X | None`` gives ``X``."""
    for candidate in (annotation, *get_args(annotation)):
        if isinstance(candidate, type) and issubclass(candidate, BaseModel):
            return candidate
    return None


def model_at(loc: tuple[Any, ...]) -> type[BaseModel] | None:
    """The model of the section at ``loc`` (keys, and list indexes) under ``MlopsConfig``."""
    model: type[BaseModel] = MlopsConfig
    for part in loc:
        if isinstance(part, int):  # an item of a list field: its model is already selected
            continue
        field = model.model_fields.get(str(part))
        found = section_model(field.annotation if field else None)
        if found is None:
            return None
        model = found
    return model


def config_files(conf_root: Path, envs: list[str]) -> list[Path]:
    """The ``mlops*.yml`` files of ``envs`` under ``conf_root`` that exist, base first."""
    files: list[Path] = []
    for env in envs:
        files.extend(sorted((conf_root / env).glob("mlops*.y*ml")))
    return files


def validate_files(files: list[Path], root: Path) -> None:
    """Validate each file on its own so an error names the file that holds it."""
    for path in files:
        name = _relative(path, root)
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8"))
        except yaml.YAMLError as exc:
            raise ConfigError(f"{name} is not valid YAML: {exc}") from None
        if data is not None and not isinstance(data, dict):
            raise ConfigError(f"{name} must hold a mapping of sections, got {type(data).__name__}")
        parse_config(data, name)


def _relative(path: Path, root: Path) -> str:
    try:
        return str(path.relative_to(root))
    except ValueError:
        return str(path)
