"""How kedro-mlops reads a Kedro project (entry floor: Kedro wiring, shared by the hooks and
``cli.py``): its ``mlops.yml`` through the project's config loader (loaded once per loader,
whichever hook or command asks first), the MLflow experiment and the registered model name.

``config.py`` validates; the config loader's patterns are patched here, where Kedro is wired.
"""

from __future__ import annotations

import weakref
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kedro_mlops import internals
from kedro_mlops.config import MlopsConfig, config_files, parse_config, validate_files

if TYPE_CHECKING:
    from kedro.config import AbstractConfigLoader
    from kedro.framework.context import KedroContext

CONFIG_PATTERNS = {
    "mlops": ["mlops*", "mlops*/**", "**/mlops*"],
    "mlflow": ["mlflow*", "mlflow*/**", "**/mlflow*"],  # kedro-mlflow's own patterns
}
# a loader's mlops.yml, read once: the tracking hook, the monitoring hook and a command all ask.
# By id, with a weak reference to tell a live loader from a new one at a reused address (config
# loaders are mappings: unhashable, so no WeakKeyDictionary)
_LOADED: dict[int, tuple[weakref.ref[Any], MlopsConfig]] = {}


def _patterns(config_loader: AbstractConfigLoader, key: str) -> None:
    if key not in config_loader.config_patterns:
        config_loader.config_patterns.update({key: CONFIG_PATTERNS[key]})


def load_project_config(config_loader: AbstractConfigLoader, project_path: Path) -> MlopsConfig:
    """Read and validate ``mlops.yml`` through the project's config loader (once per loader).

    Each ``mlops*.yml`` file is first validated on its own, so an unknown key is reported with
    the file that holds it; then the merged result (base, then the run environment) is validated.
    """
    cached = _LOADED.get(id(config_loader))
    if cached is not None and cached[0]() is config_loader:
        return cached[1]
    from kedro.config import MissingConfigException  # noqa: PLC0415 - keep import time low

    _patterns(config_loader, "mlops")
    conf_root = Path(config_loader.conf_source)
    if not conf_root.is_absolute():
        conf_root = project_path / conf_root
    run_env = config_loader.env or config_loader.default_run_env
    envs = [env for env in (config_loader.base_env, run_env) if env]
    validate_files(config_files(conf_root, envs), project_path)
    try:
        merged = config_loader["mlops"]
    except MissingConfigException:
        merged = {}
    config = parse_config(merged, "mlops.yml")
    try:
        reference = weakref.ref(config_loader, lambda _gone, key=id(config_loader): _forget(key))
    except TypeError:  # a loader that cannot be weakly referenced: read each time
        return config
    _LOADED[id(config_loader)] = (reference, config)
    return config


def _forget(key: int) -> None:
    _LOADED.pop(key, None)


def project_config(project_path: Path, env: str | None = None) -> MlopsConfig:
    """``mlops.yml`` of a project read with its settings' config loader, without a session
    (no hooks run: for commands that only need the configuration)."""
    from kedro.framework.project import settings  # noqa: PLC0415

    loader = settings.CONFIG_LOADER_CLASS(
        conf_source=str(project_path / settings.CONF_SOURCE),
        env=env,
        **settings.CONFIG_LOADER_ARGS,
    )
    return load_project_config(loader, project_path)


def context_config(context: KedroContext) -> MlopsConfig:
    """The ``mlops.yml`` of a session's context."""
    return load_project_config(context.config_loader, Path(context.project_path))


def experiment_name(context: KedroContext) -> str:
    """The MLflow experiment of the project's runs: ``mlflow.yml``'s
    ``tracking.experiment.name`` (what kedro-mlflow uses), else the package name. Read from the
    config loader: the tracking hook needs it before kedro-mlflow has set up ``context.mlflow``."""
    from kedro.config import MissingConfigException  # noqa: PLC0415

    loader = context.config_loader
    _patterns(loader, "mlflow")
    try:
        conf = loader["mlflow"] or {}
    except MissingConfigException:
        conf = {}
    name = ((conf.get("tracking") or {}).get("experiment") or {}).get("name")
    return name or internals.package_name(context)


def model_name(context: KedroContext, config: MlopsConfig) -> str:
    """The project's registered model (the registry gate and every command use this one)."""
    from kedro_mlops.tracking.registry import registered_model_name  # noqa: PLC0415

    return registered_model_name(config.registry, internals.package_name(context))
