"""``kedro mlops ...``: click wiring only (entry point ``kedro.project_commands``).

One module per command group; each command translates its options, makes one domain call and
prints the report that call returns. What a command reads from the Kedro project (its context,
``mlops.yml``, pipelines, image names) is in ``cli/project.py``.
"""

from __future__ import annotations

from kedro_mlops.cli import ci, deploy, export, monitor, package, rollout, serve, tracking
from kedro_mlops.cli.ci import add_ci_files, ci_project
from kedro_mlops.cli.group import commands, mlops

__all__ = [
    "add_ci_files",
    "ci",
    "ci_project",
    "commands",
    "deploy",
    "export",
    "mlops",
    "monitor",
    "package",
    "rollout",
    "serve",
    "tracking",
]
