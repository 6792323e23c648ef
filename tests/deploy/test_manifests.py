"""The deployment's plan and manifests: what each object holds, what is refused, and the whole
tree built by kustomize and validated against the Kubernetes 1.30 schemas."""

from __future__ import annotations

import subprocess

import kubernetes_validate
import pytest
import yaml

from kedro_mlops.deploy import DeployError, deploy_project, image_name, serving_objects, tree
from kedro_mlops.deploy.plan import TMP_DIR
from tests.deploy.conftest import IMAGES, ROW, make_plan

K8S_VERSION = "1.30.0"


def objects_by_kind(plan):
    return {document["kind"]: document for document in serving_objects(plan)}


def test_the_serving_deployment_is_locked_down_and_probed():
    plan = make_plan()
    deployment = objects_by_kind(plan)["Deployment"]
    spec = deployment["spec"]
    assert deployment["metadata"]["name"] == "bar-demo-serve"
    assert spec["strategy"]["rollingUpdate"] == {"maxUnavailable": 0, "maxSurge": 1}
    pod = spec["template"]["spec"]
    assert pod["securityContext"]["runAsUser"] == 10001
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["topologySpreadConstraints"][0]["topologyKey"] == "kubernetes.io/hostname"
    (container,) = pod["containers"]
    assert container["image"] == "bar-demo-serve:0.1"
    assert container["securityContext"] == {
        "allowPrivilegeEscalation": False,
        "readOnlyRootFilesystem": True,
        "runAsNonRoot": True,
        "capabilities": {"drop": ["ALL"]},
    }
    assert container["readinessProbe"]["httpGet"]["path"] == "/ready"
    assert container["startupProbe"]["httpGet"]["path"] == "/ready"
    assert container["livenessProbe"]["httpGet"]["path"] == "/health"
    assert container["resources"] == {
        "requests": {"cpu": "250m", "memory": "512Mi"},
        "limits": {"cpu": "1", "memory": "1Gi"},
    }
    # the server writes only to emptyDirs: /tmp, the inference log and the labels of /feedback
    assert [(mount["name"], mount["mountPath"]) for mount in container["volumeMounts"]] == [
        ("tmp", "/tmp"),  # noqa: S108 - a path in the pod
        ("served", "/var/lib/kedro-mlops/served"),
        ("feedback", "/var/lib/kedro-mlops/feedback"),
    ]
    assert [volume["name"] for volume in pod["volumes"]] == ["tmp", "served", "feedback"]
    annotations = spec["template"]["metadata"]["annotations"]
    assert annotations == {
        "prometheus.io/scrape": "true",
        "prometheus.io/port": "8080",
        "prometheus.io/path": "/metrics",
    }
    # the tracking server's Secret by name only, and optional
    assert {"secretRef": {"name": "bar-demo-mlflow", "optional": True}} in container["envFrom"]


def test_settings_autoscaling_budget_and_service():
    objects = objects_by_kind(make_plan({"serving": {"max_rows": 500}}))
    assert objects["ConfigMap"]["data"] == {
        "KEDRO_MLOPS_SERVE_LOG_DIR": "/var/lib/kedro-mlops/served",
        "KEDRO_MLOPS_SERVE_FEEDBACK_DIR": "/var/lib/kedro-mlops/feedback",
        "KEDRO_MLOPS_SERVE_MAX_BODY_MB": "10.0",
        "KEDRO_MLOPS_SERVE_MAX_ROWS": "500",
    }
    hpa = objects["HorizontalPodAutoscaler"]
    assert hpa["apiVersion"] == "autoscaling/v2"
    assert hpa["spec"]["metrics"][0]["resource"]["target"]["averageUtilization"] == 70
    assert objects["PodDisruptionBudget"]["spec"]["maxUnavailable"] == 1
    assert objects["Service"]["spec"]["ports"][0]["targetPort"] == "http"


@pytest.mark.parametrize(
    ("serving", "mounted"),
    [
        ({"log_predictions": False}, [TMP_DIR, "/var/lib/kedro-mlops/feedback"]),
        ({"feedback_dataset": None}, [TMP_DIR, "/var/lib/kedro-mlops/served"]),
        ({"log_predictions": False, "feedback_dataset": None}, [TMP_DIR]),
    ],
)
def test_without_the_inference_log_or_feedback_nothing_is_mounted_for_them(serving, mounted):
    objects = objects_by_kind(make_plan({"serving": serving}))
    settings = objects["ConfigMap"]["data"]
    assert ("KEDRO_MLOPS_SERVE_LOG_DIR" in settings) == serving.get("log_predictions", True)
    assert ("KEDRO_MLOPS_SERVE_FEEDBACK_DIR" in settings) == ("feedback_dataset" not in serving)
    container = objects["Deployment"]["spec"]["template"]["spec"]["containers"][0]
    assert [mount["mountPath"] for mount in container["volumeMounts"]] == mounted


