"""The kustomize tree of a deployment, as file contents by relative path (pure)::

base/               the serving objects and the scoring CronJob
base/training/      the training Job (run on demand: ``deploy.sh train <env>``)
overlays/<env>/     replicas, autoscaling bounds, resources, tag, namespace of <env>
overlays/<env>/training/
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import yaml

from kedro_mlops.deploy import manifests
from kedro_mlops.deploy.plan import image_name

if TYPE_CHECKING:
    from kedro_mlops.deploy.plan import DeployPlan, Overlay

KUSTOMIZATION = {"apiVersion": "kustomize.config.k8s.io/v1beta1", "kind": "Kustomization"}
FILE_OF_KIND = {
    "ConfigMap": "configmap.yaml",
    "Deployment": "deployment.yaml",
    "Service": "service.yaml",
    "HorizontalPodAutoscaler": "hpa.yaml",
    "PodDisruptionBudget": "pdb.yaml",
    "CronJob": "scoring-cronjob.yaml",
    "Job": "job.yaml",
}


def dump(document: dict[str, Any]) -> str:
    return yaml.safe_dump(document, sort_keys=False, width=100)


def _kustomization(**fields: Any) -> str:  # noqa: ANN401 - YAML values
    return dump({**KUSTOMIZATION, **{key: value for key, value in fields.items() if value}})


def _json_patch(target: dict[str, str], operations: list[dict[str, Any]]) -> dict[str, Any]:
    return {"target": target, "patch": dump(operations)}


def _images(plan: DeployPlan, overlay: Overlay) -> list[dict[str, str]]:
    """The overlay's image tag, on every image (kustomize's ``images`` transformer)."""
    if not overlay.image_tag:
        return []
    return [{"name": image_name(ref), "newTag": overlay.image_tag} for ref in plan.images]


def overlay_kustomization(plan: DeployPlan, overlay: Overlay) -> str:
    serve = {"kind": "Deployment", "name": plan.serve_name}
    patches = [
        _json_patch(
            {"kind": "HorizontalPodAutoscaler", "name": plan.serve_name},
            [
                {"op": "replace", "path": "/spec/minReplicas", "value": overlay.min_replicas},
                {"op": "replace", "path": "/spec/maxReplicas", "value": overlay.max_replicas},
            ],
        )
    ]
    if overlay.resources is not None:
        patches.append(
            _json_patch(
                serve,
                [
                    {
                        "op": "replace",
                        "path": "/spec/template/spec/containers/0/resources",
                        "value": manifests.resources(overlay.resources),
                    }
                ],
            )
        )
    return _kustomization(
        resources=["../../base"],
        namespace=overlay.namespace or plan.config.namespace,
        labels=[{"pairs": {"environment": overlay.name}, "includeSelectors": False}],
        images=_images(plan, overlay),
        replicas=[{"name": plan.serve_name, "count": overlay.replicas}],
        patches=patches,
    )


def tree(plan: DeployPlan) -> dict[str, str]:
    """Every manifest and kustomization of the deployment, by path."""
    files: dict[str, str] = {}
    objects = manifests.serving_objects(plan)
    for document in objects:
        files[f"base/{FILE_OF_KIND[document['kind']]}"] = dump(document)
    files["base/kustomization.yaml"] = _kustomization(
        namespace=plan.config.namespace,
        resources=[FILE_OF_KIND[document["kind"]] for document in objects],
    )
    training = bool(plan.training) and plan.config.training
    if training:
        files["base/training/job.yaml"] = dump(manifests.training_job(plan))
        files["base/training/kustomization.yaml"] = _kustomization(
            namespace=plan.config.namespace, resources=["job.yaml"]
        )
    for overlay in plan.overlays:
        files[f"overlays/{overlay.name}/kustomization.yaml"] = overlay_kustomization(plan, overlay)
        if training:
            files[f"overlays/{overlay.name}/training/kustomization.yaml"] = _kustomization(
                resources=["../../../base/training"],
                namespace=overlay.namespace or plan.config.namespace,
                labels=[{"pairs": {"environment": overlay.name}, "includeSelectors": False}],
                images=_images(plan, overlay),
            )
    return files
