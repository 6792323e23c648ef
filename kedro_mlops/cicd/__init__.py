"""CI > CT > CD for a Kedro project: the Makefile every CI job calls, GitHub Actions, GitLab CI,
Azure Pipelines and Cloud Build pipelines (``kedro mlops ci`` and the starter), and the gate's
decision as a CI output (``kedro mlops gate``).

Usable from Python on its own::

    from kedro_mlops.cicd import CiProject, providers_for, render_files, write_files
"""

from __future__ import annotations

from kedro_mlops.cicd.files import (
    CHOICES,
    DEFAULT_CHOICE,
    GATE_VARIABLE,
    PROVIDERS,
    CiError,
    CiProject,
    WriteReport,
    merge_readme,
    providers_for,
    readme_paragraphs,
    readme_section,
    render_files,
    report_lines,
    validation_nodes,
    write_files,
)
from kedro_mlops.cicd.gate import env_line, gitlab_include, write_outputs

__all__ = [
    "CHOICES",
    "DEFAULT_CHOICE",
    "GATE_VARIABLE",
    "PROVIDERS",
    "CiError",
    "CiProject",
    "WriteReport",
    "env_line",
    "gitlab_include",
    "merge_readme",
    "providers_for",
    "readme_paragraphs",
    "readme_section",
    "render_files",
    "report_lines",
    "validation_nodes",
    "write_files",
    "write_outputs",
]
