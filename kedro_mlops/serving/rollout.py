"""The challenger on live traffic beside the champion (``serving.rollout``).

- **shadow**: the champion answers every row; the challenger scores the same rows on a thread of
  its own, off the request path, in batches gathered over ``shadow_wait_s`` (fewer scoring calls:
  each has a fixed cost). Its answers go to the inference log beside the champion's, never to the
  client; its errors are counted, never raised.
- **canary**: a sticky share of the rows (by a hash of the id column's value: the same id always
  meets the same version; seeded at random without an id column) is answered by the challenger.
  The champion scores every row too: a row the challenger fails on is answered by the champion,
  and each canary row's log holds both versions' answers (compared on the same rows).

Every logged row names the version that answered it (``answered_by``) and what each version said
(``champion_*``, ``challenger_*``: ``kedro_mlops.config.rollout``); ``kedro mlops rollout analyze``
reads them.
"""

from __future__ import annotations

import contextlib
import logging
import queue
import threading
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from kedro_mlops.config.rollout import (
    ANSWERED_BY,
    BATCH_ROWS,
    CHALLENGER_PREFIX,
    CHAMPION_PREFIX,
    ERROR,
    MILLISECONDS,
    PREDICTION,
    ROLLOUT_MODE,
    SCORE,
    VERSION,
    rollout_columns,
)
from kedro_mlops.serving.schema import ROW_COLUMN

if TYPE_CHECKING:
    from collections.abc import Callable
    from contextlib import AbstractContextManager

    import numpy as np
    import pandas as pd

    from kedro_mlops.serving.metrics import Metrics
    from kedro_mlops.serving.model import ServingModel

logger = logging.getLogger(__name__)

LOG_EVERY_S = 60.0  # a failing challenger is logged at most this often
CANARY_BUCKETS = 10_000  # the id hash's buckets: fractions to 1e-4
PER_ROW = (VERSION, PREDICTION, SCORE, MILLISECONDS, BATCH_ROWS, ERROR)  # the challenger's columns
LOG_ONLY = tuple(column for column in rollout_columns() if column != ANSWERED_BY)


@dataclass(frozen=True)
class RolloutSettings:
    """How the challenger meets traffic (``serving.rollout`` of mlops.yml)."""

    mode: str = "none"  # none | shadow | canary
    fraction: float = 0.1
    seed: int = 0
    score_column: str = "probability"
    challenger_uri: str | None = None  # an @alias URI is watched for new versions
    challenger_bundle: str | None = None  # the saved challenger, for workers and the image

    @property
    def active(self) -> bool:
        return self.mode != "none"


class ChallengerSlot:
    """The challenger being tried, or ``None`` (its alias was removed: a promotion or a
    rollback); swapped atomically by its watcher."""

    def __init__(self, model: ServingModel | None) -> None:
        self.model = model
        self.listeners: list[Callable[[ServingModel | None, ServingModel | None], None]] = []

    def swap(self, model: ServingModel | None) -> None:
        old, self.model = self.model, model
        for listener in self.listeners:
            listener(old, model)


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


_challenger_thread = threading.local()  # .scoring: this thread scores the challenger now


