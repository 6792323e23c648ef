"""Where a serving model comes from: a registry alias or version, a run's logged model, or the
project's local files; and what the batch ``serving`` pipeline scores with (``serving.model_uri``).
"""

from __future__ import annotations

import contextlib
import logging
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kedro_mlops.errors import InputError
from kedro_mlops.names import CHAMPION
from kedro_mlops.serving.model import ModelMeta, ServingModel, from_pipeline

if TYPE_CHECKING:
    from mlflow.tracking import MlflowClient

logger = logging.getLogger(__name__)

GIT_TAGS = ("mlops.git.sha", "mlflow.source.git.commit")


class ModelSourceError(InputError):
    """A model URI does not resolve or the model cannot be loaded."""


def resolve_model_uri(client: MlflowClient, model_uri: str) -> dict[str, str]:
    """What a ``models:/<name>@<alias>`` or ``models:/<name>/<version>`` URI points at now.

    Returns the URI and, for registry URIs, the model name and the concrete version, so a run or
    a server records exactly which version scored even after the alias moves.

    Raises:
        ModelSourceError: when the name, alias or version does not exist.
    """
    from mlflow.exceptions import MlflowException  # noqa: PLC0415

    resolved = {"model_uri": model_uri}
    if not model_uri.startswith("models:/"):
        return resolved
    reference = model_uri[len("models:/") :]
    try:
        if "@" in reference:
            name, alias = reference.split("@", 1)
            version = client.get_model_version_by_alias(name, alias)
        elif "/" in reference:
            name, number = reference.split("/", 1)
            version = client.get_model_version(name, number)
        else:  # a logged model id: models:/m-...
            return resolved
    except MlflowException as exc:
        raise ModelSourceError(
            f"model URI {model_uri!r} does not resolve at {client.tracking_uri}: "
            f"{exc.message.rstrip('.')}. `kedro mlops models` lists the versions and aliases."
        ) from None
    resolved.update(
        registered_model=name, registered_version=str(version.version), run_id=version.run_id or ""
    )
    return resolved


def registry_label(resolved: dict[str, str]) -> str:
    """``<name>/<version>`` for a registry URI, else the URI itself."""
    if "registered_version" in resolved:
        return f"{resolved['registered_model']}/{resolved['registered_version']}"
    return resolved["model_uri"]


def _pipeline_model(model_uri: str) -> tuple[Any, Any]:
    """The pyfunc model and kedro-mlflow's ``KedroPipelineModel`` inside it."""
    import mlflow  # noqa: PLC0415

    pyfunc = mlflow.pyfunc.load_model(model_uri)
    return pyfunc, pyfunc.unwrap_python_model()


def registered_inputs(model_uri: str) -> dict[str, Any]:
    """The training outputs a logged pipeline model carries (e.g. ``model``, ``model_info``),
    loaded from MLflow and keyed by catalog name; parameters are left out."""
    _pyfunc, pipeline_model = _pipeline_model(model_uri)
    catalog = pipeline_model.loaded_catalog
    return {
        name: catalog.load(name)
        for name in catalog.keys()
        if not name.startswith("params:") and name != pipeline_model.input_name
    }


def batch_inputs(
    client: MlflowClient, model_uri: str, free_inputs: set[str]
) -> tuple[dict[str, Any], dict[str, str]]:
    """What a batch ``kedro run --pipeline serving`` scores with under ``serving.model_uri``:
    the model's training outputs among ``free_inputs`` (dicts are told the model they come
    from) and the run tags naming it. Nothing when the pipeline trains its own model."""
    resolved = resolve_model_uri(client, model_uri)
    loaded = {
        name: value for name, value in registered_inputs(model_uri).items() if name in free_inputs
    }
    if not loaded:
        return {}, {}
    registry = registry_label(resolved)
    values = {
        name: {**value, "registry": registry, "model_uri": model_uri}
        if isinstance(value, dict)
        else value
        for name, value in loaded.items()
    }
    logger.info("kedro-mlops: scoring with %s (%s)", model_uri, registry)
    return values, {"mlops.serving.model_uri": model_uri, "mlops.serving.model": registry}


