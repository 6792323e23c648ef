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
import sys
import threading
from concurrent.futures import Future, ProcessPoolExecutor
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Callable


class CheckWorker:
    """One worker process, forked when that is safe (Linux, no other thread in this process: the
    child starts with pandas and scikit-learn already imported), else spawned."""

    def __init__(self) -> None:
        context = multiprocessing.get_context(start_method())
        self._pool = ProcessPoolExecutor(1, mp_context=context, initializer=warm_up)
        self._pool.submit(int)  # start the process (and its imports) now

    def submit(self, function: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:  # noqa: ANN401
        return self._pool.submit(function, *args, **kwargs)

    def shutdown(self, *, cancel: bool = False) -> None:
        self._pool.shutdown(wait=True, cancel_futures=cancel)


def start_method() -> str:
    """``fork`` on Linux while this process has a single thread (no lock can be held by a
    thread that does not exist in the child); ``spawn`` otherwise (macOS, Windows, threads)."""
    if sys.platform == "linux" and threading.active_count() == 1:
        return "fork"
    return "spawn"


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
