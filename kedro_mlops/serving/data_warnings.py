"""Warnings the model's own code gives while it scores (a ratio over a zero, an unknown category):
counted by kind for ``/metrics``, logged at most once a minute per kind.

The same data problem recurs on many requests; logging it on each one buries the server's log.
While a batch is scored, the warnings given *in the scoring thread* are caught: WARNING records
of any logger (the model's, a library's) and ``warnings.warn`` messages (as Python's warning
filters let them through: by default once per message and place). Each is counted under its
kind, stable across requests: the logger's name and the unformatted message (``Ratio feature
%r: %s is 0 in %d of %d rows ...``), or the warning's category and the place it was given.
The first of a kind is logged as it was (with a note saying that further ones are counted), and
again once a minute at most; the others are dropped from the log. Other threads' records and
warnings, and records at ERROR and above, pass untouched.
"""

from __future__ import annotations

import logging
import threading
import time
import warnings
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

logger = logging.getLogger(__name__)

METRIC = "kedro_mlops_data_warnings_total"
LOG_EVERY_S = 60.0
# a message formatted before it was logged (an f-string) makes a new kind on every request:
# past this many kinds, new ones are counted together under OTHER
MAX_KINDS = 100
OTHER = "other"
MAX_KIND_LENGTH = 200
_THINNED = "_kedro_mlops_thinned"  # set on a record that is counted and not logged

_scoring = threading.local()  # .collector: the DataWarnings catching this thread's warnings


@dataclass
class _Kind:
    next_log: float  # when one of this kind is logged again
    unlogged: int = 0  # counted but not logged since the last line


class _DropThinned(logging.Filter):
    """On the loggers that gave thinned records: drop them before any handler sees them."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not getattr(record, _THINNED, False)


class DataWarnings:
    """Counts the warnings given while scoring and thins them out of the log.

    Args:
        count: called with the kind of each warning (e.g. a Prometheus counter's ``inc``).
        every_s: at most one log line per kind in this many seconds.
        clock: monotonic seconds.
    """

    def __init__(
        self,
        count: Callable[[str], None],
        *,
        every_s: float = LOG_EVERY_S,
        clock: Callable[[], float] = time.monotonic,
        max_kinds: int = MAX_KINDS,
    ) -> None:
        self._count = count
        self._every_s = every_s
        self._clock = clock
        self._max_kinds = max_kinds
        self._kinds: dict[str, _Kind] = {}
        self._lock = threading.Lock()
        self._drop = _DropThinned()
        self._filtered: dict[str, logging.Logger] = {}  # loggers given the drop filter

    @contextmanager
    def capture(self) -> Iterator[None]:
        """Catch the warnings given in this thread meanwhile (around one scoring call)."""
        make_record = logging.getLogRecordFactory()
        show = warnings.showwarning

        def record_factory(*args: Any, **kwargs: Any) -> logging.LogRecord:  # noqa: ANN401
            record = make_record(*args, **kwargs)
            if (
                getattr(_scoring, "collector", None) is self
                and logging.WARNING <= record.levelno < logging.ERROR
                and record.name != logger.name
            ):
                self._on_record(record)
            return record

        def show_warning(  # noqa: PLR0917 - warnings.showwarning's signature
            message: Warning | str,
            category: type[Warning],
            filename: str,
            lineno: int,
            file: Any = None,  # noqa: ANN401
            line: str | None = None,
        ) -> None:
            if getattr(_scoring, "collector", None) is not self:
                show(message, category, filename, lineno, file, line)
                return
            kind = f"{category.__name__} ({Path(filename).name}:{lineno})"
            log, unlogged = self._tick(kind)
            if log:
                logger.warning(
                    "kedro-mlops: %s while scoring: %s (%s:%d)%s",
                    category.__name__,
                    message,
                    filename,
                    lineno,
                    _note(unlogged, self._every_s),
                )

        _scoring.collector = self
        logging.setLogRecordFactory(record_factory)
        warnings.showwarning = show_warning
        try:
            yield
        finally:
            _scoring.collector = None
            # put back what was there, unless another capture (another app in this process,
            # on another thread) has replaced it since: its own exit puts ours back, inert
            if logging.getLogRecordFactory() is record_factory:
                logging.setLogRecordFactory(make_record)
            if warnings.showwarning is show_warning:
                warnings.showwarning = show

    def close(self) -> None:
        """Take the drop filter off the loggers it was put on."""
        for named in self._filtered.values():
            named.removeFilter(self._drop)
        self._filtered.clear()

    def _on_record(self, record: logging.LogRecord) -> None:
        log, unlogged = self._tick(f"{record.name}: {record.msg}")
        if log:
            record.msg = f"{record.msg}{_note(unlogged, self._every_s)}"
            return
        setattr(record, _THINNED, True)
        if record.name not in self._filtered:
            named = logging.getLogger(record.name)
            named.addFilter(self._drop)
            self._filtered[record.name] = named

    def _tick(self, kind: str) -> tuple[bool, int]:
        """Count one warning of ``kind``; whether to log it, and how many were not logged
        since the last line of its kind."""
        kind = kind if len(kind) <= MAX_KIND_LENGTH else f"{kind[: MAX_KIND_LENGTH - 3]}..."
        now = self._clock()
        with self._lock:
            if kind not in self._kinds and len(self._kinds) >= self._max_kinds:
                kind = OTHER
            self._count(kind)
            seen = self._kinds.get(kind)
            if seen is not None and now < seen.next_log:
                seen.unlogged += 1
                return False, 0
            self._kinds[kind] = _Kind(next_log=now + self._every_s)
            return True, seen.unlogged if seen is not None else 0


def _note(unlogged: int, every_s: float) -> str:
    # in parentheses: a console handler with markup (Rich) would take [...] for a style
    since = f"{unlogged} more since the last one; " if unlogged else ""
    return (
        f" (kedro-mlops: {since}further ones within {every_s:g} s are counted in /metrics "
        f"as {METRIC}, not logged)"
    )
