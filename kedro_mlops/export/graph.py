"""The order of the pipelines' tasks, from their data: a pipeline that consumes a dataset another
one produces runs after it. Pure functions, no Kedro import."""

from __future__ import annotations

from dataclasses import dataclass

from kedro_mlops.export.errors import ExportError


@dataclass(frozen=True)
class PipelineData:
    """What a pipeline reads from outside itself and every dataset it writes."""

    name: str
    inputs: frozenset[str]
    outputs: frozenset[str]

    @classmethod
    def of(cls, name: str, inputs: set[str], outputs: set[str]) -> PipelineData:
        """Parameters (``params:*``, ``parameters``) are no data: they are left out."""
        data = {item for item in inputs if not item.startswith("params:") and item != "parameters"}
        return cls(name, frozenset(data), frozenset(outputs))


def upstream_of(pipelines: list[PipelineData]) -> dict[str, tuple[str, ...]]:
    """For each pipeline, the pipelines that produce one of its inputs (in the given order).

    Raises:
        ExportError: when the pipelines depend on each other in a cycle, or two of them write
            the same dataset (their order would be a guess).
    """
    writers: dict[str, str] = {}
    for pipeline in pipelines:
        for dataset in sorted(pipeline.outputs):
            if dataset in writers and writers[dataset] != pipeline.name:
                raise ExportError(
                    f"Pipelines {writers[dataset]!r} and {pipeline.name!r} both write dataset "
                    f"{dataset!r}: the order of their tasks cannot follow from the data. Export "
                    "pipelines that write distinct datasets (packaging.pipelines in mlops.yml)."
                )
            writers[dataset] = pipeline.name
    upstream = {
        pipeline.name: tuple(
            other.name
            for other in pipelines
            if other.name != pipeline.name
            and any(writers.get(dataset) == other.name for dataset in pipeline.inputs)
        )
        for pipeline in pipelines
    }
    topological_order(upstream)  # raises on a cycle
    return upstream


def topological_order(upstream: dict[str, tuple[str, ...]]) -> list[str]:
    """The names in an order where each comes after its upstream ones; ties keep the given order.

    Raises:
        ExportError: naming the pipelines that form a cycle.
    """
    done: list[str] = []
    remaining = dict(upstream)
    while remaining:
        ready = [name for name, before in remaining.items() if set(before) <= set(done)]
        if not ready:
            cycle = ", ".join(sorted(remaining))
            raise ExportError(
                f"The pipelines {cycle} consume each other's outputs in a cycle: no task order "
                "exists. Split a pipeline so that data flows one way."
            )
        done.append(ready[0])
        del remaining[ready[0]]
    return done


def ancestors(upstream: dict[str, tuple[str, ...]], name: str) -> set[str]:
    """Every pipeline ``name`` depends on, directly or through others."""
    seen: set[str] = set()
    stack = list(upstream.get(name, ()))
    while stack:
        current = stack.pop()
        if current not in seen:
            seen.add(current)
            stack.extend(upstream.get(current, ()))
    return seen


def producer_of(pipelines: list[PipelineData], dataset: str) -> str | None:
    """The pipeline that writes ``dataset``, if one does."""
    return next((p.name for p in pipelines if dataset in p.outputs), None)