def feed_serving_model(catalog: Any, model_uri: str, free_inputs: set[str]) -> dict[str, str]:  # noqa: ANN401 - a Kedro catalog
    """Give a batch run the training outputs of ``model_uri`` (``serving.model_uri``) as
    in-memory datasets of ``catalog``; the run tags naming the model."""
    from kedro.io import MemoryDataset  # noqa: PLC0415
    from mlflow.tracking import MlflowClient  # noqa: PLC0415

    values, tags = batch_inputs(MlflowClient(), model_uri, free_inputs)
    for name, value in values.items():
        catalog[name] = MemoryDataset(value)
    return tags


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def load_from_mlflow(
    client: MlflowClient, model_uri: str, *, prediction_column: str = "prediction"
) -> ServingModel:
    """A serving model of a logged kedro-mlflow pipeline model (``models:/``, ``runs:/``).

    Raises:
        ModelSourceError: naming the URI and the cause.
    """
    resolved = resolve_model_uri(client, model_uri)
    try:
        pyfunc, pipeline_model = _pipeline_model(model_uri)
    except Exception as exc:  # any loading failure is reported the same way
        raise ModelSourceError(f"cannot load model {model_uri!r}: {exc}") from None
    if not hasattr(pipeline_model, "loaded_catalog"):
        raise ModelSourceError(
            f"model {model_uri!r} is not a Kedro pipeline model (logged by pipeline_ml_factory)"
        )
    catalog = pipeline_model.loaded_catalog
    values = {
        name: catalog.load(name) for name in catalog.keys() if name != pipeline_model.input_name
    }
    run_id = resolved.get("run_id") or pyfunc.metadata.run_id or ""
    registry = registry_label(resolved)
    for name, value in values.items():
        if isinstance(value, dict) and not name.startswith("params:"):
            values[name] = {**value, "registry": registry, "model_uri": model_uri}
    name, version, aliases = _identity(client, resolved, pyfunc)
    schema = pyfunc.metadata.get_input_schema()
    meta = ModelMeta(
        name=name,
        version=version,
        run_id=run_id,
        model_uri=model_uri,
        source="registry" if "registered_version" in resolved else "run",
        aliases=aliases,
        git_sha=_git_sha(client, run_id),
        loaded_at=_now(),
    )
    return from_pipeline(
        pipeline_model.pipeline,
        values,
        input_name=pipeline_model.input_name,
        meta=meta,
        signature=schema.to_dict() if schema is not None else None,
        prediction_column=prediction_column,
    )


def _identity(
    client: MlflowClient,
    resolved: dict[str, str],
    pyfunc: Any,  # noqa: ANN401
) -> tuple[str, str, tuple[str, ...]]:
    if "registered_version" in resolved:
        name, version = resolved["registered_model"], resolved["registered_version"]
        try:
            aliases = tuple(sorted(client.get_model_version(name, version).aliases or ()))
        except Exception:
            aliases = ()
        return name, version, aliases
    model_id = getattr(pyfunc.metadata, "model_id", None) or ""
    return getattr(pyfunc.metadata, "artifact_path", None) or "model", model_id, ()


def _git_sha(client: MlflowClient, run_id: str) -> str:
    if not run_id:
        return ""
    try:
        tags = client.get_run(run_id).data.tags
    except Exception:
        return ""
    return next((tags[tag] for tag in GIT_TAGS if tags.get(tag)), "")


def alias_version(client: MlflowClient, model_uri: str) -> str | None:
    """The version a ``models:/<name>@<alias>`` URI points at now; ``None`` for other URIs."""
    if not model_uri.startswith("models:/") or "@" not in model_uri:
        return None
    return resolve_model_uri(client, model_uri).get("registered_version")


def default_model_uri(client: MlflowClient, model_name: str, experiment: str) -> str | None:
    """``models:/<name>@champion`` when the registry has one, else the newest logged model of
    the experiment's training runs, else ``None`` (serve the project's local files)."""
    from mlflow.exceptions import MlflowException  # noqa: PLC0415

    try:
        client.get_model_version_by_alias(model_name, CHAMPION)
        return f"models:/{model_name}@{CHAMPION}"
    except MlflowException:
        pass
    found = client.get_experiment_by_name(experiment)
    if found is None:
        return None
    newest_first = [{"field_name": "creation_time", "ascending": False}]
    models = client.search_logged_models(
        experiment_ids=[found.experiment_id], order_by=newest_first, max_results=1
    )
    return models[0].model_uri if models else None


def _missing_file(error: BaseException) -> str | None:
    """The path of a missing file behind a loading error (Kedro wraps it), as the project names
    it (relative to the current directory when under it), or ``None``."""
    seen: BaseException | None = error
    while seen is not None:
        if isinstance(seen, FileNotFoundError) and seen.filename:
            path = Path(str(seen.filename))
            with contextlib.suppress(ValueError):
                path = path.relative_to(Path.cwd())
            return str(path)
        seen = seen.__cause__ or seen.__context__
    return None


def load_local(
    inference: Any,  # noqa: ANN401 - a kedro Pipeline
    catalog: Any,  # noqa: ANN401 - the project's catalog
    *,
    input_name: str,
    name: str,
    prediction_column: str = "prediction",
) -> ServingModel:
    """A serving model of the project's own inference pipeline and the files in its catalog
    (``data/06_models``), for a project with no tracked model.

    Raises:
        ModelSourceError: naming the dataset that cannot be loaded.
    """
    from kedro_mlops.serving.schema import signature_of_frame  # noqa: PLC0415

    values: dict[str, Any] = {}
    for dataset in sorted(set(inference.inputs()) - {input_name}):
        try:
            values[dataset] = catalog.load(dataset)
        except Exception as exc:  # any loading failure is reported the same way
            missing = _missing_file(exc)
            why = f"no file {missing}" if missing else str(exc).replace("\n", " ")
            raise ModelSourceError(
                f"cannot load {dataset!r} for the local model ({why}); `kedro run` trains one"
            ) from None
    try:
        example = catalog.load(input_name)
        signature = signature_of_frame(example)
    except Exception:
        signature = None
    info = values.get("model_info") if isinstance(values.get("model_info"), dict) else {}
    meta = ModelMeta(
        name=name,
        version=str(info.get("version", "local")),
        model_uri="local files",
        source="local",
        loaded_at=_now(),
    )
    return from_pipeline(
        inference,
        values,
        input_name=input_name,
        meta=meta,
        signature=signature,
        prediction_column=prediction_column,
    )
