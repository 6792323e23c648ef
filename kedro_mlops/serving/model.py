"""A loaded serving model: the inference pipeline's nodes, the values they need, and metadata.

Scoring calls the node functions in the pipeline's order on an in-memory DataFrame: no runner,
no catalog, no hooks and no logging per call (kedro-mlflow's ``KedroPipelineModel`` runs a
Kedro runner for every ``predict``, which dominates the time of a small request).

A model is saved as a *bundle* (a directory: ``serving.json`` + ``pipeline.pkl``) for the
serving image, which holds neither MLflow nor a tracking store; loading a bundle needs only the
project package and what its nodes import.
"""

from __future__ import annotations

import json
import pickle
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kedro_mlops.serving.schema import FeatureSchema

if TYPE_CHECKING:
    import pandas as pd

BUNDLE_META = "serving.json"
BUNDLE_PIPELINE = "pipeline.pkl"
# the fitted pipeline output's columns that describe the model rather than the row
MODEL_COLUMNS = ("model_version", "model_registry")


@dataclass(frozen=True)
class ModelMeta:
    """What ``/metadata`` and every response say about the model that scored."""

    name: str
    version: str
    run_id: str = ""
    model_uri: str = ""
    source: str = ""  # registry | run | local | bundle
    aliases: tuple[str, ...] = ()
    git_sha: str = ""
    loaded_at: str = ""

    def brief(self) -> dict[str, str]:
        return {"name": self.name, "version": self.version, "run_id": self.run_id}


@dataclass
class ServingModel:
    """The inference pipeline ready to score request rows."""

    nodes: list[Any]  # kedro Nodes, in the pipeline's (topological) order
    values: dict[str, Any]  # every free input but the batch: fitted model, model info, params
    input_name: str
    output_name: str
    schema: FeatureSchema
    meta: ModelMeta
    prediction_column: str = "prediction"
    extra: dict[str, Any] = field(default_factory=dict)

    def score(self, rows: pd.DataFrame) -> pd.DataFrame:
        """The pipeline's output for ``rows`` (one output row per input row, same order).

        Raises:
            ScoringError: when the pipeline does not return one row per input row.
        """
        data = dict(self.values)
        data[self.input_name] = rows
        for node in self.nodes:
            data.update(node.run({name: data[name] for name in node.inputs}))
        output = data[self.output_name]
        if len(output) != len(rows):
            raise ScoringError(
                f"the inference pipeline returned {len(output)} rows for {len(rows)}: online "
                "serving needs one output row per input row"
            )
        return output.reset_index(drop=True)

    def frame(self, rows: list[dict[str, Any]]) -> pd.DataFrame:
        """Validated request rows as a DataFrame shaped like the batch file (numbers as float)."""
        import numpy as np  # noqa: PLC0415
        import pandas as pd  # noqa: PLC0415

        data: dict[str, Any] = {}
        for column in self.schema.columns:
            values = [row[column.name] for row in rows]
            data[column.name] = (
                np.array(values, dtype="float64") if column.type == "double" else values
            )
        # the arrays are new: no copy (1,000 rows: 1.1 ms instead of 1.6 ms)
        return pd.DataFrame(data, copy=False)

    def with_meta(self, **changes: Any) -> ServingModel:  # noqa: ANN401
        return replace(self, meta=replace(self.meta, **changes))

    # ------------------------------------------------------------------ bundle
    def save_bundle(self, directory: Path) -> Path:
        """Write the bundle; the node functions are pickled by reference (importable names).

        Raises:
            ScoringError: when something of the pipeline cannot be pickled.
        """
        directory.mkdir(parents=True, exist_ok=True)
        payload = {"nodes": self.nodes, "values": self.values}
        try:
            blob = pickle.dumps(payload, protocol=pickle.HIGHEST_PROTOCOL)
        except (pickle.PicklingError, AttributeError, TypeError) as exc:
            raise ScoringError(
                f"the inference pipeline cannot be saved into the serving image: {exc}. Node "
                "functions must be importable module-level functions (no lambdas or closures)."
            ) from None
        (directory / BUNDLE_PIPELINE).write_bytes(blob)
        meta = {
            "meta": {**asdict(self.meta), "aliases": list(self.meta.aliases)},
            "input_name": self.input_name,
            "output_name": self.output_name,
            "prediction_column": self.prediction_column,
            "schema": self.schema.to_json(),
            "extra": self.extra,
        }
        (directory / BUNDLE_META).write_text(json.dumps(meta, indent=2), encoding="utf-8")
        return directory


class ScoringError(RuntimeError):
    """The pipeline cannot serve online (e.g. it drops or adds rows)."""


def load_bundle(directory: Path) -> ServingModel:
    """A model saved by :meth:`ServingModel.save_bundle` (trusted: written at package time)."""
    meta = json.loads((directory / BUNDLE_META).read_text(encoding="utf-8"))
    payload = pickle.loads((directory / BUNDLE_PIPELINE).read_bytes())  # noqa: S301 - our own file
    info = meta["meta"]
    return ServingModel(
        nodes=payload["nodes"],
        values=payload["values"],
        input_name=meta["input_name"],
        output_name=meta["output_name"],
        schema=FeatureSchema.from_json(meta["schema"]),
        meta=ModelMeta(
            **{
                **info,
                "aliases": tuple(info.get("aliases", ())),
                "source": "bundle",
                "loaded_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            }
        ),
        prediction_column=meta.get("prediction_column", "prediction"),
        extra=meta.get("extra", {}),
    )


def from_pipeline(
    pipeline: Any,  # noqa: ANN401 - a kedro Pipeline
    values: dict[str, Any],
    *,
    input_name: str,
    meta: ModelMeta,
    signature: list[dict[str, Any]] | None,
    prediction_column: str = "prediction",
) -> ServingModel:
    """A serving model of a Kedro inference pipeline and the values of its free inputs.

    Raises:
        ScoringError: when the pipeline has not exactly one output or an input has no value.
    """
    from kedro_mlops.serving.schema import build_schema  # noqa: PLC0415

    outputs = sorted(pipeline.outputs())
    if len(outputs) != 1:
        raise ScoringError(
            f"the inference pipeline must have exactly one output to serve, it has {outputs}"
        )
    missing = sorted(set(pipeline.inputs()) - set(values) - {input_name})
    if missing:
        raise ScoringError(f"no value for the inference pipeline's input(s) {missing}")
    nodes = list(pipeline.nodes)
    needed = set(pipeline.inputs()) - {input_name}
    dataset = values.get("params:dataset") or {}
    return ServingModel(
        nodes=nodes,
        values={name: value for name, value in values.items() if name in needed},
        input_name=input_name,
        output_name=outputs[0],
        schema=build_schema(dataset if isinstance(dataset, dict) else {}, signature),
        meta=meta,
        prediction_column=prediction_column,
    )
