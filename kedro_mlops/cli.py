"""``kedro mlops ...``: click wiring only (entry point ``kedro.project_commands``)."""

from __future__ import annotations

import dataclasses
import json
import sys
import tempfile
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING

import click

from kedro_mlops import __version__
from kedro_mlops.config import DEFAULT_BASE_IMAGE, DEFAULT_DRIFT_SHARE, SERVE_IMAGE
from kedro_mlops.errors import EXIT_DRIFT, InputError, KedroMlopsError
from kedro_mlops.hooks.cli import COMMAND_GROUP, click_errors
from kedro_mlops.hooks.project import context_config, experiment_name, project_config
from kedro_mlops.hooks.project import model_name as _model_name
from kedro_mlops.scaffold import write_config_files

if TYPE_CHECKING:
    from kedro.framework.context import KedroContext
    from kedro.framework.startup import ProjectMetadata

    from kedro_mlops import packaging as packaging_types
    from kedro_mlops.cicd import CiProject, WriteReport
    from kedro_mlops.config import MlopsConfig
    from kedro_mlops.serving.model import ServingModel


@click.group(name="kedro-mlops")
def commands() -> None:
    """kedro-mlops project commands."""


class _MlopsGroup(click.Group):
    """The ``kedro mlops`` group: a domain error of any command ends it as click reports errors
    ("Error: <message>", the error's exit code)."""

    def invoke(self, ctx: click.Context) -> object:
        with click_errors():
            return super().invoke(ctx)


@commands.group(name=COMMAND_GROUP, cls=_MlopsGroup)
@click.version_option(__version__, prog_name="kedro-mlops")
def mlops() -> None:
    """Production ML for this Kedro project: tracking, registry, monitoring, images, serving."""
    _logs_to_stderr()


def _logs_to_stderr() -> None:
    """Kedro's log handlers write to stdout; for these commands they write to stderr, so the
    answer is alone on stdout (``kedro mlops status > status.txt`` holds the status only)."""
    import logging  # noqa: PLC0415
    import sys  # noqa: PLC0415

    handlers = list(logging.getLogger().handlers)
    for logger in list(logging.Logger.manager.loggerDict.values()):
        handlers.extend(getattr(logger, "handlers", []))
    for handler in handlers:
        console = getattr(handler, "console", None)  # rich's handler prints through a Console
        if console is not None and console.file is sys.stdout:
            console.file = sys.stderr
        elif isinstance(handler, logging.StreamHandler) and handler.stream is sys.stdout:
            handler.setStream(sys.stderr)


@mlops.command()
@click.option(
    "--env",
    "-e",
    default="base",
    show_default=True,
    help="Configuration environment (folder under conf/) to write into.",
)
@click.option("--force", is_flag=True, help="Overwrite mlops.yml / mlflow.yml if they exist.")
@click.pass_obj
def init(metadata: ProjectMetadata, env: str, force: bool) -> None:
    """Write conf/<env>/mlops.yml and mlflow.yml so that `kedro run` is tracked."""
    conf_dir = Path(metadata.project_path) / "conf" / env
    for path in write_config_files(conf_dir, force=force):
        click.echo(f"Wrote {path.relative_to(metadata.project_path)}")
    click.echo("`kedro run` now records to MLflow (sqlite:///mlflow.db at the project root).")


ENV_OPTION = click.option("--env", "-e", default=None, help="Kedro configuration environment.")


def _load(metadata: ProjectMetadata, env: str | None) -> tuple[KedroContext, MlopsConfig]:
    """The project's context (its hooks resolve the tracking URI) and its mlops.yml."""
    from kedro.framework.session import KedroSession  # noqa: PLC0415

    with KedroSession.create(project_path=metadata.project_path, env=env) as session:
        context = session.load_context()
    return context, context_config(context)


