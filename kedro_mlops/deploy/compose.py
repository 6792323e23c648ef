"""``kedro mlops deploy --target compose``: the step between a laptop and a cluster. One host runs
the serving image, an MLflow tracking server (from a batch image, which carries MLflow) and
Prometheus scraping ``/metrics``, as a compose file for ``docker compose`` or ``podman-compose``.
Pure: a plan in, file contents out."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import yaml

from kedro_mlops.config import SERVE_PORT
from kedro_mlops.deploy.alerts import RULES_FILE
from kedro_mlops.deploy.plan import FEEDBACK_DIR, SERVED_DIR, TMP_DIR

if TYPE_CHECKING:
    from kedro_mlops.deploy.plan import DeployPlan

MLFLOW_PORT = 5000
PROMETHEUS_PORT = 9090
RULES_IN_CONTAINER = "/etc/prometheus/rules.yml"


def _dump(document: dict[str, Any]) -> str:
    return yaml.safe_dump(document, sort_keys=False, width=100)


def compose_file(plan: DeployPlan) -> dict[str, Any]:
    """The services: ``serve``, ``mlflow`` (when a batch image carries MLflow), ``prometheus``."""
    user = f"{plan.uid}:{plan.uid}"
    health = (
        "import urllib.request; "
        f"urllib.request.urlopen('http://127.0.0.1:{SERVE_PORT}/health', timeout=4)"
    )
    services: dict[str, Any] = {
        "serve": {
            "image": plan.serve_image,
            "user": user,
            "read_only": True,
            # writable by the image's user only there: /tmp, the inference log and the labels
            # (kept while the container lives; mount host directories there to keep them)
            "tmpfs": [TMP_DIR, *(f"{path}:mode=1777" for path in plan.writable_dirs)],
            "cap_drop": ["ALL"],
            "security_opt": ["no-new-privileges:true"],
            "environment": dict(plan.serve_settings),
            "ports": [f"{SERVE_PORT}:{SERVE_PORT}"],
            "healthcheck": {
                "test": ["CMD", "python", "-c", health],
                "interval": "30s",
                "timeout": "5s",
                "start_period": "30s",
                "retries": 3,
            },
            "restart": "unless-stopped",
        }
    }
    volumes: dict[str, Any] = {}
    batch = [image for _name, image in (*plan.training, *plan.scoring)]
    if batch:
        store = plan.container.mlflow_dir
        services["mlflow"] = {
            "image": batch[0],
            "user": user,
            "entrypoint": [
                "mlflow",
                "server",
                "--host",
                "0.0.0.0",  # noqa: S104 - inside its container, published by compose
                "--port",
                str(MLFLOW_PORT),
                "--backend-store-uri",
                f"sqlite:///{store}/mlflow.db",
                "--artifacts-destination",
                f"{store}/artifacts",
            ],
            "ports": [f"{MLFLOW_PORT}:{MLFLOW_PORT}"],
            "volumes": [f"mlflow:{store}"],
            "restart": "unless-stopped",
        }
        volumes["mlflow"] = {}
    services["prometheus"] = {
        "image": plan.config.prometheus_image,
        "volumes": [
            "./prometheus.yml:/etc/prometheus/prometheus.yml:ro",
            f"../{RULES_FILE}:{RULES_IN_CONTAINER}:ro",
        ],
        "ports": [f"{PROMETHEUS_PORT}:{PROMETHEUS_PORT}"],
        "depends_on": ["serve"],
        "restart": "unless-stopped",
    }
    return {"name": plan.slug, "services": services, "volumes": volumes}


def prometheus_config(plan: DeployPlan) -> dict[str, Any]:
    return {
        "global": {"scrape_interval": "15s"},
        "rule_files": [RULES_IN_CONTAINER],
        "scrape_configs": [
            {
                "job_name": plan.serve_name,
                "metrics_path": "/metrics",
                "static_configs": [{"targets": [f"serve:{SERVE_PORT}"]}],
            }
        ],
    }


def compose_files(plan: DeployPlan, where: str) -> dict[str, str]:
    """``compose.yaml``, ``prometheus.yml`` and a README, by path."""
    mlflow = "mlflow" in compose_file(plan)["services"]
    readme = (
        f"""# {plan.project_name} on one host

Written by `kedro mlops deploy --target compose`: the step between a laptop and a cluster.

```bash
docker compose -f {where}/compose.yaml up -d      # or: podman-compose -f {where}/compose.yaml up -d
curl -s localhost:{SERVE_PORT}/ready
```

- `serve`: `{plan.serve_image}` (the model inside) on port {SERVE_PORT}, non-root, read-only
  root filesystem, every capability dropped; the inference log and the labels of `POST
  /feedback` in tmpfs (mount host directories on `{SERVED_DIR}` and `{FEEDBACK_DIR}` to keep
  them).
"""
        + (
            f"""- `mlflow`: an MLflow tracking server on port {MLFLOW_PORT}, its store on the volume
  `mlflow` (run the batch images with `MLFLOW_TRACKING_URI=http://<host>:{MLFLOW_PORT}`).
"""
            if mlflow
            else ""
        )
        + f"""- `prometheus`: `{plan.config.prometheus_image}` on port {PROMETHEUS_PORT},
  scraping the server's `/metrics` every 15 s (`prometheus.yml`) with the alerting rules of
  `../{RULES_FILE}` (`deploy.alerts`). Pulling it needs the registry;
  the other images are the ones `kedro mlops package --build` built.

No credential is written here: pass them as environment variables of `docker compose` if needed.
"""
    )
    return {
        "compose.yaml": _dump(compose_file(plan)),
        "prometheus.yml": _dump(prometheus_config(plan)),
        "README.md": readme,
    }
