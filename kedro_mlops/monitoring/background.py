"""The drift checks of a ``kedro run`` run in one worker process, beside the pipeline.

Importing Evidently takes seconds and its HTML report about one more; both would add to every
run if they happened when the scored batch is ready (usually the last node). The worker starts
when the run starts and imports Evidently while the pipeline trains; each part of a check is
handed to it as soon as its data exists (the feature part as soon as the reference and the batch
are ready, typically long before the model), and the run waits for the results at its end.
Verdicts and reports are exactly those of a check run in the same process.
"""

from __future__ import annotations

import multiprocessing
from concurrent.futures import Future, ProcessPoolExecutor
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Callable


class CheckWorker:
    """One worker process (spawned: nothing of the parent's threads or locks is inherited)."""

    def __init__(self) -> None:
        context = multiprocessing.get_context("spawn")
        self._pool = ProcessPoolExecutor(1, mp_context=context, initializer=warm_up)
        self._pool.submit(int)  # start the process (and its imports) now

    def submit(self, function: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:  # noqa: ANN401
        return self._pool.submit(function, *args, **kwargs)

    def shutdown(self, *, cancel: bool = False) -> None:
        self._pool.shutdown(wait=True, cancel_futures=cancel)


# what a check imports: Evidently's statistical tests and its report
WARM_UP_MODULES = (
    "evidently.legacy.calculations.stattests",
    "evidently.legacy.options.data_drift",
    "evidently.presets",
    "kedro_mlops.monitoring.check",
)


def warm_up() -> None:
    """Import what a check uses, once per worker, before any check arrives."""
    import importlib  # noqa: PLC0415

    for module in WARM_UP_MODULES:
        importlib.import_module(module)