@mlops.command()
@ENV_OPTION
@click.pass_obj
def status(metadata: ProjectMetadata, env: str | None) -> None:
    """Show where runs are tracked and the latest run: id, status, metrics, model URI."""
    import mlflow  # noqa: PLC0415 - heavy, only for this command

    from kedro_mlops.tracking.runs import latest_run  # noqa: PLC0415

    context, _config = _load(metadata, env)
    uri = mlflow.get_tracking_uri()
    experiment = experiment_name(context)
    click.echo(f"Tracking URI: {uri}")
    click.echo(f"Experiment:   {experiment}")
    run = latest_run(uri, experiment)
    if run is None:
        click.echo("No run yet: `kedro run` records one.")
        return
    click.echo(f"Latest run:   {run.run_id} ({run.run_name}, {run.status}, {run.started})")
    for name, value in run.metrics.items():
        click.echo(f"  {name:<20} {value:.4f}")
    for uri_of_model in run.model_uris:
        click.echo(f"Model URI:    {uri_of_model}")


@mlops.command()
@ENV_OPTION
@click.pass_obj
def models(metadata: ProjectMetadata, env: str | None) -> None:
    """List the registered versions of the project's model with aliases and gate metric."""
    from mlflow.tracking import MlflowClient  # noqa: PLC0415

    from kedro_mlops.tracking.registry import champion_lock, list_versions  # noqa: PLC0415

    context, config = _load(metadata, env)
    name = _model_name(context, config)
    metric = config.registry.gate.metric
    client = MlflowClient()
    rows = list_versions(client, name, metric)
    click.echo(f"Registered model {name!r} (gate: {metric}, {config.registry.gate.direction})")
    lock = champion_lock(client, name)
    if lock:
        click.echo(f"Champion locked by hand ({lock}): the gate adds challengers only.")
    click.echo(f"{'VERSION':<8} {'ALIASES':<22} {metric.upper():<10} RUN ID")
    for row in rows:
        value = "-" if row.metric_value is None else f"{row.metric_value:.4f}"
        aliases = ",".join(row.aliases) or "-"
        click.echo(f"{row.version:<8} {aliases:<22} {value:<10} {row.run_id}")


@mlops.command()
@click.option("--version", "version", default=None, help="The model version to promote.")
@click.option("--alias", default="champion", show_default=True, help="The alias to move.")
@click.option(
    "--reason", default="manual promotion", show_default=True, help="Why (tagged on the version)."
)
@click.option(
    "--lock",
    is_flag=True,
    help="Keep the champion: training runs only add challengers until --unlock.",
)
@click.option("--unlock", is_flag=True, help="Let the registry gate move the champion again.")
@ENV_OPTION
@click.pass_obj
def promote(  # noqa: PLR0917 - click passes every option
    metadata: ProjectMetadata,
    version: str | None,
    alias: str,
    reason: str,
    lock: bool,
    unlock: bool,
    env: str | None,
) -> None:
    """Move an alias (default: champion) to a model version by hand; --lock keeps it there."""
    from mlflow.tracking import MlflowClient  # noqa: PLC0415

    from kedro_mlops.tracking import registry  # noqa: PLC0415

    if lock and unlock:
        raise click.UsageError("--lock and --unlock exclude each other")
    if (lock or unlock) and alias != registry.CHAMPION:
        raise click.UsageError(f"only the {registry.CHAMPION!r} alias is locked (got {alias!r})")
    if version is None and not (lock or unlock):
        raise click.UsageError("give --version N (or --lock / --unlock)")
    context, config = _load(metadata, env)
    name = _model_name(context, config)
    client = MlflowClient()
    if unlock:
        was = registry.unlock_champion(client, name)
        click.echo(f"{name}@{alias}: unlocked" if was else f"{name}@{alias} was not locked")
    if version is not None:
        previous = registry.promote(client, name, version, alias, reason)
        moved_from = f" (was version {previous})" if previous else ""
        click.echo(f"{name}@{alias} -> version {version}{moved_from}. Reason: {reason}")
    if lock:
        held = registry.lock_champion(client, name, reason)
        click.echo(
            f"{name}@{alias} locked at version {held}: training runs register challengers only "
            "until `kedro mlops promote --unlock`."
        )


