"""The drift checks of a ``kedro run`` run in one worker process, beside the pipeline.

Importing Evidently takes seconds and its HTML report about one more; both would add to every
run if they happened when the scored batch is ready (usually the last node). The worker starts
when the run starts and imports Evidently while the pipeline trains; each part of a check is
handed to it as soon as its data exists (the feature part as soon as the reference and the batch
are ready, typically long before the model), and the run waits for the results at its end.
Verdicts and reports are exactly those of a check run in the same process.

``kedro run`` starts the worker even earlier, when the command starts (:func:`prestart`, from
the CLI hook): Kedro's start-up (plugins, context, catalog, the MLflow run) is single-threaded,
so the imports take the other core then instead of competing with training. The monitoring hook
:func:`claim` s it when the pipeline has checks; otherwise it is stopped (:func:`discard`) without
waiting for its imports.
"""

from __future__ import annotations

import contextlib
import functools
import multiprocessing
import os
import signal
import sys
import threading
from concurrent.futures import Future, ProcessPoolExecutor
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Callable


class CheckWorker:
    """One worker process, forked when that is safe (Linux, no other thread in this process: the
    child starts with what this process has imported), else spawned."""

    def __init__(self) -> None:
        context = multiprocessing.get_context(start_method())
        # the worker's pid, sent before its imports: a cancelled worker is stopped, not awaited
        self._pids, sender = context.Pipe(duplex=False)
        self._pool = ProcessPoolExecutor(
            1, mp_context=context, initializer=warm_up, initargs=(sender,)
        )
        self._pool.submit(int)  # start the process (and its imports) now

    def submit(self, function: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:  # noqa: ANN401
        return self._pool.submit(function, *args, **kwargs)

    def shutdown(self, *, cancel: bool = False) -> None:
        """Wait for the submitted work; with ``cancel``, stop the process instead (its pending
        results fail)."""
        if cancel and self.pid is not None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.pid, signal.SIGTERM)
        self._pool.shutdown(wait=True, cancel_futures=cancel)

    @functools.cached_property
    def pid(self) -> int | None:
        """The worker process's id (sent as soon as it starts); ``None`` when it has not started
        within ``PID_TIMEOUT_S`` (a process that failed to start: nothing to stop, no hang)."""
        return self._pids.recv() if self._pids.poll(PID_TIMEOUT_S) else None


# how long a cancelled worker is given to report its pid
PID_TIMEOUT_S = 30.0


_prestarted: CheckWorker | None = None


def prestart() -> CheckWorker:
    """Start a worker now, for a command that may check drift later (``kedro run``)."""
    global _prestarted  # noqa: PLW0603 - one per process, like the command it serves
    if _prestarted is None:
        _prestarted = CheckWorker()
    return _prestarted


def claim() -> CheckWorker:
    """The prestarted worker (it is then the caller's), or a new one."""
    global _prestarted
    worker, _prestarted = _prestarted, None
    return worker or CheckWorker()


def discard() -> None:
    """Stop a prestarted worker that no pipeline claimed, without waiting for its imports."""
    global _prestarted
    worker, _prestarted = _prestarted, None
    if worker is not None:
        worker.shutdown(cancel=True)


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


def warm_up(pids: Any = None) -> None:  # noqa: ANN401 - a multiprocessing Connection
    """Send this process's pid, then import what a check uses, before any check arrives."""
    import importlib  # noqa: PLC0415

    if pids is not None:
        pids.send(os.getpid())

    for module in WARM_UP_MODULES:
        importlib.import_module(module)
