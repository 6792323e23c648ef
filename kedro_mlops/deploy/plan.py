"""What the Kubernetes manifests hold: names, images, settings. Pure: built from plain values
(image references, the pipelines to run, mlops.yml), no Kedro import."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from kedro_mlops import names
from kedro_mlops.config.serving import (
    ENV_FEEDBACK_DIR,
    ENV_LOG_DIR,
    ENV_MAX_BODY_MB,
    ENV_MAX_ROWS,
)
from kedro_mlops.deploy.errors import DeployError

if TYPE_CHECKING:
    from kedro_mlops.config import DeployConfig, DeployResources, MlopsConfig, OverlayConfig

UID = 10001  # the images' user and group (kedro mlops package)
# where the serving container may write, its root filesystem being read-only
TMP_DIR = "/tmp"  # noqa: S108 - an emptyDir of the pod, not the host's /tmp
SERVED_DIR = "/var/lib/kedro-mlops/served"
FEEDBACK_DIR = "/var/lib/kedro-mlops/feedback"  # the labels of POST /feedback
SERVICE_PORT = 80


@dataclass(frozen=True)
class Container:
    """Where a batch container reads and writes (``kedro mlops package``'s mount points)."""

    data_dir: str
    mlflow_dir: str


@dataclass(frozen=True)
class Overlay:
    """One environment: what its kustomize overlay changes."""

    name: str
    replicas: int
    min_replicas: int
    max_replicas: int
    namespace: str | None
    image_tag: str | None
    resources: DeployResources | None


@dataclass(frozen=True)
class DeployPlan:
    """Everything the manifests, the deploy script and its notes are made of."""

    project_name: str
    package: str
    slug: str  # the project's Kubernetes name
    serve_image: str
    scoring: tuple[tuple[str, str], ...]  # (pipeline, image) the scoring CronJob runs, in order
    training: tuple[tuple[str, str], ...]  # (pipeline, image) the training Job runs, in order
    config: DeployConfig
    serve_settings: dict[str, str]  # the ConfigMap: the serving image's environment
    data_claim: str
    mlflow_claim: str
    secret: str
    container: Container
    overlays: tuple[Overlay, ...]
    registry: str | None = None
    uid: int = UID

    @property
    def writable_dirs(self) -> list[str]:
        """Where the serving container writes beside /tmp: the inference log and the labels
        POST /feedback appends, when they are on."""
        settings = self.serve_settings
        return [settings[name] for name in (ENV_LOG_DIR, ENV_FEEDBACK_DIR) if name in settings]

    @property
    def serve_name(self) -> str:
        return f"{self.slug}-serve"

    @property
    def labels(self) -> dict[str, str]:
        """The labels every object carries (selectors use the serving ones)."""
        return {"app.kubernetes.io/part-of": self.slug, "app.kubernetes.io/managed-by": "kustomize"}

    def component(self, name: str) -> dict[str, str]:
        return {"app.kubernetes.io/name": self.slug, "app.kubernetes.io/component": name}

    @property
    def images(self) -> list[str]:
        """Every image reference of the manifests, the serving one first."""
        batch = [image for _pipeline, image in (*self.scoring, *self.training)]
        return list(dict.fromkeys([self.serve_image, *batch]))


def image_name(reference: str) -> str:
    """``ghcr.io/acme/churn-serve:0.1`` -> ``ghcr.io/acme/churn-serve`` (kustomize's image name)."""
    last = reference.rsplit("/", 1)[-1]
    return (
        reference[: len(reference) - len(last.split(":", 1)[1]) - 1] if ":" in last else reference
    )


def plan_deploy(
    *,
    project_name: str,
    package: str,
    images: dict[str, str],
    scoring: list[str],
    training: list[str],
    config: MlopsConfig,
    container: Container,
    registry: str | None = None,
    overlays: list[str] | None = None,
) -> DeployPlan:
    """The deployment of a project whose packaged images are ``images`` (name -> reference):
    the serving image behind a Service, ``scoring`` on a schedule, ``training`` as a Job.

    Raises:
        DeployError: no serving image, an unknown overlay, a name Kubernetes refuses.
    """
    from kedro_mlops.config import SERVE_IMAGE  # noqa: PLC0415

    deploy = config.deploy
    if SERVE_IMAGE not in images:
        raise DeployError(
            f"No {SERVE_IMAGE!r} image in packaging.pipelines of mlops.yml: the deployment serves "
            f"the model from it. Add {SERVE_IMAGE!r} to packaging.pipelines."
        )
    chosen = list(deploy.overlays) if not overlays else list(overlays)
    unknown = [name for name in chosen if name not in deploy.overlays]
    if unknown:
        raise DeployError(
            f"Unknown overlay(s) {', '.join(map(repr, unknown))}: deploy.overlays in mlops.yml "
            f"has {', '.join(deploy.overlays)}."
        )
    try:
        slug = names.k8s_name(project_name)
    except ValueError as exc:
        raise DeployError(str(exc)) from None
    data_claim, mlflow_claim, secret = config.export.kubernetes.names(slug)
    serving = config.serving
    settings = {ENV_LOG_DIR: SERVED_DIR} if serving.log_predictions else {}
    if serving.feedback_dataset:
        settings[ENV_FEEDBACK_DIR] = FEEDBACK_DIR
    settings |= {ENV_MAX_BODY_MB: str(serving.max_body_mb), ENV_MAX_ROWS: str(serving.max_rows)}
    return DeployPlan(
        project_name=project_name,
        package=package,
        slug=slug,
        serve_image=images[SERVE_IMAGE],
        scoring=tuple((name, images[name]) for name in scoring if name in images),
        training=tuple((name, images[name]) for name in training if name in images),
        config=deploy,
        serve_settings=settings,
        data_claim=data_claim,
        mlflow_claim=mlflow_claim,
        secret=secret,
        container=container,
        overlays=tuple(_overlay(name, deploy.overlays[name]) for name in chosen),
        registry=registry,
    )


def _overlay(name: str, config: OverlayConfig) -> Overlay:
    return Overlay(
        name=name,
        replicas=config.replicas,
        min_replicas=config.min_replicas,
        max_replicas=config.max_replicas,
        namespace=config.namespace,
        image_tag=config.image_tag,
        resources=config.resources,
    )
