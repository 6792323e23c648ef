"""Project names the starter accepts. Pure (no Kedro import): the starter's cookiecutter hook
imports it."""

from __future__ import annotations

import keyword


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
        "which cannot be imported. Start with a letter; use letters, digits, spaces, '-' and "
        "'_', e.g. 'Churn Demo'."
    )
