"""Dynamic micro-batching: requests that arrive while the model is busy are scored together.

Scoring a DataFrame through the inference pipeline has a fixed cost per call (pandas and
scikit-learn set-up) that dominates 1-row requests. One worker thread scores; every request that
queued meanwhile (up to ``max_rows`` rows) goes into its next call, after waiting at most
``max_wait_s`` for company. A batch that fails is scored again request by request, so one bad
request never fails the others.
"""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Callable

    import pandas as pd

    from kedro_mlops.serving.model import ServingModel


@dataclass
class _Job:
    frame: pd.DataFrame
    future: asyncio.Future[tuple[pd.DataFrame, ServingModel]]


class MicroBatcher:
    """Queue request frames, score them in batches on one thread with the current model."""

    def __init__(
        self,
        current: Callable[[], ServingModel],
        *,
        max_rows: int = 4096,
        max_wait_s: float = 0.002,
    ) -> None:
        self._current = current
        self._max_rows = max_rows
        self._max_wait_s = max_wait_s
        self._queue: asyncio.Queue[_Job] | None = None
        self._worker: asyncio.Task[None] | None = None
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="kedro-mlops-score")

    async def score(self, frame: pd.DataFrame) -> tuple[pd.DataFrame, ServingModel]:
        """The pipeline output for ``frame`` and the model that produced it."""
        loop = asyncio.get_running_loop()
        if self._queue is None:
            self._queue = asyncio.Queue()
            self._worker = loop.create_task(self._run())
        future: asyncio.Future[Any] = loop.create_future()
        await self._queue.put(_Job(frame, future))
        return await future

    async def _run(self) -> None:
        assert self._queue is not None  # noqa: S101 - set before the task starts
        loop = asyncio.get_running_loop()
        while True:
            jobs = [await self._queue.get()]
            rows = len(jobs[0].frame)
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
                rows += len(job.frame)
            model = self._current()  # one model for the whole batch, even mid-reload
            results = await loop.run_in_executor(self._executor, _score_jobs, model, jobs)
            for job, result in zip(jobs, results, strict=True):
                if job.future.done():  # the client went away
                    continue
                if isinstance(result, BaseException):
                    job.future.set_exception(result)
                else:
                    job.future.set_result((result, model))

    def close(self) -> None:
        if self._worker is not None:
            self._worker.cancel()
        self._executor.shutdown(wait=False, cancel_futures=True)


def _score_jobs(model: ServingModel, jobs: list[_Job]) -> list[pd.DataFrame | Exception]:
    import pandas as pd  # noqa: PLC0415

    if len(jobs) == 1:
        return [_score_one(model, jobs[0].frame)]
    try:
        output = model.score(pd.concat([job.frame for job in jobs], ignore_index=True))
    except Exception:
        return [_score_one(model, job.frame) for job in jobs]
    parts, start = [], 0
    for job in jobs:
        end = start + len(job.frame)
        parts.append(output.iloc[start:end].reset_index(drop=True))
        start = end
    return parts


def _score_one(model: ServingModel, frame: pd.DataFrame) -> pd.DataFrame | Exception:
    try:
        return model.score(frame)
    except Exception as exc:
        return exc