class MonitorError(InputError):
    """A drift check could not run (exit code 2, as the command's help says)."""


def _split(values: tuple[str, ...]) -> list[str]:
    return [item.strip() for value in values for item in value.split(",") if item.strip()]


@mlops.command()
@click.option("--check", "check_name", help="Run this check of mlops.yml on catalog datasets.")
@click.option("--reference", type=click.Path(path_type=Path), help="Reference CSV/Parquet file.")
@click.option("--current", type=click.Path(path_type=Path), help="Current CSV/Parquet file.")
@click.option("--columns", multiple=True, help="Columns to test (comma-separated; default: all).")
@click.option("--categorical", multiple=True, help="Columns to treat as categorical.")
@click.option(
    "--drift-share",
    type=click.FloatRange(0, 1, min_open=True),
    default=None,
    help=f"Dataset drift: share of drifted columns from which it drifts [{DEFAULT_DRIFT_SHARE}].",
)
@click.option("--name", default="adhoc", show_default=True, help="Check name (file mode).")
@click.option("--output", type=click.Path(path_type=Path), help="Directory for the outputs.")
@click.option("--max-rows", type=int, default=None, help="Row cap for the HTML report.")
@click.option(
    "--no-html", is_flag=True, help="Write the JSON summary only (also: monitoring.html: false)."
)
@click.option("--fail-on-drift", is_flag=True, help="Exit 1 when the dataset drifts.")
@ENV_OPTION
@click.pass_obj
def monitor(  # noqa: PLR0917 - click passes every option
    metadata: ProjectMetadata,
    check_name: str | None,
    reference: Path | None,
    current: Path | None,
    columns: tuple[str, ...],
    categorical: tuple[str, ...],
    drift_share: float | None,
    name: str,
    output: Path | None,
    max_rows: int | None,
    no_html: bool,
    fail_on_drift: bool,
    env: str | None,
) -> None:
    """Run a drift check now: a configured one (--check) or two files (--reference/--current).

    Exit codes: 0 no drift, 1 drift with on_drift: fail or --fail-on-drift, 2 error.
    """
    from kedro_mlops.monitoring import CheckInputError  # noqa: PLC0415
    from kedro_mlops.monitoring.monitor import run_files, run_named  # noqa: PLC0415

    if bool(check_name) == bool(reference or current):
        raise click.UsageError("give either --check NAME or both --reference and --current")
    if not check_name and not (reference and current):
        raise click.UsageError("--reference and --current go together")
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S.%fZ")
    try:
        if check_name:
            context, config = _load(metadata, env)
            html = config.monitoring.html and not no_html
            result, paths, policy = run_named(
                context, config, check_name, stamp=stamp, output=output, html=html
            )
            fail = fail_on_drift or policy == "fail"
        else:
            config = project_config(Path(metadata.project_path), env)
            result, paths = run_files(
                reference,  # type: ignore[arg-type]
                current,  # type: ignore[arg-type]
                config.monitoring,
                name=name,
                columns=_split(columns),
                categorical=_split(categorical),
                drift_share=DEFAULT_DRIFT_SHARE if drift_share is None else drift_share,
                max_rows=max_rows,
                directory=output or _default_output(metadata, config, name, stamp),
                html=config.monitoring.html and not no_html,
            )
            fail = fail_on_drift
    except CheckInputError as exc:
        raise MonitorError(str(exc)) from None
    except KedroMlopsError as exc:  # e.g. an invalid mlops.yml: exit 2, never 1 (drift)
        raise MonitorError(exc.message) from None
    except Exception as exc:
        # an orchestrator retrains on exit 1: whatever else fails must not look like drift
        raise MonitorError(f"drift check failed: {type(exc).__name__}: {exc}") from exc
    location = str(paths["summary"].parent)
    click.echo(result.summary(location))
    for column, reason in result.skipped.items():
        click.echo(f"  not tested: {column}: {reason}")
    if result.status == "error":
        raise MonitorError(f"drift check {result.name!r} could not run: {result.error}")
    if result.status == "drift" and fail:
        raise click.exceptions.Exit(EXIT_DRIFT)


