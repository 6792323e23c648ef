"""Dynamic micro-batching: requests that arrive while the model is busy are scored together.

Scoring through the inference pipeline has a fixed cost per call (pandas and scikit-learn set-up)
that dominates 1-row requests. One worker thread scores; every request that queued meanwhile (up
to ``max_rows`` rows) goes into its next call, after waiting at most ``max_wait_s`` for company
when requests come together (the last batch held several). The request path only validates JSON:
the DataFrame is built, scored and written back as JSON text (pandas' own writer, several times
faster than Python objects through ``json``) on the worker. A batch that fails is scored again
request by request, so one bad request never fails the others.

A lone request (nothing else queued) is scored on the event loop's own thread: the loop has
nothing else to do meanwhile, and a hand-off to the worker and back costs two thread wake-ups.
Scoring runs native code (OpenMP, BLAS) on one thread: the event loop needs the other cores,
and a thread pool spinning against the server's own threads is slower for small batches (more
throughput: ``--workers``). A lone request of ``threaded_rows`` rows or more is the exception:
nothing else runs meanwhile, and the native libraries' own threads score it faster (the
starter's model, 2 cores: 1,000 rows 23 ms instead of 25 ms, 3,000 rows 35 ms instead of 44 ms;
no gain under 500 rows).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from kedro_mlops.serving.schema import ROW_COLUMN

if TYPE_CHECKING:
    from collections.abc import Callable
    from contextlib import AbstractContextManager

    import pandas as pd

    from kedro_mlops.serving.model import ServingModel

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Scored:
    """One request's output rows (a JSON array of objects, in request order) and the model."""

    json: str
    model: ServingModel


@dataclass(frozen=True)
class View:
    """What an answer shows of the output rows: columns left out, columns renamed."""

    hidden: tuple[str, ...] = ()
    renamed: tuple[tuple[str, str], ...] = ()

    def apply(self, output: pd.DataFrame) -> pd.DataFrame:
        shown = output.drop(columns=[c for c in self.hidden if c in output.columns])
        if self.renamed:  # in place on the new frame: rename() would copy every column again
            names = dict(self.renamed)
            shown.columns = [names.get(column, column) for column in shown.columns]
        return shown


def _view(hidden: View | tuple[str, ...]) -> View:
    return hidden if isinstance(hidden, View) else View(tuple(hidden))


@dataclass
class _Job:
    rows: list[dict[str, Any]]
    future: asyncio.Future[Scored]
    hidden: View | tuple[str, ...] = ()  # output columns left out of the answer


class MicroBatcher:
    """Queue requests' rows, score them in batches on one thread with the current model.

    ``on_batch(model, rows, output)`` is called on the worker after each scored batch (metrics,
    the traffic log); its errors are logged, never raised to a request. Each scoring call runs
    inside ``scoring()`` (e.g. :meth:`DataWarnings.capture`).
    """

    def __init__(
        self,
        current: Callable[[], ServingModel],
        *,
        max_rows: int = 4096,
        max_wait_s: float = 0.002,
        on_batch: Callable[[ServingModel, pd.DataFrame, pd.DataFrame], None] | None = None,
        scoring: Callable[[], AbstractContextManager[object]] = contextlib.nullcontext,
        threaded_rows: int = 500,
        score: Callable[[ServingModel, pd.DataFrame], pd.DataFrame] | None = None,
    ) -> None:
        self._current = current
        self._score = score
        self._threaded_rows = threaded_rows
        self._scoring = scoring
        self._max_rows = max_rows
        self._max_wait_s = max_wait_s
        self._on_batch = on_batch
        self._together = False  # the last batch held several requests
        # the native thread pools, found once (finding them takes ~2 ms), and the event loop
        # thread's limit to one native thread (None: not set yet, or no threadpoolctl)
        self._native: Any = None
        self._loop_limit: Any = None
        self._loop_limited = False
        self._queue: asyncio.Queue[_Job] | None = None
        self._worker: asyncio.Task[None] | None = None
        self._executor = ThreadPoolExecutor(
            max_workers=1, thread_name_prefix="kedro-mlops-score", initializer=limit_native_threads
        )

    async def score(
        self, rows: list[dict[str, Any]], hidden: View | tuple[str, ...] = ()
    ) -> Scored:
        """The pipeline's output rows for ``rows`` (without the ``hidden`` columns) and the
        model that produced them.

        Raises:
            Exception: what the pipeline raised for these rows.
        """
        loop = asyncio.get_running_loop()
        if self._queue is None:
            self._queue = asyncio.Queue()
            self._worker = loop.create_task(self._run())
        future: asyncio.Future[Scored] = loop.create_future()
        await self._queue.put(_Job(rows, future, hidden))
        return await future

    async def _run(self) -> None:
        assert self._queue is not None  # noqa: S101 - set before the task starts
        loop = asyncio.get_running_loop()
        while True:
            jobs = [await self._queue.get()]
            rows = len(jobs[0].rows)
            # wait for company only when requests come together: a lone client's request (a
            # 1,000-row one, say) is scored at once
            deadline = loop.time() + (self._max_wait_s if self._together else 0.0)
            while rows < self._max_rows:
                try:
                    job = self._queue.get_nowait()
                except asyncio.QueueEmpty:
                    if loop.time() >= deadline:
                        break
                    await asyncio.sleep(0)  # let waiting requests reach the queue
                    continue
                jobs.append(job)
                rows += len(job.rows)
            self._together = len(jobs) > 1
            model = self._current()  # one model for the whole batch, even mid-reload
            work = [(job.rows, job.hidden) for job in jobs]
            if len(jobs) == 1 and self._queue.empty():
                # a lone request: nothing for the loop to do meanwhile, so no thread hand-off
                # (two wake-ups, each a scheduler delay on a busy machine)
                results = self._score_here(model, work, rows)
            else:
                try:
                    results = await loop.run_in_executor(
                        self._executor,
                        score_jobs,
                        model,
                        work,
                        self._on_batch,
                        self._scoring,
                        self._score,
                    )
                except RuntimeError as exc:  # the executor is shut down: the server is stopping
                    results = [exc] * len(jobs)
            for job, result in zip(jobs, results, strict=True):
                if job.future.done():  # the client went away
                    continue
                if isinstance(result, BaseException):
                    job.future.set_exception(result)
                else:
                    job.future.set_result(Scored(result, model))

    def _score_here(
        self,
        model: ServingModel,
        work: list[tuple[list[dict[str, Any]], View | tuple[str, ...]]],
        rows: int,
    ) -> list[str | Exception]:
        """Score a lone request on the event loop's thread: one native thread, or the native
        libraries' own threads from ``threaded_rows`` rows."""
        if not self._loop_limited:
            self._native = _native_threads()
            self._loop_limit = self._native.limit(limits=1) if self._native is not None else None
            self._loop_limited = True
        if rows < self._threaded_rows or self._loop_limit is None:
            return score_jobs(model, work, self._on_batch, self._scoring, self._score)
        self._loop_limit.restore_original_limits()
        try:
            return score_jobs(model, work, self._on_batch, self._scoring, self._score)
        finally:
            self._loop_limit = self._native.limit(limits=1)

    def close(self) -> None:
        if self._worker is not None:
            self._worker.cancel()
        self._executor.shutdown(wait=False, cancel_futures=True)


