"""``kedro mlops ...``: click wiring only (entry point ``kedro.project_commands``)."""

from __future__ import annotations

import dataclasses
import tempfile
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING

import click

from kedro_mlops import __version__
from kedro_mlops.config import (
    DEFAULT_DRIFT_SHARE,
    SERVE_IMAGE,
    load_project_config,
    project_config,
)
from kedro_mlops.errors import EXIT_DRIFT, InputError
from kedro_mlops.hooks.cli import COMMAND_GROUP
from kedro_mlops.scaffold import write_config_files

if TYPE_CHECKING:
    from kedro.framework.context import KedroContext
    from kedro.framework.startup import ProjectMetadata

    from kedro_mlops import packaging as packaging_types
    from kedro_mlops.config import MlopsConfig


@click.group(name="kedro-mlops")
def commands() -> None:
    """kedro-mlops project commands."""


@commands.group(name=COMMAND_GROUP)
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
    return context, load_project_config(context.config_loader, Path(metadata.project_path))


def _model_name(context: KedroContext, config: MlopsConfig) -> str:
    return config.registry.model_name or context._package_name or ""


@mlops.command()
@ENV_OPTION
@click.pass_obj
def status(metadata: ProjectMetadata, env: str | None) -> None:
    """Show where runs are tracked and the latest run: id, status, metrics, model URI."""
    import mlflow  # noqa: PLC0415 - heavy, only for this command

    from kedro_mlops.tracking.runs import latest_run  # noqa: PLC0415

    context, _config = _load(metadata, env)
    uri = mlflow.get_tracking_uri()
    experiment = context.mlflow.tracking.experiment.name
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
@click.option("--base-image", default=None, help="Base image [python:3.11-slim].")
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
    from kedro.framework.project import pipelines  # noqa: PLC0415

    from kedro_mlops.serving.project import load_project_model, traffic_directory  # noqa: PLC0415
    from kedro_mlops.serving.server import ServeSettings, check_port  # noqa: PLC0415
    from kedro_mlops.serving.server import serve as run_server  # noqa: PLC0415

    context, config = _load(metadata, env)
    serving = config.serving
    host = host or serving.host
    port = port or serving.port
    check_port(host, port)  # before the model loads: a busy port is found in a second
    model = load_project_model(
        serving,
        model_uri=model_uri,
        model_name=_model_name(context, config),
        experiment=context.mlflow.tracking.experiment.name,
        pipelines=dict(pipelines),
        catalog=context.catalog,
    )
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
    from kedro.framework.project import pipelines  # noqa: PLC0415

    from kedro_mlops.packaging import ServeModel  # noqa: PLC0415
    from kedro_mlops.serving.project import load_project_model  # noqa: PLC0415

    model = load_project_model(
        config.serving,
        model_uri=model_uri,
        model_name=_model_name(context, config),
        experiment=context.mlflow.tracking.experiment.name,
        pipelines=dict(pipelines),
        catalog=context.catalog,
    )
    meta = model.meta
    return ServeModel(
        bundle=model.save_bundle(scratch / "model"),
        name=meta.name,
        version=meta.version,
        run_id=meta.run_id,
        git_sha=meta.git_sha,
        model_uri=meta.model_uri,
    )