def _default_output(metadata: ProjectMetadata, config: MlopsConfig, name: str, stamp: str) -> Path:
    return Path(metadata.project_path) / config.monitoring.output_dir / name / stamp


# ------------------------------------------------------------------ kedro mlops package
@mlops.command()
@click.option(
    "--pipeline",
    "-p",
    "pipelines",
    multiple=True,
    help="A pipeline to make an image of (repeatable; default: packaging.pipelines).",
)
@click.option("--output", "-o", default=None, help="The build context directory [dist/mlops].")
@click.option("--build", is_flag=True, help="Build the images after writing the context.")
@click.option(
    "--builder",
    type=click.Choice(["auto", "docker", "podman", "buildah"]),
    default=None,
    help="auto: a responding Docker engine, else podman, else buildah.",
)
@click.option("--base-image", default=None, help=f"Base image [{DEFAULT_BASE_IMAGE}].")
@click.option("--tag", default=None, help="Image tag [the project's version].")
@click.option(
    "--wheels/--no-wheels",
    default=None,
    help="Download every wheel into the context: the build needs no network.",
)
@click.option(
    "--template",
    default=None,
    help="Your own Jinja Dockerfile template (path from the project root).",
)
@click.option("--push", default=None, metavar="REGISTRY", help="Push the images (implies --build).")
@click.option(
    "--bytecode/--no-bytecode",
    default=None,
    help="Compile .pyc into the images: faster container start, bigger images [no].",
)
@click.option(
    "--model-uri",
    default=None,
    help="The model inside the serving image [serving.model_uri, else the champion].",
)
@click.option(
    "--cache-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Keep the dependency image as a file here (a CI cache): loaded instead of rebuilt.",
)
@ENV_OPTION
@click.pass_obj
def package(  # noqa: PLR0917 - click passes every option
    metadata: ProjectMetadata,
    pipelines: tuple[str, ...],
    output: str | None,
    build: bool,
    builder: str | None,
    base_image: str | None,
    tag: str | None,
    wheels: bool | None,
    template: str | None,
    push: str | None,
    bytecode: bool | None,
    model_uri: str | None,
    cache_dir: Path | None,
    env: str | None,
) -> None:
    """Write a build context with one container image per pipeline; --build builds them."""
    from kedro.framework.project import pipelines as registry  # noqa: PLC0415

    from kedro_mlops import packaging  # noqa: PLC0415

    context, config = _load(metadata, env)
    options = packaging.merge_options(
        config.packaging,
        pipelines=_split(pipelines),
        output=output,
        base_image=base_image,
        builder=builder,
        tag=tag,
        template=template,
        wheels=wheels,
        push=push,
        bytecode=bytecode,
    )
    packaging.check_pipelines(options.pipelines, registry.keys())
    loader = context.config_loader
    conf_source = Path(loader.conf_source)
    project_path = Path(metadata.project_path)
    project = packaging.Project(
        path=project_path,
        name=metadata.project_name,
        package=metadata.package_name,
        conf_source=conf_source if conf_source.is_absolute() else project_path / conf_source,
        base_env=getattr(loader, "base_env", None) or "base",
        kedro_init_version=metadata.kedro_init_version,
    )
    with tempfile.TemporaryDirectory(prefix="kedro-mlops-model-") as scratch:
        serve_model = None
        if SERVE_IMAGE in options.pipelines:
            from kedro_mlops.serving.source import ModelSourceError  # noqa: PLC0415

            try:
                serve_model = _serve_model(context, config, model_uri, Path(scratch))
            except ModelSourceError as exc:
                if SERVE_IMAGE in _split(pipelines) or model_uri:  # asked for by name
                    raise
                click.echo(
                    f"  left out the {SERVE_IMAGE!r} image: no model to put inside yet "
                    f"({exc.message})",
                    err=True,
                )
                kept = [name for name in options.pipelines if name != SERVE_IMAGE]
                options = dataclasses.replace(options, pipelines=kept)
        result = packaging.write_context(project, options, echo=click.echo, serve_model=serve_model)
    where = (
        result.directory.relative_to(project_path)
        if result.directory.is_relative_to(project_path)
        else result.directory
    )
    click.echo(f"Build context written: {where}/ ({len(result.pins)} pinned requirements)")
    for name in result.left_out:
        click.echo(f"  left out {name}: credentials and secrets never go into an image")
    for warning in result.warnings:
        click.echo(f"  warning: {warning}")
    for image in result.images:
        runs = (
            f"serves {serve_model.name} v{serve_model.version} on port {image.http_port}"
            if image.server and serve_model
            else f"kedro run --pipelines {image.pipeline}"
        )
        click.echo(f"  {image.reference:<48} {runs}")
    if not (build or options.push):
        click.echo(
            f"Build them with `kedro mlops package --build` (Docker, podman or buildah), or by "
            f"hand as {where}/README.md shows, e.g.:\n"
            f"  docker build --target deps --tag {result.spec.deps_image} {where}\n"
            f"  docker build --target {result.images[0].stage} --tag "
            f"{result.images[0].reference} {where}"
        )
        return
    try:
        chosen = packaging.find_builder(options.builder)
    except packaging.BuilderNotFoundError as exc:
        raise packaging.BuilderNotFoundError(
            f"{exc.message}\nThe build context is written: {where}/ (its README.md shows the "
            "build commands)."
        ) from None
    click.echo(f"Building with {chosen} ...")
    report = packaging.build_images(
        chosen,
        result.directory,
        result.images,
        deps_image=result.deps_image,
        offline=options.wheels,
        echo=click.echo,
        push_to=options.push,
        cache_dir=cache_dir,
    )
    click.echo(f"Built with {report.builder}: {', '.join(report.built)}")
    for remote in report.pushed:
        click.echo(f"Pushed {remote}")
    runner = report.builder if report.builder != "buildah" else "podman"
    for image in result.images:
        if image.server:
            click.echo(
                f"Serve: {runner} run --rm -p {image.http_port}:{image.http_port} {image.reference}"
            )
    batch = [image for image in result.images if not image.server]
    if batch:
        click.echo(
            f"Run: {runner} run --rm "
            f'-v "$PWD/data:{result.spec.workdir}/data" '
            f'-v "$PWD/mlflow-store:{result.spec.mlflow_dir}" {batch[0].reference}'
        )