class _QuietChallenger(logging.Filter):
    """Drops the node errors Kedro logs while the challenger scores: its failures are counted
    and summarised (at most once a minute), not logged row by row."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not getattr(_challenger_thread, "scoring", False)


def _quiet_node_errors() -> None:
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


class Rollout:
    """Scores a batch with the champion and, by ``settings.mode``, the challenger; records both
    in the metrics and hands the rows to ``log`` (the inference log), in shadow mode once the
    challenger has scored them."""

    def __init__(
        self,
        settings: RolloutSettings,
        challenger: ChallengerSlot,
        metrics: Metrics,
        log: Callable[[pd.DataFrame, pd.DataFrame], None] | None = None,
        *,
        scoring: Callable[[], AbstractContextManager[object]] = contextlib.nullcontext,
        shadow_wait_s: float = 0.2,
        max_pending_rows: int = 200_000,
    ) -> None:
        import numpy as np  # noqa: PLC0415

        self.settings = settings
        self.scoring = scoring  # around the shadow worker's scoring (data warnings)
        self.slot = challenger
        self._metrics = metrics
        self._log = log
        self._rng = np.random.default_rng(settings.seed)
        self._next_error_log = 0.0
        _quiet_node_errors()
        self._shadow = (
            _ShadowWorker(self, shadow_wait_s, max_pending_rows)
            if settings.mode == "shadow"
            else None
        )

    # -------------------------------------------------------------- on the scoring thread
    def score(self, champion: ServingModel, frame: pd.DataFrame) -> pd.DataFrame:
        """The answer for ``frame``'s rows (champion's, or challenger's for canary rows), with
        the rollout's columns; raises what the champion raises (the request fails as without
        a rollout)."""
        started = time.perf_counter()
        output = champion.score(frame)
        self._timed(champion, started, len(frame))
        output = self._with_model(output, champion, CHAMPION_PREFIX, time.perf_counter() - started)
        output[ROLLOUT_MODE] = self.settings.mode
        output[ANSWERED_BY] = champion.meta.version
        for name in PER_ROW:
            output[CHALLENGER_PREFIX + name] = None
        challenger = self.slot.model
        if self.settings.mode == "canary" and challenger is not None:
            self._canary(output, frame, champion, challenger)
        return output

    def _canary(
        self,
        output: pd.DataFrame,
        frame: pd.DataFrame,
        champion: ServingModel,
        challenger: ServingModel,
    ) -> None:
        import numpy as np  # noqa: PLC0415

        mask = canary_mask(
            frame,
            champion.schema.id_column,
            self.settings.fraction,
            self.settings.seed,
            self._rng,
        )
        rows = np.flatnonzero(mask)
        if not len(rows):
            return
        theirs, errors = self.challenger_scores(challenger, frame.iloc[rows].reset_index(drop=True))
        answered = rows[[not error for error in errors]]
        ok = theirs.loc[[not error for error in errors]]
        identity = {ROW_COLUMN, champion.schema.id_column}
        for column in output.columns.intersection(ok.columns).difference(identity):
            output.loc[answered, column] = ok[column].to_numpy()
        output.loc[answered, ANSWERED_BY] = challenger.meta.version
        for name in PER_ROW:
            output.loc[rows, CHALLENGER_PREFIX + name] = theirs[CHALLENGER_PREFIX + name].to_numpy()

    def challenger_scores(
        self, challenger: ServingModel, frame: pd.DataFrame
    ) -> tuple[pd.DataFrame, list[str]]:
        """The challenger's output for ``frame`` with its ``challenger_*`` columns, and the
        error of each row ("" when none); errors are counted, never raised."""
        started = time.perf_counter()
        _challenger_thread.scoring = True
        try:
            output, errors = score_safely(challenger, frame)
        finally:
            _challenger_thread.scoring = False
        self._timed(challenger, started, len(frame))
        failed = [error for error in errors if error]
        if failed:
            self._metrics.model_errors.labels(challenger.meta.version).inc(len(failed))
            if time.monotonic() >= self._next_error_log:
                self._next_error_log = time.monotonic() + LOG_EVERY_S
                # ERROR: a scoring thread's warnings are taken for data warnings and thinned
                logger.error(
                    "kedro-mlops: challenger version %s failed on %d of %d rows (%s); the "
                    "champion answered them. Counted in /metrics (kedro_mlops_model_errors_total);"
                    " further failures within %g s are not logged",
                    challenger.meta.version,
                    len(failed),
                    len(frame),
                    failed[0],
                    LOG_EVERY_S,
                )
        output = output.reindex(range(len(frame)))
        output = self._with_model(
            output, challenger, CHALLENGER_PREFIX, time.perf_counter() - started
        )
        output[CHALLENGER_PREFIX + ERROR] = [error or None for error in errors]
        return output, errors

    def _with_model(
        self, output: pd.DataFrame, model: ServingModel, prefix: str, seconds: float
    ) -> pd.DataFrame:
        score = self.settings.score_column
        column = model.prediction_column
        output[prefix + VERSION] = model.meta.version
        output[prefix + PREDICTION] = output[column] if column in output.columns else None
        output[prefix + SCORE] = output[score] if score in output.columns else None
        output[prefix + MILLISECONDS] = round(seconds * 1000, 3)
        output[prefix + BATCH_ROWS] = len(output)
        return output

    def _timed(self, model: ServingModel, started: float, rows: int) -> None:
        self._metrics.scoring_seconds.labels(model.meta.version).observe(
            time.perf_counter() - started
        )
        self._metrics.model_rows.labels(model.meta.version).inc(rows)

    # -------------------------------------------------------------- after a scored batch
    def record(self, rows: pd.DataFrame, output: pd.DataFrame, prediction_column: str) -> None:
        """Count the answered rows by version and class; log them (shadow: once the challenger
        has scored them, off the request path)."""
        if prediction_column in output.columns:
            self._count(output, ANSWERED_BY, prediction_column)
        if self._shadow is not None and self.slot.model is not None:
            self._shadow.put(rows, output)
        elif self._log is not None:
            self._log(rows, output)

    def _count(self, output: pd.DataFrame, version_column: str, prediction_column: str) -> None:
        from collections import Counter  # noqa: PLC0415

        versions = output[version_column].tolist()
        predictions = output[prediction_column].tolist()
        for (version, prediction), count in Counter(
            zip(versions, predictions, strict=True)
        ).items():
            if version is None or prediction is None:
                continue
            self._metrics.predictions.labels(str(prediction), str(version)).inc(count)

    def shadow_scored(self, rows: pd.DataFrame, output: pd.DataFrame) -> None:
        """The shadow worker's result for one batch: counted and logged."""
        self._count(output, CHALLENGER_PREFIX + VERSION, CHALLENGER_PREFIX + PREDICTION)
        if self._log is not None:
            self._log(rows, output)

    def close(self) -> None:
        if self._shadow is not None:
            self._shadow.close()


