"""Scoring a challenger beside the champion: which rows a canary answers (a sticky hash of the
id), scoring that fails row by row instead of batch by batch, and Kedro's per-node error lines
kept out of the log while the challenger scores (its failures are counted and summarised)."""

from __future__ import annotations

import logging
import threading
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

    from kedro_mlops.serving.model import ServingModel

CANARY_BUCKETS = 10_000  # the id hash's buckets: fractions to 1e-4


def canary_mask(
    frame: pd.DataFrame,
    id_column: str | None,
    fraction: float,
    seed: int,
    rng: Any,  # noqa: ANN401 - a numpy Generator
) -> np.ndarray:
    """Which rows the challenger answers: ``hash(id) < fraction`` (sticky: the same id, the same
    answer, in every process and after restarts), else a seeded random draw per row."""
    import numpy as np  # noqa: PLC0415
    import pandas as pd  # noqa: PLC0415

    if id_column and id_column in frame.columns:
        key = f"{seed:016d}"[-16:]
        hashes = pd.util.hash_pandas_object(
            frame[id_column].astype(str), index=False, hash_key=key
        ).to_numpy()
        return (hashes % CANARY_BUCKETS) < round(fraction * CANARY_BUCKETS)
    return np.asarray(rng.random(len(frame)) < fraction)


challenger_thread = threading.local()  # .scoring: this thread scores the challenger now


class _QuietChallenger(logging.Filter):
    """Drops the node errors Kedro logs while the challenger scores: its failures are counted
    and summarised (at most once a minute), not logged row by row."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not getattr(challenger_thread, "scoring", False)


def quiet_node_errors() -> None:
    node_logger = logging.getLogger("kedro.pipeline.node")
    if not any(isinstance(f, _QuietChallenger) for f in node_logger.filters):
        node_logger.addFilter(_QuietChallenger())


def score_safely(model: ServingModel, frame: pd.DataFrame) -> tuple[pd.DataFrame, list[str]]:
    """``model``'s output for ``frame`` and, per row, the error it raised ("" when none): when
    the whole frame fails, each row is scored alone, so one bad row fails only itself."""
    import pandas as pd  # noqa: PLC0415

    try:
        return model.score(frame), [""] * len(frame)
    except Exception as exc:
        if len(frame) == 1:
            return pd.DataFrame(index=range(1)), [_brief(exc)]
    parts, errors = [], []
    for position in range(len(frame)):
        output, (error,) = score_safely(model, frame.iloc[[position]].reset_index(drop=True))
        parts.append(output)
        errors.append(error)
    return pd.concat(parts, ignore_index=True), errors


def _brief(exc: Exception) -> str:
    return f"{type(exc).__name__}: {exc}"[:200]
