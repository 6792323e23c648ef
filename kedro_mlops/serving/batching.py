"""Dynamic micro-batching: requests that arrive while the model is busy are scored together.

Scoring through the inference pipeline has a fixed cost per call (pandas and scikit-learn set-up)
that dominates 1-row requests. One worker thread scores; every request that queued meanwhile (up
to ``max_rows`` rows) goes into its next call, after waiting at most ``max_wait_s`` for company.
The request path only validates JSON: the DataFrame is built, scored and turned back into JSON-ready
rows on the worker, once per batch. A batch that fails is scored again request by request, so one
bad request never fails the others.

The worker runs native code (OpenMP, BLAS) on one thread: the event loop needs the other cores,
and a thread pool spinning against the server's own threads is slower for small batches (more
throughput: ``--workers``).
"""

from __future__ import annotations

import asyncio
import logging
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from kedro_mlops.serving.schema import ROW_COLUMN

if TYPE_CHECKING:
    from collections.abc import Callable

    import pandas as pd

    from kedro_mlops.serving.model import ServingModel

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Scored:
    """One request's output rows (JSON-ready dicts, in request order) and the model that scored."""

    records: list[dict[str, Any]]
    model: ServingModel


@dataclass
class _Job:
    rows: list[dict[str, Any]]
    future: asyncio.Future[Scored]


class MicroBatcher:
    """Queue requests' rows, score them in batches on one thread with the current model.

    ``on_batch(model, rows, output)`` is called on the worker after each scored batch (metrics,
    the traffic log); its errors are logged, never raised to a request.
    """

    def __init__(
        self,
        current: Callable[[], ServingModel],
        *,
        max_rows: int = 4096,
        max_wait_s: float = 0.002,
        on_batch: Callable[[ServingModel, pd.DataFrame, pd.DataFrame], None] | None = None,
    ) -> None:
        self._current = current
        self._max_rows = max_rows
        self._max_wait_s = max_wait_s
        self._on_batch = on_batch
        self._queue: asyncio.Queue[_Job] | None = None
        self._worker: asyncio.Task[None] | None = None
        self._executor = ThreadPoolExecutor(
            max_workers=1, thread_name_prefix="kedro-mlops-score", initializer=_one_native_thread
        )

    async def score(self, rows: list[dict[str, Any]]) -> Scored:
        """The pipeline's output rows for ``rows`` and the model that produced them.

        Raises:
            Exception: what the pipeline raised for these rows.
        """
        loop = asyncio.get_running_loop()
        if self._queue is None:
            self._queue = asyncio.Queue()
            self._worker = loop.create_task(self._run())
        future: asyncio.Future[Scored] = loop.create_future()
        await self._queue.put(_Job(rows, future))
        return await future

    async def _run(self) -> None:
        assert self._queue is not None  # noqa: S101 - set before the task starts
        loop = asyncio.get_running_loop()
        while True:
            jobs = [await self._queue.get()]
            rows = len(jobs[0].rows)
            deadline = loop.time() + self._max_wait_s
            while rows < self._max_rows:
                try:
                    job = self._queue.get_nowait()
                except asyncio.QueueEmpty:
                    if loop.time() >= deadline or self._max_wait_s <= 0:
                        break
                    await asyncio.sleep(0)  # let waiting requests reach the queue
                    continue
                jobs.append(job)
                rows += len(job.rows)
            model = self._current()  # one model for the whole batch, even mid-reload
            try:
                results = await loop.run_in_executor(
                    self._executor, score_jobs, model, [job.rows for job in jobs], self._on_batch
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

    def close(self) -> None:
        if self._worker is not None:
            self._worker.cancel()
        self._executor.shutdown(wait=False, cancel_futures=True)


def score_jobs(
    model: ServingModel,
    jobs: list[list[dict[str, Any]]],
    on_batch: Callable[[ServingModel, pd.DataFrame, pd.DataFrame], None] | None = None,
) -> list[list[dict[str, Any]] | Exception]:
    """Score several requests' rows in one call; each request gets its own output rows, or the
    exception its rows alone raise when the batch fails."""
    rows = jobs[0] if len(jobs) == 1 else [row for job in jobs for row in job]
    try:
        frame = model.frame(rows)
        output = model.score(frame)
    except Exception as exc:
        if len(jobs) == 1:
            return [exc]
        return [score_jobs(model, [job], on_batch)[0] for job in jobs]
    if on_batch is not None:
        try:
            on_batch(model, frame, output)
        except Exception:
            logger.exception("kedro-mlops: could not record a scored batch")
    records = json_records(output)
    # rows numbered by their position in the batch: number them within each request
    renumber = model.schema.id_column is None and ROW_COLUMN in output.columns
    parts, start = [], 0
    for job in jobs:
        part = records[start : start + len(job)]
        if renumber and start:
            part = [{**record, ROW_COLUMN: record[ROW_COLUMN] - start} for record in part]
        parts.append(part)
        start += len(job)
    return parts


def json_records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """The rows of ``frame`` as dicts of Python values, missing values as ``None``
    (column by column: several times faster than ``DataFrame.to_dict``)."""
    names = [str(name) for name in frame.columns]
    columns = []
    for _name, series in frame.items():
        values = series.tolist()
        if series.hasnans:
            values = [None if gap else v for v, gap in zip(values, series.isna().tolist())]
        columns.append(values)
    return [dict(zip(names, row)) for row in zip(*columns)]


def _one_native_thread() -> None:
    try:
        from threadpoolctl import threadpool_limits  # noqa: PLC0415 - scikit-learn's dependency
    except ImportError:  # no scikit-learn: nothing to limit
        return
    threadpool_limits(1)
