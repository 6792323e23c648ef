"""What a tracked ``kedro run`` records beside kedro-mlflow: lineage tags, node timings, dataset
inputs, the resolved configuration, and the registration of the logged model.

The per-run state (``RunState``) is also exported to the environment, so node and dataset hooks
running in ``ParallelRunner`` worker processes (forked or spawned) log into the same MLflow run
instead of opening new ones. All writes go through ``kedro_mlops.mlflow_run``.
"""

from __future__ import annotations

import json
import logging
import os
import sys
import time
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

from kedro_mlops import internals, mlflow_run
from kedro_mlops.frames import is_spark
from kedro_mlops.names import CONTENT_VERSION_TAG, MODEL_INFO

if TYPE_CHECKING:
    from collections.abc import MutableMapping
    from pathlib import Path

    from kedro.io import CatalogProtocol
    from kedro.pipeline import Pipeline

    from kedro_mlops.config import LineageConfig, MlopsConfig, RegistryConfig

logger = logging.getLogger(__name__)

ENV_STATE = "KEDRO_MLOPS_RUN_STATE"
RUN_TIME_METRIC = "run_time_s"
CONFIG_ARTIFACT = "kedro_mlops/resolved_config.yml"


@dataclass
class RunState:
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
    def from_environment(cls) -> RunState | None:
        raw = os.environ.get(ENV_STATE)
        return cls(**json.loads(raw)) if raw else None


class EnvironmentExport:
    """Variables set for the duration of a run, then given back their former values."""

    def __init__(self, environ: MutableMapping[str, str] | None = None) -> None:
        self._environ = os.environ if environ is None else environ
        self._saved: dict[str, str | None] = {}

    def set(self, name: str, value: str) -> None:
        self._saved.setdefault(name, self._environ.get(name))
        self._environ[name] = value

    def restore(self) -> None:
        for name, value in self._saved.items():
            if value is None:
                self._environ.pop(name, None)
            else:
                self._environ[name] = value
        self._saved.clear()


def node_metric(node_name: str) -> str:
    """The metric of a node's duration (the writer cleans the name)."""
    return f"node_time_s.{node_name}"


def start_run(
    run_id: str,
    lineage: LineageConfig,
    pipeline: Pipeline,
    catalog: CatalogProtocol,
    environment: EnvironmentExport,
) -> RunState:
    """The state of run ``run_id``, exported (with ``MLFLOW_RUN_ID``) for worker processes."""
    state = RunState(
        run_id=run_id,
        pid=os.getpid(),
        node_timings=lineage.node_timings,
        datasets=lineage.datasets,
        inputs=file_inputs(pipeline, catalog) if lineage.datasets else {},
    )
    environment.set(mlflow_run.RUN_ID_VARIABLE, state.run_id)
    environment.set(ENV_STATE, state.export())
    return state


def lineage_tags(
    lineage: LineageConfig, project_path: Path | None, run_params: dict[str, Any]
) -> dict[str, str]:
    """The run's git, environment and library tags, as ``lineage`` asks."""
    from kedro_mlops.tracking import lineage as tags_of  # noqa: PLC0415

    tags: dict[str, str] = {}
    if lineage.git and project_path:
        tags.update(tags_of.git_tags(project_path))
    if lineage.environment:
        tags.update(tags_of.run_tags(run_params))
        tags.update(tags_of.library_versions())
    return tags


def tag_run(run_id: str, tags: dict[str, str]) -> None:
    mlflow_run.log_batch(run_id, tags=tags)


def node_started(state: RunState, node_name: str) -> None:
    if state.node_timings:
        state.node_started[node_name] = time.perf_counter()


def node_finished(state: RunState, node_name: str) -> None:
    """Record a node's duration: kept for one batch at the end of the run in the main process,
    logged at once from a worker process."""
    if not state.node_timings or node_name not in state.node_started:
        return
    elapsed = time.perf_counter() - state.node_started.pop(node_name)
    if os.getpid() == state.pid:
        state.node_times[node_name] = elapsed
    else:
        mlflow_run.log_batch(state.run_id, metrics={node_metric(node_name): elapsed})


def model_described(state: RunState, outputs: dict[str, Any]) -> None:
    """Tag the run with its model's content version (a ``model_info`` output's ``version``,
    which the predictions the model makes carry): a performance check finds the registered
    version of a batch scored in the run that trained its model by it."""
    info = outputs.get(MODEL_INFO)
    if isinstance(info, dict) and isinstance(info.get("version"), str):
        mlflow_run.log_batch(state.run_id, tags={CONTENT_VERSION_TAG: info["version"]})


