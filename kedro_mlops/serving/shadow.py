"""The shadow challenger's worker: scores the champion's answered batches with the challenger on
a thread of its own, gathered over ``wait_s`` (fewer scoring calls: each has a fixed cost), then
hands them to the rollout to count and log. Off the request path: its errors never reach a client.
"""

from __future__ import annotations

import logging
import queue
import sys
import threading
import time
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd

    from kedro_mlops.serving.rollout import Rollout

    # one answered batch: the request rows, the champion's output, its facts (a rollout _Batch)
    _Item = tuple[pd.DataFrame, pd.DataFrame, Any]

logger = logging.getLogger(__name__)

SWITCH_INTERVAL_S = 0.001


class ShadowWorker:
    """Scores queued batches with the challenger on its own thread, gathered over ``wait_s``."""

    def __init__(self, rollout: Rollout, wait_s: float, max_pending_rows: int) -> None:
        self._rollout = rollout
        self._wait_s = wait_s
        self._max_pending = max_pending_rows
        self._pending = 0  # rows queued (changed by the scoring and the shadow threads)
        self._lock = threading.Lock()
        self.skipped = 0  # rows logged without the challenger's answer (queue full)
        self._queue: queue.Queue[_Item | None] = queue.Queue()
        self._thread = threading.Thread(target=self._run, name="kedro-mlops-shadow", daemon=True)
        # a thread that scores holds the interpreter lock for up to the switch interval each time
        # the event loop's thread wants it back (after every socket read or write): 5 ms by
        # default, which a request pays many times over. 1 ms keeps the shadow's work from
        # lengthening the champion's answers.
        if sys.getswitchinterval() > SWITCH_INTERVAL_S:
            sys.setswitchinterval(SWITCH_INTERVAL_S)
        self._thread.start()

    def put(self, rows: pd.DataFrame, output: pd.DataFrame, batch: Any) -> None:  # noqa: ANN401 - a rollout _Batch
        """Queue one answered batch (its request rows, the champion's output and facts)."""
        with self._lock:
            full = self._pending >= self._max_pending
            if not full:
                self._pending += len(rows)
        if full:  # a challenger that cannot keep up must not hold the server's memory
            self.skipped += len(rows)
            self._rollout.shadow_scored(rows, self._rollout.logged(output, batch))
            return
        self._queue.put((rows, output, batch))

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

    def _score(self, items: list[_Item]) -> None:
        """Score the gathered batches in one call and log them as one frame with both
        versions' columns (new frames: the answered outputs are shared with the request
        threads); served rows are stamped when logged, within ``wait_s`` of their answer."""
        import pandas as pd  # noqa: PLC0415

        rollout = self._rollout
        rows = pd.concat([frame for frame, _, _ in items], ignore_index=True)
        outputs = pd.concat([output for _, output, _ in items], ignore_index=True)
        with self._lock:
            self._pending -= len(rows)
        challenger = rollout.slot.model
        theirs = None
        try:
            if challenger is not None:
                with rollout.scoring():
                    scored, _errors = rollout.challenger_scores(challenger, rows)
                theirs = scored[rollout.challenger_names]
        except Exception:  # never lose the rows: logged without the challenger's answer
            logger.exception("kedro-mlops: the shadow challenger could not score a batch")
        batches = [batch for _, _, batch in items]
        sizes = [len(frame) for frame, _, _ in items]
        rollout.shadow_scored(rows, rollout.logged(outputs, batches, theirs, sizes))
