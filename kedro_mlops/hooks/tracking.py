"""Tracking: point kedro-mlflow at the project's store, record lineage, register and gate models.

The hook keeps per-run state in a ``_RunState`` that is also exported to the environment, so
node and dataset hooks running in ``ParallelRunner`` worker processes (forked or spawned) log into
the same MLflow run instead of opening new ones.
"""

from __future__ import annotations

import atexit
import json
import logging
import os
import shutil
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kedro.framework.hooks import hook_impl

from kedro_mlops.config import MlopsConfig, load_project_config
from kedro_mlops.errors import InputError
from kedro_mlops.hooks.cli import known_warnings_dropped
from kedro_mlops.tracking.uri import ensure_experiment, resolve_tracking_uri, server_problem

if TYPE_CHECKING:
    from collections.abc import Generator

    from kedro.framework.context import KedroContext
    from kedro.io import CatalogProtocol
    from kedro.pipeline import Pipeline
    from kedro.pipeline.node import Node

logger = logging.getLogger(__name__)

_ENV_URI = "MLFLOW_TRACKING_URI"
_ENV_RUN_ID = "MLFLOW_RUN_ID"
_ENV_STATE = "KEDRO_MLOPS_RUN_STATE"
# MLflow draws a progress bar on stderr for every artifact it reads back while logging the model
_ENV_PROGRESS = "MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR"


class TrackingUnavailableError(InputError):
    """The configured tracking server does not answer and ``tracking.on_error`` is ``fail``."""


@dataclass
class _RunState:
    """What node and dataset hooks need to know about the current run, in any process."""

    run_id: str
    pid: int
    node_timings: bool
    datasets: bool
    inputs: dict[str, str]  # free input dataset name -> source path
    started: float = field(default_factory=time.perf_counter)
    node_started: dict[str, float] = field(default_factory=dict)
    node_times: dict[str, float] = field(default_factory=dict)
    logged_inputs: set[str] = field(default_factory=set)

    def export(self) -> str:
        keys = ("run_id", "pid", "node_timings", "datasets", "inputs")
        return json.dumps({key: asdict(self)[key] for key in keys})

    @classmethod
    def from_environment(cls) -> _RunState | None:
        raw = os.environ.get(_ENV_STATE)
        return cls(**json.loads(raw)) if raw else None


