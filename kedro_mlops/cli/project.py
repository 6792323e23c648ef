"""What the commands read from a Kedro project and hand to the domain packages (entry floor:
the one place that knows both Kedro and more than one domain package)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from kedro_mlops.errors import KedroMlopsError
from kedro_mlops.hooks.project import context_config, experiment_name, model_name

if TYPE_CHECKING:
    from kedro.framework.context import KedroContext
    from kedro.framework.startup import ProjectMetadata

    from kedro_mlops.config import DeployConfig, ExportConfig, MlopsConfig
    from kedro_mlops.deploy import DeployPlan
    from kedro_mlops.export import ExportProject
    from kedro_mlops.packaging import Project, ServeModel
    from kedro_mlops.serving.model import ServingModel


def load(metadata: ProjectMetadata, env: str | None) -> tuple[KedroContext, MlopsConfig]:
    """The project's context (its hooks resolve the tracking URI) and its mlops.yml."""
    from kedro.framework.session import KedroSession  # noqa: PLC0415

    with KedroSession.create(project_path=metadata.project_path, env=env) as session:
        context = session.load_context()
    return context, context_config(context)


def registered_pipelines() -> dict[str, Any]:
    """The project's registered pipelines (the project is bootstrapped)."""
    from kedro.framework.project import pipelines  # noqa: PLC0415

    return dict(pipelines)


def project_model(
    context: KedroContext, config: MlopsConfig, model_uri: str | None
) -> ServingModel:
    """The model ``serve`` and the serving image use: the option, the config, else the default
    chain (champion, newest logged model, local files)."""
    from kedro_mlops.serving.project import load_project_model  # noqa: PLC0415

    return load_project_model(
        config.serving,
        model_uri=model_uri,
        model_name=model_name(context, config),
        experiment=experiment_name(context),
        pipelines=registered_pipelines(),
        catalog=context.catalog,
    )


def serve_model_loader(context: KedroContext, config: MlopsConfig, model_uri: str | None) -> Any:  # noqa: ANN401 - Callable[[Path], ServeModel]
    """What the serving image carries (with ``serving.rollout`` set: the challenger too), saved
    into a directory the packaging workflow picks; ``NoServeModelError`` when there is none."""

    def load_into(scratch: Path) -> ServeModel:
        from kedro_mlops.packaging import NoServeModelError, ServeModel  # noqa: PLC0415
        from kedro_mlops.serving.project import load_challenger  # noqa: PLC0415
        from kedro_mlops.serving.source import ModelSourceError  # noqa: PLC0415

        rollout = config.serving.rollout
        try:
            model = project_model(context, config, model_uri)
            challenger = (
                load_challenger(config.serving, model_name(context, config))
                if rollout.mode != "none"
                else None
            )
        except ModelSourceError as exc:
            raise NoServeModelError(exc.message) from None
        meta = model.meta
        return ServeModel(
            bundle=model.save_bundle(scratch / "model"),
            name=meta.name,
            version=meta.version,
            run_id=meta.run_id,
            git_sha=meta.git_sha,
            model_uri=meta.model_uri,
            challenger=challenger.save_bundle(scratch / "challenger") if challenger else None,
            challenger_version=challenger.meta.version if challenger else "",
            rollout=rollout if challenger else None,
        )

    return load_into


def packaging_project(metadata: ProjectMetadata, context: KedroContext) -> Project:
    """The Kedro project as ``kedro mlops package`` sees it."""
    from kedro_mlops.packaging import Project  # noqa: PLC0415

    loader = context.config_loader
    conf_source = Path(loader.conf_source)
    project_path = Path(metadata.project_path)
    return Project(
        path=project_path,
        name=metadata.project_name,
        package=metadata.package_name,
        conf_source=conf_source if conf_source.is_absolute() else project_path / conf_source,
        base_env=getattr(loader, "base_env", None) or "base",
        kedro_init_version=metadata.kedro_init_version,
    )


def batch_and_services(
    metadata: ProjectMetadata, packaged: list[str]
) -> tuple[dict[str, tuple[set[str], set[str]]], list[str]]:
    """The packaged names the project registers as Kedro pipelines, with their free inputs and
    every output; and the other packaged names (images that are no Kedro pipeline)."""
    from kedro.framework.startup import bootstrap_project  # noqa: PLC0415

    bootstrap_project(Path(metadata.project_path))
    registry = registered_pipelines()
    batch = {
        name: (set(registry[name].inputs()), set(registry[name].all_outputs()))
        for name in packaged
        if name in registry
    }
    return batch, [name for name in packaged if name not in registry]


