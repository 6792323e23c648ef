"""``kedro mlops monitor``: a drift check now."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from kedro_mlops.cli.group import ENV_OPTION, echo_lines, mlops, split
from kedro_mlops.cli.project import load
from kedro_mlops.config import DEFAULT_DRIFT_SHARE
from kedro_mlops.errors import EXIT_DRIFT, ConfigError
from kedro_mlops.hooks.project import experiment_name, model_name, project_config
from kedro_mlops.names import FAIL_ON_ALERT

if TYPE_CHECKING:
    from kedro.framework.startup import ProjectMetadata


@mlops.command()
@click.option(
    "--check",
    "check_names",
    multiple=True,
    help="Run this check of mlops.yml on catalog datasets (repeatable: each in turn).",
)
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
@click.option("--history", "show_history", is_flag=True, help="Print the checks' timeline.")
@click.option("--since", help="With --history: only the runs of the last 30d, 12h, 2w ...")
@click.option(
    "--dashboard", is_flag=True, help="Write the history as one HTML page (path printed)."
)
@click.option("--name", default="adhoc", show_default=True, help="Check name (file mode).")
@click.option("--output", type=click.Path(path_type=Path), help="Directory for the outputs.")
@click.option("--max-rows", type=int, default=None, help="Row cap for the HTML report.")
@click.option(
    "--no-html", is_flag=True, help="Write the JSON summary only (also: monitoring.html: false)."
)
@click.option(
    FAIL_ON_ALERT,
    "--fail-on-drift",
    "fail_on_drift",
    is_flag=True,
    help="Exit 1 when the dataset drifts or the model's quality is degraded.",
)
@ENV_OPTION
@click.pass_obj
def monitor(  # noqa: PLR0917 - click passes every option
    metadata: ProjectMetadata,
    check_names: tuple[str, ...],
    reference: Path | None,
    current: Path | None,
    columns: tuple[str, ...],
    categorical: tuple[str, ...],
    drift_share: float | None,
    show_history: bool,
    since: str | None,
    dashboard: bool,
    name: str,
    output: Path | None,
    max_rows: int | None,
    no_html: bool,
    fail_on_drift: bool,
    env: str | None,
) -> None:
    """Run checks now: configured ones (--check, repeatable) or two files (--reference/--current);
    or show the monitoring history: --history (a timeline), --dashboard (an HTML page).

    Exit codes: 0 no drift (performance: ok or insufficient_labels), 1 drift or degraded with
    on_drift: fail or --fail-on-alert (--fail-on-drift), 2 error (any check: after all ran).
    """
    from kedro_mlops.monitoring import monitor as monitoring  # noqa: PLC0415

    project_path = Path(metadata.project_path)
    if show_history or dashboard:
        if reference or current or len(check_names) > 1:
            raise click.UsageError(
                "--history and --dashboard read the history: one --check, no files"
            )
        _history(project_path, env, check_names, since=since, timeline=show_history, page=dashboard)
        return
    if since:
        raise click.UsageError("--since goes with --history")
    if bool(check_names) == bool(reference or current):
        try:
            checks = [check.name for check in project_config(project_path, env).monitoring.checks]
            configured = f" (mlops.yml's checks: {', '.join(checks) or 'none'})"
        except ConfigError:  # the usage first; the configuration when a check runs
            configured = ""
        raise click.UsageError(
            f"give either --check NAME{configured} or both --reference and --current"
        )
    if not check_names and not (reference and current):
        raise click.UsageError("--reference and --current go together")
    if output and len(check_names) > 1:
        raise click.UsageError("--output takes one --check")
    outputs = {"output": output, "no_html": no_html, "fail_on_drift": fail_on_drift}
    if check_names:
        reports = monitoring.monitor_checks(
            lambda: load(metadata, env),
            list(check_names),
            model_name=model_name,
            experiment=experiment_name,
            **outputs,
        )
    else:
        reports = [
            monitoring.monitor_files(
                lambda: project_config(project_path, env),
                project_path,
                reference,  # type: ignore[arg-type]
                current,  # type: ignore[arg-type]
                name=name,
                columns=split(columns),
                categorical=split(categorical),
                drift_share=drift_share,
                max_rows=max_rows,
                **outputs,
            )
        ]
    for report in reports:
        echo_lines(report.lines())
    for report in reports:
        report.raise_for_error()
    if any(report.failed for report in reports):
        raise click.exceptions.Exit(EXIT_DRIFT)


def _history(
    project_path: Path,
    env: str | None,
    checks: tuple[str, ...],
    *,
    since: str | None,
    timeline: bool,
    page: bool,
) -> None:
    """--history (the timeline) and --dashboard (the page's path)."""
    from kedro_mlops.monitoring import monitor as monitoring  # noqa: PLC0415

    config = lambda: project_config(project_path, env)  # noqa: E731
    check = checks[0] if checks else None
    if timeline:
        echo_lines(monitoring.show_history(config, project_path, check=check, since=since))
    if page:
        click.echo(str(monitoring.write_dashboard(config, project_path, check=check)))