class TrackingHook:
    """The kedro-mlops tracking integration (one instance, registered by entry point)."""

    def __init__(self) -> None:
        self.config: MlopsConfig | None = None
        self.tracking_uri: str | None = None
        self.untracked = False
        # the URI this hook exported itself, to tell it apart from one the user set
        self._exported_uri: str | None = None
        self._project_path: Path | None = None
        self._package_name: str | None = None
        self._params: dict[str, Any] = {}
        self._run: _RunState | None = None
        self._saved_env: dict[str, str | None] = {}

    # ------------------------------------------------------------------ context
    @hook_impl(tryfirst=True)
    def after_context_created(self, context: KedroContext) -> None:
        """Validate ``mlops.yml``, export ``MLFLOW_TRACKING_URI`` for kedro-mlflow, check a server.

        kedro-mlflow reads the variable when ``mlflow.yml`` leaves ``mlflow_tracking_uri``
        null; a value the user exported wins over ``tracking.uri``.
        """
        project_path = Path(context.project_path)
        self._project_path = project_path
        os.environ.setdefault(_ENV_PROGRESS, "false")  # a user's own setting wins
        self._package_name = context._package_name or project_path.name
        self.config = load_project_config(context.config_loader, project_path)
        self.untracked = False
        environ = dict(os.environ)
        if self._exported_uri is not None and environ.get(_ENV_URI) == self._exported_uri:
            environ.pop(_ENV_URI)  # ours from an earlier session in this process, not the user's
        uri = resolve_tracking_uri(self.config.tracking.uri, project_path, environ)
        problem = server_problem(uri, self.config.tracking.server_timeout_s)
        if problem:
            self._server_down(context, uri, problem)
            return
        self._export_uri(uri)
        ensure_experiment(uri, _experiment_name(context))

    def _export_uri(self, uri: str) -> None:
        if os.environ.get(_ENV_URI) != uri:
            os.environ[_ENV_URI] = uri
            self._exported_uri = uri
        self.tracking_uri = uri

    def _server_down(self, context: KedroContext, uri: str, problem: str) -> None:
        advice = (
            "Start the server, fix MLFLOW_TRACKING_URI (or tracking.uri in mlops.yml), or set "
            "tracking.on_error: warn to run without tracking."
        )
        if self.config is None or self.config.tracking.on_error == "fail":
            raise TrackingUnavailableError(
                f"MLflow tracking server {uri} is unreachable: {problem}. {advice}"
            )
        logger.warning(
            "kedro-mlops: MLflow tracking server %s is unreachable: %s. This run is NOT tracked "
            "(tracking.on_error: warn).",
            uri,
            problem,
        )
        self.untracked = True
        # kedro-mlflow sets up its experiment right after this hook: give it a throwaway store,
        # then take its hook out of this session so it opens no run.
        scratch = tempfile.mkdtemp(prefix="kedro-mlops-untracked-")
        atexit.register(shutil.rmtree, scratch, ignore_errors=True)
        self._export_uri(f"sqlite:///{scratch}/mlflow.db")
        manager = getattr(context, "_hook_manager", None)
        for plugin in list(manager.get_plugins()) if manager else []:
            if type(plugin).__module__.startswith("kedro_mlflow"):
                manager.unregister(plugin)

    # ------------------------------------------------------------------ pipeline
    @hook_impl(trylast=True)
    def before_pipeline_run(
        self, run_params: dict[str, Any], pipeline: Pipeline, catalog: CatalogProtocol
    ) -> None:
        """Tag the run kedro-mlflow has just started and share it with worker processes."""
        if self.untracked:
            _mute_mlflow_datasets(catalog)
            return
        if self.config is None:
            return
        import mlflow  # noqa: PLC0415 - only when a pipeline actually runs

        active = mlflow.active_run()
        if active is None:
            return
        lineage = self.config.tracking.lineage
        self._run = _RunState(
            run_id=active.info.run_id,
            pid=os.getpid(),
            node_timings=lineage.node_timings,
            datasets=lineage.datasets,
            inputs=_file_inputs(pipeline, catalog) if lineage.datasets else {},
        )
        if lineage.config:
            self._params = _run_parameters(catalog)
        self._set_env(_ENV_RUN_ID, self._run.run_id)
        self._set_env(_ENV_STATE, self._run.export())
        tags = self._lineage_tags(run_params)
        if self.config.serving.model_uri:
            tags.update(self._use_serving_model(pipeline, catalog))
        _set_tags(self._run.run_id, tags)

    def _lineage_tags(self, run_params: dict[str, Any]) -> dict[str, str]:
        from kedro_mlops.tracking import lineage  # noqa: PLC0415

        settings = self.config.tracking.lineage if self.config else None
        tags: dict[str, str] = {}
        if settings and settings.git and self._project_path:
            tags.update(lineage.git_tags(self._project_path))
        if settings and settings.environment:
            tags.update(lineage.run_tags(run_params))
            tags.update(lineage.library_versions())
        return tags

    def _use_serving_model(self, pipeline: Pipeline, catalog: CatalogProtocol) -> dict[str, str]:
        """Feed the pipeline the training outputs of ``serving.model_uri`` (model, model_info)."""
        from kedro.io import MemoryDataset  # noqa: PLC0415
        from mlflow.tracking import MlflowClient  # noqa: PLC0415

        from kedro_mlops.serving.source import batch_inputs  # noqa: PLC0415

        model_uri = self.config.serving.model_uri if self.config else None
        if not model_uri:
            return {}
        values, tags = batch_inputs(MlflowClient(), model_uri, set(pipeline.inputs()))
        for name, value in values.items():
            catalog[name] = MemoryDataset(value)
        return tags

    @hook_impl
    def before_node_run(self, node: Node) -> None:
        state = self._state()
        if state is not None and state.node_timings:
            state.node_started[node.name] = time.perf_counter()

    @hook_impl
    def after_node_run(self, node: Node) -> None:
        state = self._state()
        if state is None or not state.node_timings or node.name not in state.node_started:
            return
        elapsed = time.perf_counter() - state.node_started.pop(node.name)
        if os.getpid() == state.pid:
            state.node_times[node.name] = elapsed  # logged in one batch at the end of the run
        else:
            _log_metrics(state.run_id, {_node_metric(node.name): elapsed})

    @hook_impl
    def after_dataset_loaded(self, dataset_name: str, data: Any) -> None:  # noqa: ANN401
        """Record each file-backed pandas input of the run as an MLflow dataset input, once."""
        state = self._state()
        if state is None or not state.datasets or dataset_name not in state.inputs:
            return
        pandas = sys.modules.get("pandas")
        if pandas is None or not isinstance(data, pandas.DataFrame):
            return
        if dataset_name in state.logged_inputs:
            return
        state.logged_inputs.add(dataset_name)
        from mlflow.tracking import MlflowClient  # noqa: PLC0415

        from kedro_mlops.tracking.lineage import dataset_input  # noqa: PLC0415

        entry = dataset_input(data, dataset_name, state.inputs[dataset_name])
        MlflowClient().log_inputs(state.run_id, datasets=[entry])

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
        self._restore_env()
        if state is None or self.config is None:
            return
        metrics = {_node_metric(name): seconds for name, seconds in state.node_times.items()}
        if state.node_timings:
            metrics["run_time_s"] = time.perf_counter() - state.started
        _log_metrics(state.run_id, metrics)
        if self.config.tracking.lineage.config:
            _log_config(state.run_id, self._params, self.config)
        self._register(state.run_id)

    def _register(self, run_id: str) -> None:
        from mlflow.tracking import MlflowClient  # noqa: PLC0415

        from kedro_mlops.tracking.registry import register_and_gate  # noqa: PLC0415

        client = MlflowClient()
        models = client.search_logged_models(
            experiment_ids=[client.get_run(run_id).info.experiment_id],
            filter_string=f"source_run_id = '{run_id}'",
        )
        logger.info("kedro-mlops: MLflow run %s recorded in %s", run_id, self.tracking_uri)
        for model in models:
            logger.info("kedro-mlops: logged model %s (%s)", model.name, model.model_uri)
            registry = self.config.registry if self.config else None
            if registry is None or not registry.enabled:
                continue
            name = registry.model_name or self._package_name or model.name
            decision = register_and_gate(client, model.model_uri, run_id, name, registry.gate)
            log = logger.warning if decision.replaced_manual else logger.info
            log("kedro-mlops: registry gate: %s", decision.summary())

    @hook_impl
    def on_pipeline_error(self) -> None:
        self._run = None
        self._restore_env()

    # ------------------------------------------------------------------ helpers
    def _state(self) -> _RunState | None:
        """This process's run state; a spawned worker reads it from the environment once."""
        if self._run is None:
            self._run = _RunState.from_environment()
        return self._run

    def _set_env(self, name: str, value: str) -> None:
        self._saved_env.setdefault(name, os.environ.get(name))
        os.environ[name] = value

    def _restore_env(self) -> None:
        for name, value in self._saved_env.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        self._saved_env.clear()


