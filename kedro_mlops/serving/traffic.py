"""The inference log: each request's rows and predictions, appended off the request path.

Requests hand their rows to a queue; one background thread writes them in batches (at most every
``flush_s`` seconds or ``flush_rows`` rows) as new partitions, through a ``save(partition_id,
frame)`` given by the caller: CSV files in the folder of the project's ``served_traffic``
catalog dataset (a ``PartitionedDataset`` of CSV files), which ``kedro mlops monitor`` reads.

Writing CSV is Python work that holds the interpreter lock: a write during a request delays that
request by as much. So a write that is due waits for a quiet moment of the server's
:class:`Activity` (no request in flight or started for ``settle_s``), at most ``flush_s``
longer: under continuous load the log is written anyway, a little later.
"""

from __future__ import annotations

import logging
import os
import queue
import threading
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Callable

    import pandas as pd

logger = logging.getLogger(__name__)

SERVED_AT = "served_at"


class Activity:
    """The requests in flight and started so far (counted on the server's event loop; read by
    the log's thread)."""

    def __init__(self) -> None:
        self.in_flight = 0
        self.started = 0

    def begin(self) -> None:
        self.in_flight += 1
        self.started += 1

    def end(self) -> None:
        self.in_flight -= 1


class TrafficLog:
    """Append request rows + predictions to partitions, in a background thread."""

    def __init__(
        self,
        save: Callable[[str, pd.DataFrame], None],
        *,
        flush_s: float = 1.0,
        flush_rows: int = 5000,
        max_pending_rows: int = 1_000_000,
        activity: Activity | None = None,
        settle_s: float = 0.01,
        stamp_column: str = SERVED_AT,
    ) -> None:
        self._save = save
        self._stamp_column = stamp_column
        self._flush_s = flush_s
        self._flush_rows = flush_rows
        self._max_pending = max_pending_rows
        self.activity = activity or Activity()  # the server counts its requests here
        self._settle_s = settle_s
        self._closing = threading.Event()
        self.deferred = 0  # writes that waited for a quiet moment
        self._queue: queue.Queue[tuple[pd.DataFrame, pd.DataFrame, str] | None] = queue.Queue()
        self._pending = 0
        self._dropped = 0
        self._sequence = 0
        self._thread = threading.Thread(target=self._run, name="kedro-mlops-traffic", daemon=True)
        self._thread.start()

    def append(self, rows: pd.DataFrame, output: pd.DataFrame) -> None:
        """Queue one request's rows with its predictions (never blocks the request)."""
        if self._pending >= self._max_pending:
            self._dropped += len(rows)  # a stuck disk must not take the server down with it
            return
        # joined in the writer thread: the request path only queues two references
        stamp = datetime.now(timezone.utc).isoformat(timespec="milliseconds")
        self._pending += len(rows)
        self._queue.put((rows, output, stamp))

    def close(self, timeout: float = 10.0) -> None:
        """Write what is queued and stop the thread."""
        self._closing.set()
        self._queue.put(None)
        self._thread.join(timeout)
        if self._dropped:
            logger.warning(
                "kedro-mlops: %d served rows were not logged (queue full)", self._dropped
            )

    def _run(self) -> None:
        batch: list[tuple[pd.DataFrame, pd.DataFrame, str]] = []
        rows = 0
        deadline = time.monotonic() + self._flush_s
        while True:
            try:
                item = self._queue.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                item = ...  # time to flush
            if isinstance(item, tuple):
                batch.append(item)
                rows += len(item[0])
                if rows < self._flush_rows:
                    continue
            if batch:
                if item is not None:
                    self._wait_quiet()
                self._write(_joined(batch, self._stamp_column))
                self._pending -= rows
                batch, rows = [], 0
            deadline = time.monotonic() + self._flush_s
            if item is None:
                return

    def _wait_quiet(self) -> None:
        """Until no request has been in flight or started for ``settle_s`` (two looks that far
        apart see the same count of started requests and none in flight), at most ``flush_s``
        or until the log closes."""
        activity = self.activity
        deadline = time.monotonic() + self._flush_s
        seen = -1  # requests started at the last look that saw none in flight
        waited = False
        while time.monotonic() < deadline:
            started = activity.started
            if activity.in_flight == 0:
                if started == seen:
                    break
                seen = started
            else:
                seen = -1
                if not waited:
                    waited = True
                    self.deferred += 1
            if self._closing.wait(self._settle_s):
                break

    def _write(self, frame: pd.DataFrame) -> None:
        self._sequence += 1
        stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S%fZ")
        partition = f"{stamp}-{os.getpid()}-{self._sequence:06d}"
        try:
            self._save(partition, frame)
        except Exception:  # logged, never raised: the server keeps serving
            logger.exception("kedro-mlops: could not log %d served rows", len(frame))


def csv_partitions(directory: Path) -> Callable[[str, pd.DataFrame], None]:
    """``save`` writing ``<directory>/<partition>.csv`` (a CSV ``PartitionedDataset`` reads it).

    A partition appears whole: it is written under a name a ``.csv`` suffix does not match, then
    renamed, so a reader listing the folder meanwhile (``kedro mlops monitor``) never reads half
    a file.
    """

    def save(partition: str, frame: pd.DataFrame) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        partial = directory / f".{partition}.csv.partial"
        frame.to_csv(partial, index=False)
        partial.replace(directory / f"{partition}.csv")

    return save


def _joined(
    requests: list[tuple[pd.DataFrame, pd.DataFrame, str]], stamp_column: str = SERVED_AT
) -> pd.DataFrame:
    """Requests' rows with their prediction columns and when each was served (one frame: joined
    once per write, not once per request)."""
    import numpy as np  # noqa: PLC0415
    import pandas as pd  # noqa: PLC0415

    rows = pd.concat([request for request, _, _ in requests], ignore_index=True)
    outputs = pd.concat(
        [output[[c for c in output.columns if c not in rows.columns]] for _, output, _ in requests],
        ignore_index=True,
    )
    frame = rows.join(outputs)
    frame[stamp_column] = np.repeat(
        [stamp for _, _, stamp in requests], [len(r) for r, _, _ in requests]
    )
    return frame
