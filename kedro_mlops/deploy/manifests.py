"""The Kubernetes objects of a deployment, as plain mappings (pure: a plan in, dicts out).

Why each setting is there is said where it is set; docs/deploy.md says it for users.
"""

from __future__ import annotations

from pathlib import PurePosixPath
from typing import TYPE_CHECKING, Any

from kedro_mlops.config import SERVE_PORT
from kedro_mlops.deploy.plan import SERVICE_PORT, TMP_DIR

if TYPE_CHECKING:
    from kedro_mlops.config import DeployResources
    from kedro_mlops.deploy.plan import DeployPlan

Manifest = dict[str, Any]


def resources(spec: DeployResources) -> dict[str, dict[str, str]]:
    """A container's ``resources``: the requests and limits that are set."""
    requests = {"cpu": spec.cpu, "memory": spec.memory}
    limits = {"cpu": spec.cpu_limit, "memory": spec.memory_limit}
    found = {
        "requests": {key: value for key, value in requests.items() if value},
        "limits": {key: value for key, value in limits.items() if value},
    }
    return {key: value for key, value in found.items() if value}


def _meta(plan: DeployPlan, name: str, component: str) -> dict[str, Any]:
    return {"name": name, "labels": {**plan.labels, **plan.component(component)}}


def _pod_security(plan: DeployPlan) -> dict[str, Any]:
    # the images run as uid/gid 10001; fsGroup makes mounted volumes writable by it
    return {
        "runAsNonRoot": True,
        "runAsUser": plan.uid,
        "runAsGroup": plan.uid,
        "fsGroup": plan.uid,
        "seccompProfile": {"type": "RuntimeDefault"},
    }


def _container_security(*, read_only: bool) -> dict[str, Any]:
    return {
        "allowPrivilegeEscalation": False,
        "readOnlyRootFilesystem": read_only,
        "runAsNonRoot": True,
        "capabilities": {"drop": ["ALL"]},
    }


def _secret_env(plan: DeployPlan) -> dict[str, Any]:
    # the tracking server's address and credentials, when the cluster has the Secret: a name,
    # never a value (optional: a cluster without a tracking server runs too)
    return {"secretRef": {"name": plan.secret, "optional": True}}


def config_map(plan: DeployPlan) -> Manifest:
    """The serving settings, as the serving image's environment."""
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": _meta(plan, plan.serve_name, "serve"),
        "data": dict(plan.serve_settings),
    }


def deployment(plan: DeployPlan) -> Manifest:
    """The serving image: probes, resources, a non-root read-only container, rolling updates
    that never go below the wanted replicas, replicas spread over nodes, Prometheus scraping."""
    selector = plan.component("serve")
    writable = [(PurePosixPath(path).name, path) for path in (TMP_DIR, *plan.writable_dirs)]
    container = {
        "name": "serve",
        "image": plan.serve_image,
        "imagePullPolicy": "IfNotPresent",
        "ports": [{"name": "http", "containerPort": SERVE_PORT, "protocol": "TCP"}],
        "envFrom": [{"configMapRef": {"name": plan.serve_name}}, _secret_env(plan)],
        # the model loads once at start: /ready answers when it can score
        "startupProbe": {
            "httpGet": {"path": "/ready", "port": "http"},
            "periodSeconds": 2,
            "failureThreshold": 60,
        },
        "readinessProbe": {
            "httpGet": {"path": "/ready", "port": "http"},
            "periodSeconds": 5,
            "failureThreshold": 2,
        },
        "livenessProbe": {
            "httpGet": {"path": "/health", "port": "http"},
            "periodSeconds": 10,
            "timeoutSeconds": 5,
            "failureThreshold": 3,
        },
        "resources": resources(plan.config.resources),
        "securityContext": _container_security(read_only=True),
        "volumeMounts": [{"name": name, "mountPath": path} for name, path in writable],
    }
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": _meta(plan, plan.serve_name, "serve"),
        "spec": {
            "replicas": 1,
            "revisionHistoryLimit": 5,  # what `kubectl rollout undo` goes back to
            "selector": {"matchLabels": selector},
            "strategy": {
                "type": "RollingUpdate",
                "rollingUpdate": {"maxUnavailable": 0, "maxSurge": 1},
            },
            "template": {
                "metadata": {
                    "labels": {**plan.labels, **selector},
                    "annotations": {
                        "prometheus.io/scrape": "true",
                        "prometheus.io/port": str(SERVE_PORT),
                        "prometheus.io/path": "/metrics",
                    },
                },
                "spec": {
                    "securityContext": _pod_security(plan),
                    "terminationGracePeriodSeconds": 30,
                    "topologySpreadConstraints": [
                        {
                            "maxSkew": 1,
                            "topologyKey": "kubernetes.io/hostname",
                            "whenUnsatisfiable": "ScheduleAnyway",
                            "labelSelector": {"matchLabels": selector},
                        }
                    ],
                    "containers": [container],
                    "volumes": [{"name": name, "emptyDir": {}} for name, _path in writable],
                },
            },
        },
    }