def _node_metric(node_name: str) -> str:
    # MLflow metric names allow letters, digits, _ - . / and spaces
    safe = "".join(c if c.isalnum() or c in "_-./ " else "_" for c in node_name)
    return f"node_time_s.{safe}"


def _file_inputs(pipeline: Pipeline, catalog: CatalogProtocol) -> dict[str, str]:
    """Free inputs of ``pipeline`` that are stored in files, with their paths."""
    inputs = {}
    for name in sorted(pipeline.inputs()):
        if name.startswith("params:") or name == "parameters":
            continue
        try:
            description = catalog.get(name)._describe() if catalog.get(name) else {}
        except Exception:  # noqa: S112 - a dataset that cannot describe itself is not lineage
            continue
        path = description.get("filepath")
        if path:
            inputs[name] = str(path)
    return inputs


def _run_parameters(catalog: CatalogProtocol) -> dict[str, Any]:
    """The run's resolved parameters (``--params`` included), as the catalog holds them."""
    dataset = catalog.get("parameters") if "parameters" in catalog else None
    return dict(dataset.load() or {}) if dataset is not None else {}


def _mute_mlflow_datasets(catalog: CatalogProtocol) -> None:
    """Stop kedro-mlflow's datasets logging (what it does itself for untracked pipelines)."""
    for _name, dataset in catalog.items():
        if type(dataset).__name__.startswith("Mlflow") and hasattr(dataset, "_logging_activated"):
            dataset._logging_activated = False


def _set_tags(run_id: str, tags: dict[str, str]) -> None:
    from mlflow.entities import RunTag  # noqa: PLC0415
    from mlflow.tracking import MlflowClient  # noqa: PLC0415

    if tags:
        MlflowClient().log_batch(run_id, tags=[RunTag(k, str(v)) for k, v in tags.items()])


def _log_metrics(run_id: str, metrics: dict[str, float]) -> None:
    from mlflow.entities import Metric  # noqa: PLC0415
    from mlflow.tracking import MlflowClient  # noqa: PLC0415

    if metrics:
        now = int(time.time() * 1000)
        batch = [Metric(key, float(value), now, 0) for key, value in metrics.items()]
        MlflowClient().log_batch(run_id, metrics=batch)


def _log_config(run_id: str, params: dict[str, Any], config: MlopsConfig) -> None:
    from mlflow.tracking import MlflowClient  # noqa: PLC0415

    resolved = {"parameters": params, "mlops": config.model_dump()}
    plain = json.loads(json.dumps(resolved, default=str))  # YAML-safe: no custom objects
    MlflowClient().log_dict(run_id, plain, "kedro_mlops/resolved_config.yml")


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