# ------------------------------------------------------------------ kedro mlops serve
@mlops.command()
@click.option(
    "--model-uri", default=None, help="models:/NAME@ALIAS, models:/NAME/N or runs:/ID/model."
)
@click.option("--host", default=None, help="Interface to listen on [serving.host: 127.0.0.1].")
@click.option("--port", type=click.IntRange(1, 65535), default=None, help="[serving.port: 8080]")
@click.option("--workers", type=click.IntRange(1, 64), default=None, help="Processes [1].")
@click.option(
    "--reload-interval",
    type=click.FloatRange(min=0),
    default=None,
    help="Seconds between checks of an @alias URI for a new version; 0: off [30].",
)
@ENV_OPTION
@click.pass_obj
def serve(  # noqa: PLR0917 - click passes every option
    metadata: ProjectMetadata,
    model_uri: str | None,
    host: str | None,
    port: int | None,
    workers: int | None,
    reload_interval: float | None,
    env: str | None,
) -> None:
    """Serve the model behind a typed REST API: /predict, /invocations, /docs, /metrics."""
    from kedro_mlops.serving.project import traffic_directory  # noqa: PLC0415
    from kedro_mlops.serving.server import ServeSettings, check_port  # noqa: PLC0415
    from kedro_mlops.serving.server import serve as run_server  # noqa: PLC0415

    context, config = _load(metadata, env)
    serving = config.serving
    host = host or serving.host
    port = port or serving.port
    check_port(host, port)  # before the model loads: a busy port is found in a second
    model = _project_model(context, config, model_uri)
    log_dir = (
        traffic_directory(context.catalog, serving.log_dataset, Path(metadata.project_path))
        if serving.log_predictions
        else None
    )
    settings = ServeSettings(
        model_uri=model.meta.model_uri if model.meta.source == "registry" else None,
        reload_interval_s=serving.reload_interval_s if reload_interval is None else reload_interval,
        max_body_mb=serving.max_body_mb,
        max_rows=serving.max_rows,
        batch_wait_ms=serving.batch_wait_ms,
        log_dir=str(log_dir) if log_dir else None,
    )
    run_server(
        model,
        settings,
        host=host,
        port=port,
        workers=workers or serving.workers,
        echo=lambda line: click.echo(line, err=True),
    )


