"""Points kedro-mlflow at the project's tracking store and reports where a run went."""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import TYPE_CHECKING

from kedro.framework.hooks import hook_impl

from kedro_mlops.config import MlopsConfig, load_project_config
from kedro_mlops.tracking.uri import ensure_experiment, resolve_tracking_uri

if TYPE_CHECKING:
    from kedro.framework.context import KedroContext

logger = logging.getLogger(__name__)

_ENV_URI = "MLFLOW_TRACKING_URI"


class TrackingHook:
    """Resolve the tracking URI before kedro-mlflow reads it; summarise the run at its end."""

    def __init__(self) -> None:
        self.config: MlopsConfig | None = None
        self.tracking_uri: str | None = None
        # the URI this hook exported itself, to tell it apart from one the user set
        self._exported_uri: str | None = None
        self._run_id: str | None = None

    @hook_impl(tryfirst=True)
    def after_context_created(self, context: KedroContext) -> None:
        """Validate ``mlops.yml`` and export ``MLFLOW_TRACKING_URI`` for kedro-mlflow.

        kedro-mlflow reads the variable when ``mlflow.yml`` leaves ``mlflow_tracking_uri``
        null; a value the user exported wins over ``tracking.uri``.
        """
        project_path = Path(context.project_path)
        self.config = load_project_config(context.config_loader, project_path)
        environ = dict(os.environ)
        if self._exported_uri is not None and environ.get(_ENV_URI) == self._exported_uri:
            environ.pop(_ENV_URI)  # ours from an earlier session in this process, not the user's
        uri = resolve_tracking_uri(self.config.tracking.uri, project_path, environ)
        if os.environ.get(_ENV_URI) != uri:
            os.environ[_ENV_URI] = uri
            self._exported_uri = uri
        self.tracking_uri = uri
        ensure_experiment(uri, _experiment_name(context))

    @hook_impl(trylast=True)
    def before_pipeline_run(self) -> None:
        """Remember the run kedro-mlflow has just started."""
        import mlflow  # noqa: PLC0415 - only when a pipeline actually runs

        run = mlflow.active_run()
        self._run_id = run.info.run_id if run else None

    @hook_impl(trylast=True)
    def after_pipeline_run(self) -> None:
        """Log where the run and its model were recorded."""
        if self._run_id is None:
            return
        import mlflow  # noqa: PLC0415

        run_id, self._run_id = self._run_id, None
        models = mlflow.search_logged_models(
            filter_string=f"source_run_id = '{run_id}'", output_format="list"
        )
        logger.info("kedro-mlops: MLflow run %s recorded in %s", run_id, self.tracking_uri)
        for model in models:
            logger.info(
                "kedro-mlops: logged model %s (models:/%s, runs:/%s/%s)",
                model.name,
                model.model_id,
                run_id,
                model.name,
            )


def _experiment_name(context: KedroContext) -> str:
    """The experiment kedro-mlflow will use: ``mlflow.yml``'s name, else the package name."""
    from kedro.config import MissingConfigException  # noqa: PLC0415

    loader = context.config_loader
    if "mlflow" not in loader.config_patterns:
        loader.config_patterns.update({"mlflow": ["mlflow*", "mlflow*/**", "**/mlflow*"]})
    try:
        conf = loader["mlflow"] or {}
    except MissingConfigException:
        conf = {}
    name = (conf.get("tracking") or {}).get("experiment", {}).get("name")
    return name or context._package_name or Path(context.project_path).name