def score_jobs(
    model: ServingModel,
    jobs: list[tuple[list[dict[str, Any]], View | tuple[str, ...]]],
    on_batch: Callable[[ServingModel, pd.DataFrame, pd.DataFrame], None] | None = None,
    scoring: Callable[[], AbstractContextManager[object]] = contextlib.nullcontext,
    score: Callable[[ServingModel, pd.DataFrame], pd.DataFrame] | None = None,
) -> list[str | Exception]:
    """Score several requests' rows (each with its view of the output) in one call, inside
    ``scoring()``, with ``score`` (default: the model's own); each request gets the JSON text
    of its own output rows, or the exception its rows alone raise when the batch fails."""
    rows = jobs[0][0] if len(jobs) == 1 else [row for job, _hidden in jobs for row in job]
    try:
        with scoring():
            frame = model.frame(rows)
            output = model.score(frame) if score is None else score(model, frame)
    except Exception as exc:
        if len(jobs) == 1:
            return [exc]
        return [score_jobs(model, [job], on_batch, scoring, score)[0] for job in jobs]
    if on_batch is not None:
        try:
            on_batch(model, frame, output)
        except Exception:
            logger.exception("kedro-mlops: could not record a scored batch")
    shown: dict[View, pd.DataFrame] = {}
    # rows numbered by their position in the batch: number them within each request
    renumber = model.schema.id_column is None and ROW_COLUMN in output.columns
    texts, start = [], 0
    for job, hidden in jobs:
        view = _view(hidden)
        if view not in shown:
            shown[view] = view.apply(output)
        part = shown[view]
        if len(jobs) > 1:
            part = part.iloc[start : start + len(job)]
            if renumber and start:
                part = part.assign(**{ROW_COLUMN: part[ROW_COLUMN] - start})
        texts.append(json_text(part))
        start += len(job)
    return texts


def json_text(frame: pd.DataFrame) -> str:
    """``frame``'s rows as a JSON array of objects: missing values ``null``, dates ISO 8601,
    floats with 15 decimals (what a CSV of the batch pipeline holds, to 1e-15)."""
    return frame.to_json(orient="records", double_precision=15, date_format="iso")


def _native_threads() -> Any:  # noqa: ANN401 - a threadpoolctl ThreadpoolController
    """The native thread pools loaded (OpenMP, BLAS), or ``None`` without threadpoolctl."""
    try:
        from threadpoolctl import ThreadpoolController  # noqa: PLC0415 - scikit-learn's dependency
    except ImportError:  # no scikit-learn: nothing to limit
        return None
    return ThreadpoolController()


def limit_native_threads() -> None:
    """Limit this thread's native code to one thread."""
    native = _native_threads()
    if native is not None:
        native.limit(limits=1)
