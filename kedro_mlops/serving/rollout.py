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
from kedro_mlops.serving.challenger import (
    canary_mask,
    challenger_thread,
    quiet_node_errors,
    score_safely,
)
from kedro_mlops.serving.schema import ROW_COLUMN

if TYPE_CHECKING:
    from collections.abc import Callable
    from contextlib import AbstractContextManager

    import pandas as pd

    from kedro_mlops.serving.metrics import Metrics
    from kedro_mlops.serving.model import ServingModel

logger = logging.getLogger(__name__)

LOG_EVERY_S = 60.0  # a failing challenger is logged at most this often
PER_ROW = (VERSION, PREDICTION, SCORE, MILLISECONDS, BATCH_ROWS, ERROR)  # the challenger's columns
LOG_ONLY = tuple(column for column in rollout_columns() if column != ANSWERED_BY)


@dataclass(frozen=True)
class _Batch:
    """What the log says of a batch one version scored."""

    version: str
    prediction_column: str
    seconds: float
    rows: int


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
        self._local = threading.local()  # .batch: the facts of the batch just scored
        quiet_node_errors()
        self._shadow = None
        if settings.mode == "shadow":
            from kedro_mlops.serving.shadow import ShadowWorker  # noqa: PLC0415

            self._shadow = ShadowWorker(self, shadow_wait_s, max_pending_rows)

    @classmethod
    def of(
        cls,
        settings: RolloutSettings | None,
        challenger: ChallengerSlot | None,
        holder: Any,  # noqa: ANN401 - the app's ModelHolder
        metrics: Metrics,
        traffic: Any,  # noqa: ANN401 - the app's TrafficLog, or None
    ) -> Rollout | None:
        """The rollout of an active ``settings`` in an app, its ``rollout_info`` gauge kept
        current as either model changes; ``None`` when there is none."""
        if settings is None or not settings.active or challenger is None:
            return None
        shown: list[tuple[str, str, str]] = []

        def gauge(*_changed: object) -> None:
            if shown:
                metrics.rollout.remove(*shown.pop())
            model = challenger.model
            version = model.meta.version if model else ""
            labels = (settings.mode, holder.model.meta.version, version)
            metrics.rollout.labels(*labels).set(1)
            shown.append(labels)

        gauge()
        holder.listeners.append(gauge)
        challenger.listeners.append(gauge)
        return cls(settings, challenger, metrics, traffic.append if traffic else None)

    def metadata(self) -> dict[str, Any]:
        """What ``/metadata`` says about the rollout."""
        model = self.slot.model
        return {
            "mode": self.settings.mode,
            **({"fraction": self.settings.fraction} if self.settings.mode == "canary" else {}),
            "challenger": None
            if model is None
            else {**model.meta.brief(), "model_uri": model.meta.model_uri},
        }

    # -------------------------------------------------------------- on the scoring thread
    def score(self, champion: ServingModel, frame: pd.DataFrame) -> pd.DataFrame:
        """The answer for ``frame``'s rows (the champion's, or the challenger's for canary rows)
        with ``answered_by``; raises what the champion raises (the request fails as without a
        rollout). The other log columns are added off the request path in shadow mode (the
        batch's facts wait in a thread-local for :meth:`record`, called next on this thread)."""
        started = time.perf_counter()
        output = champion.score(frame)
        seconds = time.perf_counter() - started
        self._timed(champion, seconds, len(frame))
        batch = _Batch(champion.meta.version, champion.prediction_column, seconds, len(frame))
        challenger = self.slot.model
        if self.settings.mode == "canary" and challenger is not None:
            return self._canary(output, frame, batch, champion, challenger)
        output[ANSWERED_BY] = champion.meta.version
        self._local.batch = batch
        return output

    def _canary(
        self,
        output: pd.DataFrame,
        frame: pd.DataFrame,
        batch: _Batch,
        champion: ServingModel,
        challenger: ServingModel,
    ) -> pd.DataFrame:
        import numpy as np  # noqa: PLC0415
        import pandas as pd  # noqa: PLC0415

        mine = self.model_columns(output, CHAMPION_PREFIX, batch)  # before canary rows change
        mask = canary_mask(
            frame, champion.schema.id_column, self.settings.fraction, self.settings.seed, self._rng
        )
        rows = np.flatnonzero(mask)
        answered_by = np.full(len(output), champion.meta.version, dtype=object)
        theirs = pd.DataFrame(None, index=output.index, columns=self.challenger_names)
        if len(rows):
            scored, errors = self.challenger_scores(
                challenger, frame.iloc[rows].reset_index(drop=True)
            )
            answered = rows[[not error for error in errors]]
            ok = scored.loc[[not error for error in errors]]
            identity = {ROW_COLUMN, champion.schema.id_column}
            for column in output.columns.intersection(ok.columns).difference(identity):
                output.loc[answered, column] = ok[column].to_numpy()
            answered_by[answered] = challenger.meta.version
            theirs.iloc[rows] = scored[self.challenger_names].to_numpy()
        output[ANSWERED_BY] = answered_by
        return pd.concat([output, self._mode_frame(output), mine, theirs], axis=1)

    @property
    def challenger_names(self) -> list[str]:
        return [CHALLENGER_PREFIX + name for name in PER_ROW]

    def model_columns(
        self,
        output: pd.DataFrame,
        prefix: str,
        batches: _Batch | list[_Batch],
        sizes: list[int] | None = None,
    ) -> pd.DataFrame:
        """One version's log columns for its ``output`` rows: its version, predicted class,
        score, and the time and size of the batch each row was scored in (``output`` may hold
        several batches, of ``sizes`` rows each, in order)."""
        import numpy as np  # noqa: PLC0415
        import pandas as pd  # noqa: PLC0415

        if isinstance(batches, _Batch):
            batches, sizes = [batches], [len(output)]
        first = batches[0]
        score, predicted = self.settings.score_column, first.prediction_column

        def per_row(values: list[Any]) -> Any:  # noqa: ANN401 - a value or an array
            return values[0] if len(values) == 1 else np.repeat(values, sizes)

        return pd.DataFrame(
            {
                prefix + VERSION: per_row([batch.version for batch in batches]),
                prefix + PREDICTION: output[predicted] if predicted in output.columns else None,
                prefix + SCORE: output[score] if score in output.columns else None,
                prefix + MILLISECONDS: per_row([round(b.seconds * 1000, 3) for b in batches]),
                prefix + BATCH_ROWS: per_row([batch.rows for batch in batches]),
            },
            index=output.index,
        )

    def _mode_frame(self, output: pd.DataFrame) -> pd.DataFrame:
        import pandas as pd  # noqa: PLC0415

        return pd.DataFrame({ROLLOUT_MODE: self.settings.mode}, index=output.index)

    def logged(
        self,
        output: pd.DataFrame,
        batches: _Batch | list[_Batch],
        theirs: pd.DataFrame | None = None,
        sizes: list[int] | None = None,
    ) -> pd.DataFrame:
        """A new frame: ``output`` (one batch, or several of ``sizes`` rows) with every rollout
        column (the challenger's from ``theirs``, else empty). ``output`` itself is not changed:
        the request thread may still read it."""
        import pandas as pd  # noqa: PLC0415

        if theirs is None:
            theirs = pd.DataFrame(None, index=output.index, columns=self.challenger_names)
        else:
            theirs = theirs.set_axis(output.index)
        mine = self.model_columns(output, CHAMPION_PREFIX, batches, sizes)
        return pd.concat([output, self._mode_frame(output), mine, theirs], axis=1)

    def challenger_scores(
        self, challenger: ServingModel, frame: pd.DataFrame
    ) -> tuple[pd.DataFrame, list[str]]:
        """The challenger's output for ``frame`` with its ``challenger_*`` columns, and the
        error of each row ("" when none); errors are counted, never raised."""
        import pandas as pd  # noqa: PLC0415

        started = time.perf_counter()
        challenger_thread.scoring = True
        try:
            output, errors = score_safely(challenger, frame)
        finally:
            challenger_thread.scoring = False
        seconds = time.perf_counter() - started
        self._timed(challenger, seconds, len(frame))
        failed = [error for error in errors if error]
        if failed:
            self._metrics.model_errors.labels(challenger.meta.version).inc(len(failed))
            self._log_failures(challenger, failed, len(frame))
        output = output.reindex(range(len(frame)))
        batch = _Batch(challenger.meta.version, challenger.prediction_column, seconds, len(frame))
        columns = self.model_columns(output, CHALLENGER_PREFIX, batch)
        columns[CHALLENGER_PREFIX + ERROR] = [error or None for error in errors]
        return pd.concat([output, columns], axis=1), errors

    def _log_failures(self, challenger: ServingModel, failed: list[str], rows: int) -> None:
        """At most once a minute (ERROR: a scoring thread's warnings are data warnings)."""
        if time.monotonic() < self._next_error_log:
            return
        self._next_error_log = time.monotonic() + LOG_EVERY_S
        logger.error(
            "kedro-mlops: challenger version %s failed on %d of %d rows (%s); the champion "
            "answered them. Counted in /metrics (kedro_mlops_model_errors_total); further "
            "failures within %g s are not logged",
            challenger.meta.version,
            len(failed),
            rows,
            failed[0],
            LOG_EVERY_S,
        )

    def _timed(self, model: ServingModel, seconds: float, rows: int) -> None:
        self._metrics.scoring_seconds.labels(model.meta.version).observe(seconds)
        self._metrics.model_rows.labels(model.meta.version).inc(rows)

    # -------------------------------------------------------------- after a scored batch
    def record(self, rows: pd.DataFrame, output: pd.DataFrame, prediction_column: str) -> None:
        """Count the answered rows by version and class; log them (shadow: once the challenger
        has scored them, off the request path)."""
        if prediction_column in output.columns:
            self._count(output, ANSWERED_BY, prediction_column, self.settings.score_column)
        batch = getattr(self._local, "batch", None)
        self._local.batch = None
        if batch is None:  # canary: its columns are there
            if self._log is not None:
                self._log(rows, output)
        elif self._shadow is not None and self.slot.model is not None:
            self._shadow.put(rows, output, batch)
        elif self._log is not None:
            self._log(rows, self.logged(output, batch))

    def _count(
        self, output: pd.DataFrame, version_column: str, prediction_column: str, score_column: str
    ) -> None:
        """Each version's answers in ``output`` into the metrics (class counts and share,
        scores)."""
        versions = output[version_column]
        scores = output[score_column] if score_column in output.columns else None
        for version in versions.dropna().unique():
            mine = (versions == version).to_numpy()
            self._metrics.observe(
                str(version),
                output[prediction_column][mine].tolist(),
                scores[mine].astype(float) if scores is not None else None,
            )

    def shadow_scored(self, rows: pd.DataFrame, output: pd.DataFrame) -> None:
        """The shadow worker's result for one batch: counted and logged."""
        self._count(
            output,
            CHALLENGER_PREFIX + VERSION,
            CHALLENGER_PREFIX + PREDICTION,
            CHALLENGER_PREFIX + SCORE,
        )
        if self._log is not None:
            self._log(rows, output)

    def close(self) -> None:
        if self._shadow is not None:
            self._shadow.close()
