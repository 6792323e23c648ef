"""The README beside the manifests: what each one holds and why, and how a rollout goes."""

from __future__ import annotations

from typing import TYPE_CHECKING

from kedro_mlops.config import SERVE_PORT
from kedro_mlops.deploy.plan import FEEDBACK_DIR, SERVED_DIR, SERVICE_PORT

if TYPE_CHECKING:
    from kedro_mlops.deploy.plan import DeployPlan


def render_readme(plan: DeployPlan, where: str) -> str:
    """The deployment's README (``<output>/<target>/README.md``)."""
    config = plan.config
    overlays = "\n".join(
        f"| `{o.name}` | {o.replicas} | {o.min_replicas}-{o.max_replicas} | "
        f"{o.image_tag or 'the base tag'} | "
        f"{o.namespace or config.namespace or 'kubectl context'} |"
        for o in plan.overlays
    )
    scoring = (
        f"- `base/scoring-cronjob.yaml`: CronJob `{plan.slug}-scoring` "
        f"({config.scoring_schedule}): "
        f"{' then '.join(f'`{image}`' for _name, image in plan.scoring)} on the claims "
        f"`{plan.data_claim}` (data) and `{plan.mlflow_claim}` (MLflow store); "
        "`concurrencyPolicy: Forbid`, so a slow run is never doubled.\n"
        if plan.scoring and config.scoring_schedule
        else ""
    )
    training = (
        f"- `base/training/job.yaml`: Job `{plan.slug}-training`: "
        f"{' then '.join(f'`{image}`' for _name, image in plan.training)} (init containers run "
        "first), on the same claims. Not part of the rollout (a Job's pod template cannot be "
        f"changed in place): `bash {where}/deploy.sh train <env>` replaces and runs it.\n"
        if plan.training and config.training
        else ""
    )
    secret = (
        f"- The tracking server: every container reads the Secret `{plan.secret}` as its "
        "environment when it exists (`optional`: keys such as `MLFLOW_TRACKING_URI`, "
        "`MLFLOW_TRACKING_USERNAME`, `MLFLOW_TRACKING_PASSWORD`). Create it in the cluster; no "
        f"value is written here: `kubectl create secret generic {plan.secret} "
        "--from-literal=MLFLOW_TRACKING_URI=http://mlflow:5000`."
    )
    return f"""# Deploying {plan.project_name} to Kubernetes

Written by `kedro mlops deploy` from `mlops.yml` (`deploy:`); regenerate it instead of editing it
(`make deploy` does, with the image tag CI built). Review what an environment gets with
`kubectl kustomize {where}/overlays/<env>`.

## The manifests

- `base/deployment.yaml`: Deployment `{plan.serve_name}` of `{plan.serve_image}` (the model is
  inside the image). A startup probe and a readiness probe on `/ready` (the model is loaded), a
  liveness probe on `/health`; CPU and memory requests and limits; uid {plan.uid}, non-root, no
  privilege escalation, every capability dropped, a read-only root filesystem with `emptyDir`s
  where the server writes (`/tmp`, the inference log in `{SERVED_DIR}`, the labels `POST
  /feedback` appends in `{FEEDBACK_DIR}`: a volume there keeps them); `RollingUpdate` with
  `maxUnavailable: 0` (never fewer ready pods than wanted during a rollout); replicas spread over
  nodes; Prometheus scrape annotations for `/metrics` on port {SERVE_PORT}.
- `base/service.yaml`: Service `{plan.serve_name}`, port {SERVICE_PORT} to the pods' port
  {SERVE_PORT}.
- `base/hpa.yaml`: HorizontalPodAutoscaler (autoscaling/v2) on CPU, above
  {config.target_cpu_utilization} % of the request; the overlays set its bounds.
- `base/pdb.yaml`: PodDisruptionBudget: a node drain takes one serving pod at a time.
- `base/configmap.yaml`: the serving settings, as the container's environment.
{scoring}{training}{secret}

## Environments

| overlay | replicas | autoscaling | image tag | namespace |
|---|---|---|---|---|
{overlays}

## Rolling out, checking, rolling back

`bash {where}/deploy.sh <env>` (what `make deploy ENV=<env>` runs after regenerating this tree):

1. `kubectl apply -k overlays/<env>`;
2. `kubectl rollout status deployment/{plan.serve_name} --timeout={config.rollout_timeout_s}s`;
3. a smoke test through `kubectl port-forward service/{plan.serve_name}`: `/ready`, then one
   `/predict` of `smoke-row.json` (a row of the project's batch);
4. on any failure, `kubectl rollout undo deployment/{plan.serve_name}` and exit 1 naming the step.

The cluster's credentials are kubectl's own (`KUBECONFIG`); in CI they come from a secret of the
deploy job's environment.

## What is proven without a cluster

`kedro-mlops`' tests build both overlays with `kubectl kustomize`, validate every object against
the Kubernetes 1.30 schemas (`kubernetes-validate --strict`), run the rendered Deployment of the
real serving image with `podman kube play` (`/ready` and `/predict` answer), and run this script
against a stand-in `kubectl` (a failed rollout or smoke test rolls back and exits 1). Scheduling,
autoscaling, disruption budgets and the rollout itself need a real cluster.
"""