def test_batch_images_run_on_the_claims_export_uses():
    mlops = {"export": {"kubernetes": {"data_volume_claim": "shared-data"}}}
    plan = make_plan(mlops)
    cron = objects_by_kind(plan)["CronJob"]
    assert cron["spec"]["schedule"] == "@daily"
    pod = cron["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    assert [container["image"] for container in pod["containers"]] == ["bar-demo-serving:0.1"]
    claims = {
        volume["name"]: volume["persistentVolumeClaim"]["claimName"] for volume in pod["volumes"]
    }
    assert claims == {"data": "shared-data", "mlflow": "bar-demo-mlflow"}
    training = yaml.safe_load(tree(plan)["base/training/job.yaml"])
    spec = training["spec"]["template"]["spec"]
    assert [c["image"] for c in spec["initContainers"]] == ["bar-demo-data_engineering:0.1"]
    assert [c["image"] for c in spec["containers"]] == ["bar-demo-data_science:0.1"]


def test_no_schedule_no_cron_job_and_no_training_no_job():
    files = tree(make_plan({"deploy": {"scoring_schedule": None, "training": False}}))
    assert "base/scoring-cronjob.yaml" not in files
    assert not any("training" in name for name in files)


@pytest.mark.parametrize(
    ("mlops", "overrides", "message"),
    [
        ({}, {"overlays": ["qa"]}, "Unknown overlay(s) 'qa': deploy.overlays in mlops.yml has "
                                   "staging, production."),
        ({}, {"images": {"serving": "x:1"}}, "No 'serve' image in packaging.pipelines"),
    ],
)  # fmt: skip
def test_what_cannot_be_deployed_is_refused(mlops, overrides, message):
    with pytest.raises(DeployError) as caught:
        make_plan(mlops, **overrides)
    assert caught.value.message.startswith(message)
    assert caught.value.exit_code == 2


@pytest.mark.parametrize(
    ("reference", "name"),
    [
        ("bar-serve:0.1", "bar-serve"),
        ("ghcr.io/acme/bar-serve:0.1", "ghcr.io/acme/bar-serve"),
        ("localhost:5000/acme/bar-serve:0.1", "localhost:5000/acme/bar-serve"),
        ("localhost:5000/bar-serve", "localhost:5000/bar-serve"),
    ],
)
def test_image_names_for_kustomize(reference, name):
    assert image_name(reference) == name


def render(kubectl, directory):
    result = subprocess.run(
        [kubectl, "kustomize", str(directory)], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    return [document for document in yaml.safe_load_all(result.stdout) if document]


def test_both_overlays_build_and_every_object_is_valid(kubectl, tmp_path):
    mlops = {
        "deploy": {
            "namespace": "ml",
            "registry": "ghcr.io/acme",
            "overlays": {
                "staging": {"image_tag": "abc123"},
                "production": {
                    "replicas": 3,
                    "min_replicas": 3,
                    "max_replicas": 9,
                    "namespace": "ml-prod",
                    "resources": {"cpu": "1", "memory": "2Gi", "memory_limit": "2Gi"},
                },
            },
        }
    }
    images = {name: f"ghcr.io/acme/{ref}" for name, ref in IMAGES.items()}
    plan = make_plan(mlops, images=images)
    report = deploy_project(plan, tmp_path / "deploy", project_path=tmp_path, smoke_row=ROW)
    rendered = {}
    for overlay in ("staging", "production"):
        for part in ("", "/training"):
            documents = render(kubectl, tmp_path / f"deploy/overlays/{overlay}{part}")
            for document in documents:
                kubernetes_validate.validate(document, K8S_VERSION, strict=True)
            rendered[overlay + part] = {d["kind"]: d for d in documents}
    staging, production = rendered["staging"], rendered["production"]
    assert set(staging) == {"ConfigMap", "Deployment", "Service", "HorizontalPodAutoscaler",
                            "PodDisruptionBudget", "CronJob"}  # fmt: skip
    assert staging["Deployment"]["metadata"]["namespace"] == "ml"
    assert production["Deployment"]["metadata"]["namespace"] == "ml-prod"
    assert staging["Deployment"]["spec"]["replicas"] == 1
    assert production["Deployment"]["spec"]["replicas"] == 3
    assert production["HorizontalPodAutoscaler"]["spec"]["minReplicas"] == 3
    assert production["HorizontalPodAutoscaler"]["spec"]["maxReplicas"] == 9
    serve = lambda docs: docs["Deployment"]["spec"]["template"]["spec"]["containers"][0]  # noqa: E731
    assert serve(staging)["image"] == "ghcr.io/acme/bar-demo-serve:abc123"
    assert serve(production)["image"] == "ghcr.io/acme/bar-demo-serve:0.1"
    assert serve(production)["resources"] == {"requests": {"cpu": "1", "memory": "2Gi"},
                                              "limits": {"memory": "2Gi"}}  # fmt: skip
    job = rendered["staging/training"]["Job"]["spec"]["template"]["spec"]
    assert job["containers"][0]["image"] == "ghcr.io/acme/bar-demo-data_science:abc123"
    # the selector is never changed by an overlay's labels: a rollout keeps its pods
    assert staging["Deployment"]["spec"]["selector"] == production["Deployment"]["spec"]["selector"]
    assert staging["Deployment"]["metadata"]["labels"]["environment"] == "staging"
    assert report.lines()[0] == "Wrote deploy/ (16 files): base/, overlays/{staging,production}/"


def test_validation_catches_a_wrong_object():
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(
            {
                "apiVersion": "apps/v1",
                "kind": "Deployment",
                "metadata": {"name": "x"},
                "spec": {"replicas": "two"},
            },
            K8S_VERSION,
            strict=True,
        )
