"""``kedro mlops serve | smoke``: the model behind a REST API, and the serving image's check."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

import click

from kedro_mlops.cli.group import ENV_OPTION, mlops
from kedro_mlops.cli.project import load, project_model, registered_pipelines
from kedro_mlops.config import override
from kedro_mlops.config.rollout import ROLLOUT_MODES
from kedro_mlops.hooks.project import model_name

if TYPE_CHECKING:
    from kedro.framework.startup import ProjectMetadata


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
@click.option(
    "--rollout",
    type=click.Choice(ROLLOUT_MODES),
    default=None,
    help="Try the challenger on live traffic [serving.rollout.mode: none].",
)
@click.option(
    "--fraction",
    type=float,
    default=None,
    help="canary: the share of rows the challenger answers [serving.rollout.fraction: 0.1].",
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
    rollout: str | None,
    fraction: float | None,
    env: str | None,
) -> None:
    """Serve the model behind a typed REST API: /predict, /invocations, /docs, /metrics;
    with --rollout, the challenger beside it (shadow or canary)."""
    from kedro_mlops.serving.project import (  # noqa: PLC0415
        challenger_uri,
        load_challenger,
        serve_project,
    )

    context, config = load(metadata, env)
    trial = override(config.serving.rollout, mode=rollout, fraction=fraction)
    serving = config.serving.model_copy(update={"rollout": trial})
    name = model_name(context, config)
    serve_project(
        serving,
        load_model=lambda: project_model(context, config, model_uri),
        catalog=context.catalog,
        project_path=Path(metadata.project_path),
        host=host,
        port=port,
        workers=workers,
        reload_interval=reload_interval,
        load_challenger=lambda: load_challenger(serving, name),
        challenger_uri=challenger_uri(serving, name),
        echo=lambda line: click.echo(line, err=True),
    )


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
    from kedro_mlops.serving.project import batch_input  # noqa: PLC0415
    from kedro_mlops.serving.smoke import sample_rows, smoke_test  # noqa: PLC0415

    context, _config = load(metadata, env)
    frame = batch_input(registered_pipelines(), context.catalog)
    result = smoke_test(image, sample_rows(frame, rows), container=container, port=port)
    click.echo(
        f"{image} ready in {result.ready_s:.1f} s; /predict answered "
        f"{json.dumps(result.answer['predictions'])} (model {result.answer['model']['name']} "
        f"version {result.answer['model']['version']})"
    )
