"""Add kedro-mlops's configuration to an existing Kedro project (``kedro mlops init``)."""

from __future__ import annotations

import shutil
from pathlib import Path

from kedro_mlops.errors import ProjectError
from kedro_mlops.starters import project_template_dir

CONFIG_FILES = ("mlops.yml", "mlflow.yml")


def default_config_file(name: str) -> Path:
    """The shipped default of ``conf/base/<name>`` (the starter's copy)."""
    return project_template_dir() / "conf" / "base" / name


def write_config_files(conf_dir: Path, *, force: bool = False) -> list[Path]:
    """Copy ``mlops.yml`` and ``mlflow.yml`` into ``conf_dir``.

    Raises:
        ProjectError: if a file exists and ``force`` is false; nothing is written then.
    """
    targets = [conf_dir / name for name in CONFIG_FILES]
    existing = [path for path in targets if path.exists()]
    if existing and not force:
        names = ", ".join(str(path) for path in existing)
        raise ProjectError(
            f"{names} already exist(s); nothing was written. Re-run with --force to overwrite them."
        )
    conf_dir.mkdir(parents=True, exist_ok=True)
    for target in targets:
        shutil.copyfile(default_config_file(target.name), target)
    return targets
