"""The starters kedro-mlops registers (entry point ``kedro.starters``)."""

from __future__ import annotations

import keyword
from pathlib import Path

from kedro.framework.cli.starters import KedroStarterSpec

ALIAS = "mlops"


def package_name(project_name: str) -> str:
    """The Python package a project name gives (the rule of the starter's cookiecutter.json)."""
    return project_name.strip().replace(" ", "_").replace("-", "_").lower()


def project_name_problem(project_name: str) -> str | None:
    """Why ``project_name`` cannot name a project of the starter, or ``None`` when it can."""
    package = package_name(project_name)
    if package.isidentifier() and not keyword.iskeyword(package):
        return None
    return (
        f"Invalid project name {project_name!r}: it gives the Python package name {package!r}, "
        "which cannot be imported. Use a name that starts with a letter, e.g. 'Churn Demo'."
    )


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