def _serve_model(
    context: KedroContext, config: MlopsConfig, model_uri: str | None, scratch: Path
) -> packaging_types.ServeModel:
    """The model the serving image carries, saved under ``scratch``."""
    from kedro_mlops.packaging import ServeModel  # noqa: PLC0415

    model = _project_model(context, config, model_uri)
    meta = model.meta
    return ServeModel(
        bundle=model.save_bundle(scratch / "model"),
        name=meta.name,
        version=meta.version,
        run_id=meta.run_id,
        git_sha=meta.git_sha,
        model_uri=meta.model_uri,
    )


def _project_model(
    context: KedroContext, config: MlopsConfig, model_uri: str | None
) -> ServingModel:
    """The model ``serve`` and the serving image use: the option, the config, else the default
    chain (champion, newest logged model, local files)."""
    from kedro.framework.project import pipelines  # noqa: PLC0415

    from kedro_mlops.serving.project import load_project_model  # noqa: PLC0415

    return load_project_model(
        config.serving,
        model_uri=model_uri,
        model_name=_model_name(context, config),
        experiment=experiment_name(context),
        pipelines=dict(pipelines),
        catalog=context.catalog,
    )


# ------------------------------------------------------------------ kedro mlops export
@mlops.command()
@click.option(
    "--target",
    type=click.Choice(["airflow", "kubeflow"]),
    default=None,
    help="airflow: a DAG file (Airflow 3); kubeflow: KFP v2 YAML (also Vertex AI) [airflow].",
)
@click.option("--output", "-o", default=None, help="Directory to write into [dist/orchestration].")
@click.option("--image-tag", default=None, help="Image tag [packaging.tag, else the version].")
@click.option("--registry", default=None, help="Registry of the images, e.g. ghcr.io/acme.")
@click.option("--schedule", default=None, help="Cron (or @daily ...) of the training definition.")
@click.option("--template", default=None, help="Your own Jinja template (path from the root).")
@ENV_OPTION
@click.pass_obj
def export(  # noqa: PLR0917 - click passes every option
    metadata: ProjectMetadata,
    target: str | None,
    output: str | None,
    image_tag: str | None,
    registry: str | None,
    schedule: str | None,
    template: str | None,
    env: str | None,
) -> None:
    """Write orchestrator definitions that run the packaged images, with continuous training."""
    from kedro_mlops import export as exporting  # noqa: PLC0415
    from kedro_mlops import packaging  # noqa: PLC0415

    project_path = Path(metadata.project_path)
    config = project_config(project_path, env)
    options = exporting.merge_options(
        config.export,
        target=target,
        output=output,
        image_tag=image_tag,
        registry=registry,
        schedule=schedule,
        template=template,
    )
    packaged = config.packaging.pipelines
    batch, services = _registered(metadata, packaged)
    try:  # a bad tag or registry is a usage error here: exit 2, like the export's own errors
        explicit_tag = options.image_tag or config.packaging.tag
        tag = packaging.image_tag(
            "" if explicit_tag else packaging.project_version(project_path), explicit_tag
        )
        registry_name = options.registry or config.packaging.push
        if registry_name:
            registry_name = packaging.check_registry(registry_name)
        images = packaging.plan_images(metadata.project_name, packaged, tag)
    except KedroMlopsError as exc:
        raise exporting.ExportError(exc.message) from None
    references = {
        image.pipeline: image.pushed_as(registry_name) if registry_name else image.reference
        for image in images
    }
    paths = packaging.ContainerPaths()
    plan = exporting.plan_export(
        project_name=metadata.project_name,
        package=metadata.package_name,
        version=__version__,
        pipelines=[exporting.PipelineData.of(name, *ios) for name, ios in batch.items()],
        images=references,
        services={name: references[name] for name in services},
        config=options,
        monitoring=config.monitoring,
        container=exporting.ContainerSettings(
            paths.workdir, paths.data, paths.mlflow, paths.tracking_uri
        ),
        registry=registry_name,
    )
    result = exporting.write_export(
        plan,
        project_path / options.output / options.target,
        template=exporting.template_path(
            options.target, None if options.template is None else project_path / options.template
        ),
        project_path=project_path,
    )
    click.echo(f"Wrote {', '.join(map(str, result.files))}")
    click.echo(result.notes.strip())


