"""The cloud targets' files (Step Functions, Azure ML, Databricks): each target's module builds
them from the plan; they are written, then checked by the platform's own validator when it is
installed (statelint, azure-ai-ml, databricks-bundles: the target's extra)."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from kedro_mlops.export import azureml, databricks, stepfunctions

if TYPE_CHECKING:
    from pathlib import Path

    from kedro_mlops.export.plan import ExportPlan

MODULES = {"stepfunctions": stepfunctions, "azureml": azureml, "databricks": databricks}


def write_files(plan: ExportPlan, directory: Path, project_path: Path) -> list[Path]:
    """Write the files of ``plan.target`` into ``directory``; the paths written."""
    if plan.target == "databricks":
        root = os.path.relpath(project_path.resolve(), directory.resolve())
        texts = databricks.files(plan, project_root=root)
    else:
        texts = MODULES[plan.target].files(plan)
    paths = []
    for name, text in texts.items():
        path = directory / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        paths.append(path)
    return paths


def validate(target: str, paths: list[Path]) -> str:
    """What checked the files (``Validated with statelint 3.1.0``), or how to have them checked.

    Raises:
        ExportError: the validator's problems, naming the file.
    """
    module = MODULES[target]
    validator = module.validate(paths)
    if validator is None:
        return f"Not validated here: `{module.INSTALL}` checks them as they are written."
    return f"Validated with {validator}."
