"""``kedro mlops deploy`` from start to end: the plan's files written at once (a tree that is
complete or not there), and what was written (``deploy_project``)."""

from __future__ import annotations

import json
import os
import shutil
import stat
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined

from kedro_mlops.deploy.alerts import RULES_FILE, rules_text
from kedro_mlops.deploy.compose import compose_files
from kedro_mlops.deploy.errors import DeployError
from kedro_mlops.deploy.kustomize import tree
from kedro_mlops.deploy.plan import SERVICE_PORT
from kedro_mlops.deploy.readme import render_readme

if TYPE_CHECKING:
    from collections.abc import Callable

    from kedro_mlops.deploy.plan import DeployPlan

TEMPLATES = Path(__file__).resolve().parent.parent / "templates" / "deploy"
MARKER = ".kedro-mlops-deploy"


@dataclass(frozen=True)
class DeployReport:
    """What ``deploy_project`` wrote."""

    plan: DeployPlan
    where: str  # the tree, relative to the project when inside it
    files: tuple[str, ...]
    rules: str = ""  # the Prometheus alerting rules, beside the tree

    def lines(self) -> list[str]:
        plan = self.plan
        if plan.config.target == "compose":
            return [
                f"Wrote {self.where}/ ({len(self.files)} files): {', '.join(self.files)}",
                f"Alerting rules: {self.rules}",
                f"Run: docker compose -f {self.where}/compose.yaml up -d   (or podman-compose)",
            ]
        overlays = [overlay.name for overlay in plan.overlays]
        listed = ",".join(overlays)
        lines = [f"Wrote {self.where}/ ({len(self.files)} files): base/, overlays/{{{listed}}}/"]
        lines.append(
            f"  {plan.serve_name:<28} Deployment, Service, autoscaler of {plan.serve_image}"
        )
        if plan.scoring and plan.config.scoring_schedule:
            scoring = " -> ".join(image for _name, image in plan.scoring)
            lines.append(
                f"  {plan.slug + '-scoring':<28} CronJob "
                f"({plan.config.scoring_schedule}): {scoring}"
            )
        if plan.training and plan.config.training:
            training = " -> ".join(image for _name, image in plan.training)
            lines.append(f"  {plan.slug + '-training':<28} Job, on demand: {training}")
        first = overlays[0]
        lines.append(f"Alerting rules: {self.rules} (errors, p99 latency, class share, no traffic)")
        lines += [
            f"Review: kubectl kustomize {self.where}/overlays/{first}",
            f"Deploy: make deploy ENV={first}   (or: bash {self.where}/deploy.sh {first}: apply, "
            "rollout status, smoke test, rollback on failure)",
        ]
        return lines


def render_script(plan: DeployPlan, where: str) -> str:
    environment = Environment(  # noqa: S701 - a shell script, not HTML
        loader=FileSystemLoader(str(TEMPLATES)),
        undefined=StrictUndefined,
        keep_trailing_newline=True,
    )
    template = environment.get_template("deploy.sh.j2")
    return template.render(
        project_name=plan.project_name,
        where=where,
        serve_name=plan.serve_name,
        service_port=SERVICE_PORT,
        rollout_timeout_s=plan.config.rollout_timeout_s,
        training_job=f"{plan.slug}-training" if plan.training and plan.config.training else "",
        overlays=[
            {"name": overlay.name, "namespace": overlay.namespace or plan.config.namespace}
            for overlay in plan.overlays
        ],
    )


def deploy_project(
    plan: DeployPlan,
    directory: Path,
    *,
    project_path: Path,
    smoke_row: dict[str, Any],
    image_exists: Callable[[str], bool] | None = None,
) -> DeployReport:
    """Write the deployment of ``plan`` into ``directory``: the kustomize tree, ``deploy.sh``,
    ``smoke-row.json`` (the smoke test's request) and a README. The tree replaces the one a
    previous run wrote, all at once; nothing is written when a check fails.

    ``image_exists`` (``--check-images``) is asked about every image reference first.

    Raises:
        DeployError: an image that was never built, a directory kedro-mlops did not write.
    """
    if image_exists is not None:
        missing = [ref for ref in plan.images if not image_exists(ref)]
        if missing:
            raise DeployError(
                f"Image(s) not found in the local image store: {', '.join(missing)}. Build them "
                "(`kedro mlops package --build`, with the same --tag), or deploy a tag that was "
                "built (--image-tag)."
            )
    if directory.exists() and any(directory.iterdir()) and not (directory / MARKER).exists():
        raise DeployError(
            f"{directory} exists, is not empty and was not written by kedro mlops deploy; "
            "choose another --output (or empty it yourself)."
        )
    where = _relative(directory, project_path)
    if plan.config.target == "compose":
        files = compose_files(plan, where)
    else:
        files = tree(plan)
        files["deploy.sh"] = render_script(plan, where)
        files["README.md"] = render_readme(plan, where)
    files["smoke-row.json"] = json.dumps(smoke_row, indent=2, default=str) + "\n"
    files[MARKER] = "Written by `kedro mlops deploy`; the directory is replaced on every run.\n"
    _write_at_once(directory, files)
    rules = directory.parent / RULES_FILE
    rules.parent.mkdir(parents=True, exist_ok=True)
    partial = rules.with_name(f".{rules.name}.partial")
    partial.write_text(rules_text(plan.config.alerts, plan.serve_name), encoding="utf-8")
    partial.replace(rules)
    return DeployReport(
        plan,
        where,
        tuple(sorted(name for name in files if name != MARKER)),
        _relative(rules, project_path),
    )


def _write_at_once(directory: Path, files: dict[str, str]) -> None:
    """Write ``files`` beside ``directory``, then swap the new tree in."""
    directory.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{directory.name}-", dir=directory.parent))
    try:
        for name, text in files.items():
            path = staging / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
        script = staging / "deploy.sh"
        if script.exists():
            script.chmod(script.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
        old = None
        if directory.exists():
            old = directory.with_name(f".{directory.name}-old-{os.getpid()}")
            directory.rename(old)
        staging.rename(directory)
        if old is not None:
            shutil.rmtree(old)
    finally:
        if staging.exists():
            shutil.rmtree(staging)


def _relative(path: Path, root: Path) -> str:
    try:
        return path.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return str(path)