def image_references(
    project_path: Path,
    project_name: str,
    config: MlopsConfig,
    *,
    image_tag: str | None,
    registry: str | None,
    error: type[KedroMlopsError],
) -> tuple[dict[str, str], str | None]:
    """The references of the packaged images (``kedro mlops package``'s naming) and the
    registry they are pushed to; a bad tag or registry raises ``error``."""
    from kedro_mlops import packaging  # noqa: PLC0415

    try:
        explicit_tag = image_tag or config.packaging.tag
        tag = packaging.image_tag(
            "" if explicit_tag else packaging.project_version(project_path), explicit_tag
        )
        registry_name = registry or config.packaging.push
        if registry_name:
            registry_name = packaging.check_registry(registry_name)
        images = packaging.plan_images(project_name, config.packaging.pipelines, tag)
    except KedroMlopsError as exc:
        raise error(exc.message) from None
    references = {
        image.pipeline: image.pushed_as(registry_name) if registry_name else image.reference
        for image in images
    }
    return references, registry_name


def export_inputs(
    metadata: ProjectMetadata, config: MlopsConfig, options: ExportConfig
) -> ExportProject:
    """The project's packaged pipelines and images as ``kedro mlops export`` writes them."""
    from kedro_mlops import export, packaging  # noqa: PLC0415

    project_path = Path(metadata.project_path)
    batch, services = batch_and_services(metadata, config.packaging.pipelines)
    images, registry = image_references(
        project_path,
        metadata.project_name,
        config,
        image_tag=options.image_tag,
        registry=options.registry,
        error=export.ExportError,  # a bad tag or registry: exit 2, like the export's own errors
    )
    paths = packaging.ContainerPaths()
    return export.ExportProject(
        path=project_path,
        name=metadata.project_name,
        package=metadata.package_name,
        pipelines=batch,
        images=images,
        container=export.ContainerSettings(
            paths.workdir, paths.data, paths.mlflow, paths.tracking_uri
        ),
        services=services,
        registry=registry,
    )


def deploy_inputs(
    metadata: ProjectMetadata,
    context: KedroContext,
    config: MlopsConfig,
    options: DeployConfig,
    *,
    overlays: list[str],
) -> tuple[DeployPlan, dict[str, Any]]:
    """The deployment of the project (its images, which pipelines score and which train) and
    the smoke test's row, after checking there is a model for the serving image."""
    from kedro_mlops import deploy, export, packaging  # noqa: PLC0415
    from kedro_mlops.serving.project import batch_input  # noqa: PLC0415
    from kedro_mlops.serving.smoke import sample_rows  # noqa: PLC0415
    from kedro_mlops.serving.source import ModelSourceError  # noqa: PLC0415

    project_path = Path(metadata.project_path)
    images, registry = image_references(
        project_path,
        metadata.project_name,
        config,
        image_tag=options.image_tag,
        registry=options.registry,
        error=deploy.DeployError,
    )
    batch, _services = batch_and_services(metadata, config.packaging.pipelines)
    data = [export.PipelineData.of(name, *ios) for name, ios in batch.items()]
    upstream = export.upstream_of(data)
    order = export.topological_order(upstream)
    needed = {name for deps in upstream.values() for name in deps}
    scoring = [name for name in order if name not in needed][-1:]  # what nothing else reads
    trained = export.ancestors(upstream, scoring[0]) if scoring else set()
    training = [name for name in order if name in trained]
    paths = packaging.ContainerPaths()
    plan = deploy.plan_deploy(
        project_name=metadata.project_name,
        package=metadata.package_name,
        images=images,
        scoring=scoring,
        training=training,
        config=config.model_copy(update={"deploy": options}),
        container=deploy.Container(paths.data, paths.mlflow),
        registry=registry,
        overlays=overlays,
    )
    try:  # the serving image carries a model: there must be one to put inside
        project_model(context, config, None)
        frame = batch_input(registered_pipelines(), context.catalog)
    except ModelSourceError as exc:
        reason = " ".join(exc.message.split())  # one line, whatever the dataset printed
        raise deploy.DeployError(f"Nothing to deploy: {reason}") from None
    return plan, sample_rows(frame, 1)[0]