def _registered(
    metadata: ProjectMetadata, packaged: list[str]
) -> tuple[dict[str, tuple[set[str], set[str]]], list[str]]:
    """The packaged names the project registers as Kedro pipelines, with their free inputs and
    every output; and the other packaged names (images that are no Kedro pipeline)."""
    from kedro.framework.project import pipelines as registry  # noqa: PLC0415
    from kedro.framework.startup import bootstrap_project  # noqa: PLC0415

    bootstrap_project(Path(metadata.project_path))
    known = set(registry.keys())
    batch = {
        name: (set(registry[name].inputs()), set(registry[name].all_outputs()))
        for name in packaged
        if name in known
    }
    return batch, [name for name in packaged if name not in known]


# ------------------------------------------------------------------ kedro mlops ci / gate
def ci_project(project_path: Path, project_name: str, env: str | None = None) -> CiProject:
    """What the CI files say about a bootstrapped project: from its mlops.yml, its pipelines
    and the image names ``kedro mlops package`` gives."""
    from kedro.framework.project import pipelines as registry  # noqa: PLC0415

    from kedro_mlops.cicd import CiProject, validation_nodes  # noqa: PLC0415
    from kedro_mlops.packaging.images import image_name  # noqa: PLC0415
    from kedro_mlops.packaging.render import WORKDIR  # noqa: PLC0415

    config = project_config(project_path, env)
    # a kedro-mlflow PipelineML (bound to its inference pipeline) refuses to run a few nodes alone
    plain = {
        name: [node.name for node in pipeline.nodes]
        for name, pipeline in registry.items()
        if name != "__default__" and not hasattr(pipeline, "inference")
    }
    validate_pipeline, validate = validation_nodes(plain)
    produced = {name for pipeline in registry.values() for name in pipeline.all_outputs()}
    return CiProject(
        project_name=project_name,
        python_version=f"{sys.version_info.major}.{sys.version_info.minor}",
        smoke_image=image_name(project_name, SERVE_IMAGE)
        if SERVE_IMAGE in config.packaging.pipelines
        else None,
        workdir=WORKDIR,
        context_dir=config.packaging.output,
        validate_pipeline=validate_pipeline,
        validate_nodes=validate,
        # CT checks what its pipelines write (served_traffic exists only where a server logs)
        monitor_checks=tuple(
            check.name for check in config.monitoring.checks if check.current in produced
        ),
    )


def add_ci_files(
    project_path: Path, project_name: str, choice: str, *, force: bool = False
) -> tuple[CiProject, WriteReport]:
    """Write the Makefile, the pipelines of ``choice`` and the README section into a project
    (``kedro mlops ci`` and the starter's post-generation hook)."""
    from kedro_mlops import cicd  # noqa: PLC0415

    providers = cicd.providers_for(choice)
    project = ci_project(project_path, project_name)
    report = cicd.write_files(
        project_path,
        cicd.render_files(project, providers),
        readme=cicd.readme_section(project, providers),
        force=force,
    )
    return project, report


