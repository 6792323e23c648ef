"""What makes a run reproducible: code version, environment, data digests. Pure where possible."""

from __future__ import annotations

import hashlib
import os
import platform
import sys
import warnings
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kedro_mlops import internals
from kedro_mlops.vcs import git_output, head_commit

if TYPE_CHECKING:
    from collections.abc import Mapping

    import pandas as pd
    from mlflow.entities import DatasetInput
    from mlflow.types import Schema

LIBRARIES = ("kedro", "kedro-mlops", "kedro-mlflow", "mlflow", "scikit-learn", "pandas")
DIGEST_CHUNK_ROWS = 100_000
SCHEMA_SAMPLE_ROWS = 1_000
TAG_PREFIX = "mlops."


GIT_SHA_ENV = "KEDRO_MLOPS_GIT_SHA"  # set in images built by `kedro mlops package`
GIT_DIRTY_ENV = "KEDRO_MLOPS_GIT_DIRTY"


def git_tags(path: Path, environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """Commit sha, branch and dirty flag of the work tree holding ``path``.

    Outside git (e.g. in a container image, which holds no ``.git``), the commit the image was
    built from, when ``KEDRO_MLOPS_GIT_SHA`` says so; else ``{}``.
    """
    head = head_commit(path)
    if head is None:
        return _image_git_tags(os.environ if environ is None else environ)
    sha, dirty = head
    return {
        f"{TAG_PREFIX}git.sha": sha,
        f"{TAG_PREFIX}git.branch": git_output(path, "rev-parse", "--abbrev-ref", "HEAD") or "",
        f"{TAG_PREFIX}git.dirty": str(dirty).lower(),
        # MLflow's own tag: the UI links the run to the commit
        "mlflow.source.git.commit": sha,
    }


def _image_git_tags(environ: Mapping[str, str]) -> dict[str, str]:
    sha = environ.get(GIT_SHA_ENV, "").strip()
    if not sha:
        return {}
    return {
        f"{TAG_PREFIX}git.sha": sha,
        f"{TAG_PREFIX}git.dirty": str(environ.get(GIT_DIRTY_ENV, "").lower() == "true").lower(),
        f"{TAG_PREFIX}git.from": GIT_SHA_ENV,
        "mlflow.source.git.commit": sha,
    }


def library_versions(libraries: tuple[str, ...] = LIBRARIES) -> dict[str, str]:
    """``mlops.version.<name>`` tags: Python and the installed versions of ``libraries``."""
    versions = {f"{TAG_PREFIX}version.python": platform.python_version()}
    for name in libraries:
        try:
            versions[f"{TAG_PREFIX}version.{name}"] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return versions


def run_tags(run_params: dict[str, Any], argv: list[str] | None = None) -> dict[str, str]:
    """The Kedro command, pipeline(s), environment and runner of a run."""
    argv = sys.argv if argv is None else argv
    command = " ".join(["kedro", *argv[1:]]) if argv and Path(argv[0]).name == "kedro" else ""
    pipelines = run_params.get("pipeline_names") or ["__default__"]
    return {
        f"{TAG_PREFIX}command": command or "kedro run (from Python)",
        f"{TAG_PREFIX}pipeline": "+".join(pipelines),
        f"{TAG_PREFIX}env": str(run_params.get("env") or "local"),
        f"{TAG_PREFIX}runner": _runner_name(run_params.get("runner")),
    }


def _runner_name(runner: object) -> str:
    """``ThreadRunner`` from a class, an instance or the ``str()`` of an instance."""
    if runner is None or runner == "None":  # Kedro records str(None) for its default runner
        return "SequentialRunner"
    if not isinstance(runner, str):
        return getattr(runner, "__name__", type(runner).__name__)
    # Kedro records ``str(instance)``: "<kedro.runner.thread_runner.ThreadRunner object at 0x..>"
    head = runner.strip("<>").split(" object at ")[0]
    return head.rsplit(".", 1)[-1]


def frame_digest(frame: pd.DataFrame) -> str:
    """A content digest of a DataFrame, stable across runs, processes and machines.

    Rows are hashed with pandas' fixed-key row hash, a chunk at a time, so memory stays bounded
    (8 bytes per row of a chunk) whatever the size of the frame. Column names count; the index
    does not. Changing any value of any row changes the digest.
    """
    import pandas as pd  # noqa: PLC0415 - only when a dataset is digested

    digest = hashlib.sha256()
    digest.update("\x1f".join(map(str, frame.columns)).encode())
    digest.update(str(len(frame)).encode())
    for start in range(0, len(frame), DIGEST_CHUNK_ROWS):
        chunk = frame.iloc[start : start + DIGEST_CHUNK_ROWS]
        digest.update(pd.util.hash_pandas_object(chunk, index=False).to_numpy().tobytes())
    return digest.hexdigest()[:16]


def frame_schema(frame: pd.DataFrame) -> Schema | None:
    """MLflow's column schema of ``frame``, typed from a sample, nullability from all rows."""
    from mlflow.types import ColSpec, Schema  # noqa: PLC0415

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # its hints are about model signatures, not lineage
            sampled = internals.infer_schema(frame.head(SCHEMA_SAMPLE_ROWS))
    except Exception:  # a schema MLflow cannot infer is left out, as MLflow does itself
        return None
    has_nulls = frame.isna().any()
    return Schema(
        [
            ColSpec(type=spec.type, name=spec.name, required=not bool(has_nulls[spec.name]))
            for spec in sampled.inputs
        ]
    )


def dataset_input(
    frame: pd.DataFrame, name: str, source: str, context: str = "input"
) -> DatasetInput:
    """An MLflow ``DatasetInput``: our digest, the source path and the inferred schema."""
    from mlflow.data.pandas_dataset import from_pandas  # noqa: PLC0415
    from mlflow.entities import DatasetInput, InputTag  # noqa: PLC0415

    dataset = from_pandas(
        frame, source=dataset_source(source), name=name, digest=frame_digest(frame)
    )
    # MLflow infers the schema value by value (~0.3 s for 12k rows): infer the types from a
    # sample and take the required flags (no nulls) from the whole frame, column-wise
    internals.set_dataset_schema(dataset, frame_schema(frame))
    return DatasetInput(
        dataset=internals.dataset_entity(dataset),
        tags=[InputTag(key="mlflow.data.context", value=context)],
    )


def dataset_source(path: str) -> Any:  # noqa: ANN401 - an MLflow DatasetSource
    """The MLflow dataset source of a file path, chosen as MLflow chooses it (the last registered
    source that resolves it) but without its warning that two registered sources (the local
    artifact source, registered once per URI scheme) both could."""
    from mlflow.data.dataset_source_registry import get_registered_sources  # noqa: PLC0415

    for source in reversed(get_registered_sources()):
        try:
            resolved = internals.resolve_source(source, path)
        except Exception:  # noqa: S112 - MLflow skips sources that fail the same way
            continue
        if resolved is not None:
            return resolved
    return path