def service(plan: DeployPlan) -> Manifest:
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": _meta(plan, plan.serve_name, "serve"),
        "spec": {
            "type": "ClusterIP",
            "selector": plan.component("serve"),
            "ports": [
                {"name": "http", "port": SERVICE_PORT, "targetPort": "http", "protocol": "TCP"}
            ],
        },
    }


def autoscaler(plan: DeployPlan) -> Manifest:
    """CPU-based autoscaling of the serving Deployment (the overlays set the bounds)."""
    return {
        "apiVersion": "autoscaling/v2",
        "kind": "HorizontalPodAutoscaler",
        "metadata": _meta(plan, plan.serve_name, "serve"),
        "spec": {
            "scaleTargetRef": {
                "apiVersion": "apps/v1",
                "kind": "Deployment",
                "name": plan.serve_name,
            },
            "minReplicas": 1,
            "maxReplicas": 2,
            "metrics": [
                {
                    "type": "Resource",
                    "resource": {
                        "name": "cpu",
                        "target": {
                            "type": "Utilization",
                            "averageUtilization": plan.config.target_cpu_utilization,
                        },
                    },
                }
            ],
        },
    }


def disruption_budget(plan: DeployPlan) -> Manifest:
    # a node drain takes at most one serving pod at a time (minAvailable would block drains of a
    # one-replica environment)
    return {
        "apiVersion": "policy/v1",
        "kind": "PodDisruptionBudget",
        "metadata": _meta(plan, plan.serve_name, "serve"),
        "spec": {"maxUnavailable": 1, "selector": {"matchLabels": plan.component("serve")}},
    }


def _batch_pod(plan: DeployPlan, steps: tuple[tuple[str, str], ...], component: str) -> Manifest:
    """A pod running the batch images of ``steps`` one after the other (init containers, then
    the last one), on the data and MLflow claims ``kedro mlops export`` uses too."""
    paths = plan.container

    def container(pipeline: str, image: str) -> dict[str, Any]:
        return {
            "name": pipeline.replace("_", "-"),
            "image": image,
            "imagePullPolicy": "IfNotPresent",
            # the image's MLFLOW_TRACKING_URI (the store on the MLflow claim) unless the Secret
            # names a tracking server
            "envFrom": [_secret_env(plan)],
            "resources": resources(plan.config.batch_resources),
            "securityContext": _container_security(read_only=False),
            "volumeMounts": [
                {"name": "data", "mountPath": paths.data_dir},
                {"name": "mlflow", "mountPath": paths.mlflow_dir},
            ],
        }

    *first, last = steps
    spec: dict[str, Any] = {
        "restartPolicy": "Never",
        "securityContext": _pod_security(plan),
        "containers": [container(*last)],
        "volumes": [
            {"name": "data", "persistentVolumeClaim": {"claimName": plan.data_claim}},
            {"name": "mlflow", "persistentVolumeClaim": {"claimName": plan.mlflow_claim}},
        ],
    }
    if first:
        spec["initContainers"] = [container(*step) for step in first]
    return {"metadata": {"labels": {**plan.labels, **plan.component(component)}}, "spec": spec}


def scoring_cron_job(plan: DeployPlan) -> Manifest:
    """Scheduled batch scoring (``deploy.scoring_schedule``)."""
    return {
        "apiVersion": "batch/v1",
        "kind": "CronJob",
        "metadata": _meta(plan, f"{plan.slug}-scoring", "scoring"),
        "spec": {
            "schedule": plan.config.scoring_schedule,
            "concurrencyPolicy": "Forbid",  # a slow run is never doubled
            "successfulJobsHistoryLimit": 3,
            "failedJobsHistoryLimit": 3,
            "jobTemplate": {
                "spec": {
                    "backoffLimit": 1,
                    "template": _batch_pod(plan, plan.scoring, "scoring"),
                }
            },
        },
    }


def training_job(plan: DeployPlan) -> Manifest:
    """Training on the cluster, started on demand (``deploy.sh train <env>``)."""
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": _meta(plan, f"{plan.slug}-training", "training"),
        "spec": {
            "backoffLimit": 0,  # a failed training is looked at, not retried blindly
            "ttlSecondsAfterFinished": 7 * 24 * 3600,
            "template": _batch_pod(plan, plan.training, "training"),
        },
    }


def serving_objects(plan: DeployPlan) -> list[Manifest]:
    """What ``kubectl apply -k overlays/<env>`` creates or updates."""
    objects = [
        config_map(plan),
        deployment(plan),
        service(plan),
        autoscaler(plan),
        disruption_budget(plan),
    ]
    if plan.scoring and plan.config.scoring_schedule:
        objects.append(scoring_cron_job(plan))
    return objects
