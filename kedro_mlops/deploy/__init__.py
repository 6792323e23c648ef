"""``kedro mlops deploy``: the packaged images as Kubernetes manifests (a kustomize base and one
overlay per environment) and the script that rolls them out, checks them and rolls them back.

Usable from Python on its own::

    from kedro_mlops.deploy import Container, plan_deploy, deploy_project
"""

from __future__ import annotations

from kedro_mlops.deploy.errors import DeployError
from kedro_mlops.deploy.kustomize import tree
from kedro_mlops.deploy.manifests import serving_objects, training_job
from kedro_mlops.deploy.plan import Container, DeployPlan, Overlay, image_name, plan_deploy
from kedro_mlops.deploy.readme import render_readme
from kedro_mlops.deploy.write import DeployReport, deploy_project, render_script

__all__ = [
    "Container",
    "DeployError",
    "DeployPlan",
    "DeployReport",
    "Overlay",
    "deploy_project",
    "image_name",
    "plan_deploy",
    "render_readme",
    "render_script",
    "serving_objects",
    "training_job",
    "tree",
]
