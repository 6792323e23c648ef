"""Tracking: point kedro-mlflow at the project's store, record lineage, register and gate models.

A thin adapter: each Kedro event becomes calls of ``kedro_mlops.tracking`` (what is recorded and
how) and, for a batch run under ``serving.model_uri``, of ``kedro_mlops.serving``.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kedro.framework.hooks import hook_impl

from kedro_mlops import internals
from kedro_mlops.hooks.cli import click_errors, known_warnings_dropped
from kedro_mlops.hooks.project import context_config, experiment_name, model_name
from kedro_mlops.mlflow_run import current_run_id
from kedro_mlops.tracking import recorder
from kedro_mlops.tracking.uri import (
    TrackingUnavailableError,
    ensure_experiment,
    resolve_tracking_uri,
    server_problem,
    unreachable_server,
)

if TYPE_CHECKING:
    from collections.abc import Generator

    from kedro.framework.context import KedroContext
    from kedro.io import CatalogProtocol
    from kedro.pipeline import Pipeline
    from kedro.pipeline.node import Node

    from kedro_mlops.config import MlopsConfig

__all__ = ["TrackingHook", "TrackingUnavailableError"]

_ENV_URI = "MLFLOW_TRACKING_URI"
# MLflow draws a progress bar on stderr for every artifact it reads back while logging the model
_ENV_PROGRESS = "MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR"


class TrackingHook:
    """The kedro-mlops tracking integration (one instance, registered by entry point)."""

    def __init__(self) -> None:
        self.config: MlopsConfig | None = None
        self.tracking_uri: str | None = None
        self.untracked = False
        # the URI this hook exported itself, to tell it apart from one the user set
        self._exported_uri: str | None = None
        self._project_path: Path | None = None
        self._model_name = ""
        self._params: dict[str, Any] = {}
        self._run: recorder.RunState | None = None
        self._environment = recorder.EnvironmentExport()

    # ------------------------------------------------------------------ context
    @hook_impl(tryfirst=True)
    def after_context_created(self, context: KedroContext) -> None:
        """Validate ``mlops.yml``, export ``MLFLOW_TRACKING_URI`` for kedro-mlflow, check a server.

        kedro-mlflow reads the variable when ``mlflow.yml`` leaves ``mlflow_tracking_uri``
        null; a value the user exported wins over ``tracking.uri``.
        """
        with click_errors():
            self._project_path = Path(context.project_path)
            os.environ.setdefault(_ENV_PROGRESS, "false")  # a user's own setting wins
            self.config = context_config(context)
            self._model_name = model_name(context, self.config)
            self.untracked = False
            environ = dict(os.environ)
            if self._exported_uri is not None and environ.get(_ENV_URI) == self._exported_uri:
                environ.pop(_ENV_URI)  # ours from an earlier session in this process
            tracking = self.config.tracking
            uri = resolve_tracking_uri(tracking.uri, self._project_path, environ)
            problem = server_problem(uri, tracking.server_timeout_s)
            if problem:
                self._export_uri(unreachable_server(uri, problem, tracking.on_error))
                self.untracked = True
                self._unregister_kedro_mlflow(context)
                return
            self._export_uri(uri)
            ensure_experiment(uri, experiment_name(context))

    def _export_uri(self, uri: str) -> None:
        if os.environ.get(_ENV_URI) != uri:
            os.environ[_ENV_URI] = uri
            self._exported_uri = uri
        self.tracking_uri = uri

    @staticmethod
    def _unregister_kedro_mlflow(context: KedroContext) -> None:
        """An untracked run: kedro-mlflow sets up its experiment in the throwaway store right
        after this hook; its hook then leaves the session, so it opens no run."""
        manager = internals.hook_manager(context)
        for plugin in list(manager.get_plugins()) if manager else []:
            if type(plugin).__module__.startswith("kedro_mlflow"):
                manager.unregister(plugin)

    # ------------------------------------------------------------------ pipeline
    @hook_impl(trylast=True)
    def before_pipeline_run(
        self, run_params: dict[str, Any], pipeline: Pipeline, catalog: CatalogProtocol
    ) -> None:
        """Tag the run kedro-mlflow has just started and share it with worker processes."""
        with click_errors():  # e.g. serving.model_uri names no model
            self._start(run_params, pipeline, catalog)

    def _start(
        self, run_params: dict[str, Any], pipeline: Pipeline, catalog: CatalogProtocol
    ) -> None:
        if self.untracked:
            recorder.mute_mlflow_datasets(catalog)
            return
        if self.config is None:
            return
        run_id = current_run_id()
        if run_id is None:
            return
        lineage = self.config.tracking.lineage
        self._run = recorder.start_run(run_id, lineage, pipeline, catalog, self._environment)
        if lineage.config:
            self._params = recorder.run_parameters(catalog)
        tags = recorder.lineage_tags(lineage, self._project_path, run_params)
        if self.config.serving.model_uri:
            from kedro_mlops.serving.source import feed_serving_model  # noqa: PLC0415

            tags.update(
                feed_serving_model(catalog, self.config.serving.model_uri, set(pipeline.inputs()))
            )
        recorder.tag_run(run_id, tags)

    @hook_impl
    def before_node_run(self, node: Node) -> None:
        state = self._state()
        if state is not None:
            recorder.node_started(state, node.name)

    @hook_impl
    def after_node_run(self, node: Node, outputs: dict[str, Any]) -> None:
        state = self._state()
        if state is not None:
            recorder.node_finished(state, node.name)
            recorder.model_described(state, outputs)

    @hook_impl
    def after_dataset_loaded(self, dataset_name: str, data: Any) -> None:  # noqa: ANN401
        """Record each file-backed pandas input of the run as an MLflow dataset input, once."""
        state = self._state()
        if state is not None:
            recorder.dataset_loaded(state, dataset_name, data)

    @hook_impl(wrapper=True, specname="after_pipeline_run")
    def quiet_model_logging(self) -> Generator[None, None, None]:
        """kedro-mlflow logs the pipeline model in its ``after_pipeline_run``: MLflow's advice
        on how to log models (a choice kedro-mlflow makes) is dropped around that call."""
        with known_warnings_dropped():
            return (yield)

    @hook_impl(trylast=True)
    def after_pipeline_run(self) -> None:
        """Log timings and the resolved configuration, register and gate the model, summarise."""
        state, self._run = self._run, None
        self._environment.restore()
        if state is None or self.config is None:
            return
        with click_errors():
            recorder.finish_run(state, self._params, self.config)
            recorder.register_models(
                state.run_id, self.config.registry, self._model_name, self.tracking_uri
            )

    @hook_impl
    def on_pipeline_error(self) -> None:
        self._run = None
        self._environment.restore()

    def _state(self) -> recorder.RunState | None:
        """This process's run state; a spawned worker reads it from the environment once."""
        if self._run is None:
            self._run = recorder.RunState.from_environment()
        return self._run