def dataset_loaded(state: RunState, dataset_name: str, data: Any) -> None:  # noqa: ANN401
    """Record a file-backed pandas or Spark input of the run as an MLflow dataset input, once
    (a Spark table's digest: ``tracking.spark_lineage``)."""
    if not state.datasets or dataset_name not in state.inputs:
        return
    pandas = sys.modules.get("pandas")
    spark = is_spark(data)
    if not spark and (pandas is None or not isinstance(data, pandas.DataFrame)):
        return
    if dataset_name in state.logged_inputs:
        return
    state.logged_inputs.add(dataset_name)
    if spark:
        from kedro_mlops.tracking.lineage import dataset_source  # noqa: PLC0415
        from kedro_mlops.tracking.spark_lineage import spark_dataset_input  # noqa: PLC0415

        source = dataset_source(state.inputs[dataset_name])
        entry = spark_dataset_input(data, dataset_name, source)
    else:
        from kedro_mlops.tracking.lineage import dataset_input  # noqa: PLC0415

        entry = dataset_input(data, dataset_name, state.inputs[dataset_name])
    mlflow_run.log_inputs(state.run_id, [entry])


def finish_run(state: RunState, params: dict[str, Any], config: MlopsConfig) -> None:
    """Log the timings (one batch) and the resolved configuration."""
    metrics = {node_metric(name): seconds for name, seconds in state.node_times.items()}
    if state.node_timings:
        metrics[RUN_TIME_METRIC] = time.perf_counter() - state.started
    mlflow_run.log_batch(state.run_id, metrics=metrics)
    if config.tracking.lineage.config:
        log_config(state.run_id, params, config)


def log_config(run_id: str, params: dict[str, Any], config: MlopsConfig) -> None:
    resolved = {"parameters": params, "mlops": config.model_dump()}
    plain = json.loads(json.dumps(resolved, default=str))  # YAML-safe: no custom objects
    mlflow_run.log_dict(run_id, plain, CONFIG_ARTIFACT)


def register_models(
    run_id: str, registry: RegistryConfig, model_name: str, tracking_uri: str | None
) -> None:
    """Log the models the run logged; register and gate each, when the registry is on."""
    from mlflow.tracking import MlflowClient  # noqa: PLC0415

    from kedro_mlops.tracking.registry import register_and_gate  # noqa: PLC0415

    client = MlflowClient()
    models = client.search_logged_models(
        experiment_ids=[client.get_run(run_id).info.experiment_id],
        filter_string=f"source_run_id = '{run_id}'",
    )
    logger.info("kedro-mlops: MLflow run %s recorded in %s", run_id, tracking_uri)
    for model in models:
        logger.info("kedro-mlops: logged model %s (%s)", model.name, model.model_uri)
        if not registry.enabled:
            continue
        decision = register_and_gate(
            client, model.model_uri, run_id, model_name or model.name, registry.gate
        )
        log = logger.warning if decision.replaced_manual else logger.info
        log("kedro-mlops: registry gate: %s", decision.summary())


def file_inputs(pipeline: Pipeline, catalog: CatalogProtocol) -> dict[str, str]:
    """Free inputs of ``pipeline`` that are stored in files, with their paths."""
    inputs = {}
    for name in sorted(pipeline.inputs()):
        if name.startswith("params:") or name == "parameters":
            continue
        try:
            dataset = catalog.get(name)
            description = internals.describe(dataset) if dataset else {}
        except Exception:  # noqa: S112 - a dataset that cannot describe itself is not lineage
            continue
        path = description.get("filepath")
        if path:
            inputs[name] = str(path)
    return inputs


def run_parameters(catalog: CatalogProtocol) -> dict[str, Any]:
    """The run's resolved parameters (``--params`` included), as the catalog holds them."""
    dataset = catalog.get("parameters") if "parameters" in catalog else None
    return dict(dataset.load() or {}) if dataset is not None else {}


def mute_mlflow_datasets(catalog: CatalogProtocol) -> None:
    """Stop kedro-mlflow's datasets logging (what it does itself for untracked pipelines)."""
    for _name, dataset in catalog.items():
        internals.stop_dataset_logging(dataset)