class _ShadowWorker:
    """Scores queued batches with the challenger on its own thread, gathered over ``wait_s``."""

    def __init__(self, rollout: Rollout, wait_s: float, max_pending_rows: int) -> None:
        self._rollout = rollout
        self._wait_s = wait_s
        self._max_pending = max_pending_rows
        self._pending = 0  # rows queued (changed by the scoring and the shadow threads)
        self._lock = threading.Lock()
        self.skipped = 0  # rows logged without the challenger's answer (queue full)
        self._queue: queue.Queue[tuple[pd.DataFrame, pd.DataFrame] | None] = queue.Queue()
        self._thread = threading.Thread(target=self._run, name="kedro-mlops-shadow", daemon=True)
        self._thread.start()

    def put(self, rows: pd.DataFrame, output: pd.DataFrame) -> None:
        with self._lock:
            full = self._pending >= self._max_pending
            if not full:
                self._pending += len(rows)
        if full:  # a challenger that cannot keep up must not hold the server's memory
            self.skipped += len(rows)
            self._rollout.shadow_scored(rows, output)
            return
        self._queue.put((rows, output))

    def close(self, timeout: float = 10.0) -> None:
        self._queue.put(None)
        self._thread.join(timeout)
        if self.skipped:
            logger.warning(
                "kedro-mlops: %d served rows were not scored by the challenger (queue full)",
                self.skipped,
            )

    def _run(self) -> None:
        from kedro_mlops.serving.batching import limit_native_threads  # noqa: PLC0415

        limit_native_threads()
        closing = False
        while not closing:
            items = [self._queue.get()]
            deadline = time.monotonic() + self._wait_s
            while items[-1] is not None:
                try:
                    items.append(self._queue.get(timeout=max(0.0, deadline - time.monotonic())))
                except queue.Empty:
                    break
            if items[-1] is None:
                closing = True
                items.pop()
            if items:
                self._score([item for item in items if item is not None])

    def _score(self, items: list[tuple[pd.DataFrame, pd.DataFrame]]) -> None:
        import pandas as pd  # noqa: PLC0415

        rows = pd.concat([frame for frame, _ in items], ignore_index=True)
        with self._lock:
            self._pending -= len(rows)
        challenger = self._rollout.slot.model
        try:
            if challenger is not None:
                with self._rollout.scoring():
                    theirs, _errors = self._rollout.challenger_scores(challenger, rows)
                columns = [CHALLENGER_PREFIX + name for name in PER_ROW]
                start = 0
                for frame, output in items:
                    part = theirs.iloc[start : start + len(frame)]
                    for column in columns:
                        output[column] = part[column].to_numpy()
                    start += len(frame)
        except Exception:  # never lose the rows: logged without the challenger's answer
            logger.exception("kedro-mlops: the shadow challenger could not score a batch")
        for frame, output in items:
            self._rollout.shadow_scored(frame, output)
