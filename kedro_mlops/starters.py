"""The starters kedro-mlops registers (entry point ``kedro.starters``)."""

from __future__ import annotations

from pathlib import Path

from kedro.framework.cli.starters import KedroStarterSpec

ALIAS = "mlops"


def starter_dir(name: str = ALIAS) -> Path:
    """Where the starter template lives: inside the wheel, or in a source checkout."""
    packaged = Path(__file__).parent / "_starters" / name
    if packaged.is_dir():
        return packaged
    return Path(__file__).parent.parent / "starters" / name


def project_template_dir(name: str = ALIAS) -> Path:
    """The cookiecutter project directory of the starter (holds ``conf/base``)."""
    return starter_dir(name) / "{{ cookiecutter.repo_name }}"


starters = [KedroStarterSpec(alias=ALIAS, template_path=str(starter_dir()))]