@mlops.command()
@click.option(
    "--provider",
    type=click.Choice(["github", "gitlab", "both"]),
    default="both",
    show_default=True,
    help="Which CI pipelines to write.",
)
@click.option("--force", is_flag=True, help="Replace CI files (and a Makefile) that exist.")
@click.pass_obj
def ci(metadata: ProjectMetadata, provider: str, force: bool) -> None:
    """Add CI > CT > CD pipelines and the Makefile their jobs call to this project."""
    project_path = Path(metadata.project_path)
    project, report = add_ci_files(project_path, metadata.project_name, provider, force=force)
    for name in report.written:
        click.echo(f"Wrote {name}")
    for name in report.kept:
        click.echo(f"Kept {name}: it already has what the pipelines need")
    if not project.validate_nodes:
        click.echo(
            "  warning: no plain pipeline has a node named validate*: `make validate` (part of "
            "`make ci`) fails until VALIDATE_NODES and VALIDATE_PIPELINE are set in the Makefile"
        )
    if not project.smoke_image:
        click.echo(
            "  warning: no `serve` image among packaging.pipelines: `make smoke` fails "
            "until SMOKE_IMAGE is set in the Makefile"
        )
    click.echo(
        "Every CI job runs a `make` target: `make help` lists them; README.md says which secrets "
        "to set."
    )


@mlops.command()
@click.option("--run-id", default=None, help="The run to ask about [the latest run].")
@click.option(
    "--env-file",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Append GATE_DECISION=<decision> to this file (a dotenv report, or $GITHUB_OUTPUT).",
)
@click.option(
    "--yaml-file",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Write a GitLab CI include setting GATE_DECISION (the CD child pipeline's).",
)
@ENV_OPTION
@click.pass_obj
def gate(
    metadata: ProjectMetadata,
    run_id: str | None,
    env_file: Path | None,
    yaml_file: Path | None,
    env: str | None,
) -> None:
    """Print the registry gate's decision for the latest run: champion, challenger or none."""
    import mlflow  # noqa: PLC0415 - heavy, only for this command

    from kedro_mlops.cicd import write_outputs  # noqa: PLC0415
    from kedro_mlops.tracking.runs import gate_decision  # noqa: PLC0415

    context, _config = _load(metadata, env)
    experiment = experiment_name(context)
    result = gate_decision(mlflow.get_tracking_uri(), experiment, run_id)
    write_outputs(result.decision, env_file=env_file, yaml_file=yaml_file)
    click.echo(f"kedro-mlops: registry gate: {result.detail}", err=True)
    click.echo(result.decision)


# ------------------------------------------------------------------ kedro mlops smoke
@mlops.command()
@click.option("--image", required=True, help="The serving image, e.g. churn-serve:0.1.")
@click.option(
    "--container", type=click.Choice(["docker", "podman"]), default="docker", show_default=True
)
@click.option("--port", type=click.IntRange(1, 65535), default=18080, show_default=True)
@click.option("--rows", type=click.IntRange(1, 1000), default=1, show_default=True)
@ENV_OPTION
@click.pass_obj
def smoke(  # noqa: PLR0917 - click passes every option
    metadata: ProjectMetadata, image: str, container: str, port: int, rows: int, env: str | None
) -> None:
    """Start the serving image, wait for /ready and ask /predict for the batch's first rows."""
    from kedro.framework.project import pipelines  # noqa: PLC0415

    from kedro_mlops.serving.project import batch_input  # noqa: PLC0415
    from kedro_mlops.serving.smoke import sample_rows, smoke_test  # noqa: PLC0415

    context, _config = _load(metadata, env)
    frame = batch_input(dict(pipelines), context.catalog)
    result = smoke_test(image, sample_rows(frame, rows), container=container, port=port)
    click.echo(
        f"{image} ready in {result.ready_s:.1f} s; /predict answered "
        f"{json.dumps(result.answer['predictions'])} (model {result.answer['model']['name']} "
        f"version {result.answer['model']['version']})"
    )
