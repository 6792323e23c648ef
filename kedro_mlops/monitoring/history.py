"""The monitoring history of a project: one JSON line per check run (drift and performance),
its verdict and figures, stamped; ``kedro mlops monitor --history`` prints it as a timeline and
``--dashboard`` draws it.

The file (``monitoring.history``, ``data/08_reporting/monitoring/history.jsonl`` by default)
starts with a header line naming its format and version. A run is appended by writing the whole
file anew to a temporary file beside it and renaming it over the old one, under a lock: a crash
leaves the old file or the new one, never a truncated one, and two checks finishing at once do
not lose each other's line. A file that does not parse (a corrupt line, another format or
version) is never rewritten: reading or appending stops with a one-line message (exit 2).
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import tempfile
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any

from kedro_mlops.errors import InputError

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

FORMAT = "kedro-mlops-monitoring-history"
VERSION = 1
HEADER = {"format": FORMAT, "version": VERSION}
TOP_COLUMNS = 5  # the drift scores kept per run: the highest


class HistoryError(InputError):
    """The history file cannot be read (exit 2); it is left as it is."""


@dataclass(frozen=True)
class Entry:
    """One check run: when, which check, its kind and verdict, its figures."""

    at: str  # ISO 8601, UTC
    check: str
    kind: str  # drift | performance
    status: str
    figures: dict[str, Any]

    def to_json(self) -> str:
        return json.dumps(
            {
                "at": self.at,
                "check": self.check,
                "kind": self.kind,
                "status": self.status,
                "figures": self.figures,
            },
            separators=(",", ":"),
            default=str,
        )


def entry_of(result: Any) -> Entry:  # noqa: ANN401 - a CheckResult or a PerformanceResult
    """A check's result as a history entry."""
    at = datetime.now(timezone.utc).isoformat(timespec="seconds")
    if getattr(result, "kind", "drift") == "performance":
        versions = {
            v.version: {
                "rows": v.rows,
                "labelled": v.labelled,
                "labelled_share": v.labelled_share,
                "status": v.status,
                "value": v.value,
                "baseline": v.baseline,
                "interval": list(v.interval) if v.interval else None,
                "label_delay_hours": v.label_delay_hours,
                "metrics": v.metrics,
            }
            for v in result.versions
        }
        figures = {"metric": result.metric, "window": result.window, "versions": versions}
        figures["unknown_label_ids"] = result.unknown_label_ids
        if result.error:
            figures["error"] = result.error
        return Entry(at, result.name, "performance", result.status, figures)
    columns = {
        c.column: {"score": c.score, "drifted": c.drifted, "role": c.role} for c in result.columns
    }
    figures = {
        "drift_share": result.drift_share if result.status != "error" else None,
        "drifted": result.drifted_columns,
        "columns": columns,
        "rows": result.rows,
    }
    if result.error:
        figures["error"] = result.error
    return Entry(at, result.name, "drift", result.status, figures)


def _parse(path: Path, text: str) -> list[Entry]:
    lines = text.splitlines()
    if not lines:
        return []
    problem = f"{path} is not a kedro-mlops monitoring history"
    move = "; move it aside (it is left as it is) and the next check starts a new one"
    try:
        header = json.loads(lines[0])
    except ValueError:
        raise HistoryError(f"{problem} (line 1 is not its header){move}") from None
    if not isinstance(header, dict) or header.get("format") != FORMAT:
        raise HistoryError(f"{problem} (line 1 is not its header){move}")
    if header.get("version") != VERSION:
        raise HistoryError(
            f"{path} is a monitoring history of format version {header.get('version')!r}; this "
            f"kedro-mlops reads version {VERSION}{move}"
        )
    entries = []
    for number, line in enumerate(lines[1:], start=2):
        if not line.strip():
            continue
        try:
            data = json.loads(line)
            entries.append(
                Entry(data["at"], data["check"], data["kind"], data["status"], data["figures"])
            )
        except (ValueError, KeyError, TypeError):
            raise HistoryError(f"{path} line {number} is corrupt (not a check run){move}") from None
    return entries


def read(path: Path) -> list[Entry]:
    """Every entry, oldest first (none when there is no file yet).

    Raises:
        HistoryError: a corrupt line, another format or version.
    """
    if not path.exists():
        return []
    return _parse(path, path.read_text(encoding="utf-8"))


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    """An exclusive lock beside ``path`` (POSIX; elsewhere none)."""
    try:
        import fcntl  # noqa: PLC0415
    except ImportError:  # Windows: no lock
        yield
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    with (path.parent / f".{path.name}.lock").open("a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def append(path: Path, entry: Entry) -> list[Entry]:
    """Add ``entry``: the whole file written to a temporary file, then renamed over it; the
    entries before it.

    Raises:
        HistoryError: the existing file does not parse (it is left as it is).
    """
    with _locked(path):
        old = path.read_text(encoding="utf-8") if path.exists() else ""
        prior = _parse(path, old)  # never extend (or replace) what cannot be read
        if not old:
            old = json.dumps(HEADER) + "\n"
        elif not old.endswith("\n"):
            old += "\n"
        handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
        try:
            with os.fdopen(handle, "w", encoding="utf-8") as out:
                out.write(old + entry.to_json() + "\n")
                out.flush()
                os.fsync(out.fileno())
            os.replace(temporary, path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(temporary)
            raise
    return prior


_SINCE = re.compile(r"^(\d+)([mhdw])$")


def since_time(text: str, now: datetime | None = None) -> datetime:
    """``30d``, ``12h``, ``2w``, ``45m`` as the time that long ago.

    Raises:
        HistoryError: another form.
    """
    match = _SINCE.match(text.strip())
    if not match:
        raise HistoryError(f"--since {text!r}: expected a number and m, h, d or w, e.g. 30d")
    unit = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}[match[2]]
    return (now or datetime.now(timezone.utc)) - timedelta(**{unit: int(match[1])})


def select(entries: list[Entry], *, check: str | None, since: datetime | None) -> list[Entry]:
    return [
        e
        for e in entries
        if (check is None or e.check == check)
        and (since is None or datetime.fromisoformat(e.at) >= since)
    ]


def line(entry: Entry) -> str:
    """One entry of the timeline."""
    head = f"{entry.at}  {entry.check}  {entry.status}"
    figures = entry.figures
    if figures.get("error"):
        return f"{head}  {figures['error']}"
    if entry.kind == "drift":
        share = figures.get("drift_share")
        drifted = ", ".join(figures.get("drifted") or []) or "no column"
        return f"{head}  drift share {share:.0%}: {drifted}" if share is not None else head
    parts = []
    for version, v in (figures.get("versions") or {}).items():
        value = "n/a" if v.get("value") is None else f"{v['value']:.4g}"
        test = "" if v.get("baseline") is None else f" (test {v['baseline']:.4g})"
        parts.append(
            f"{version} {v['status']} {figures.get('metric')} {value}{test}, "
            f"{v['labelled']}/{v['rows']} labelled"
        )
    return f"{head}  {'; '.join(parts) or 'no predictions'}"


def timeline(path: Path, *, check: str | None = None, since: str | None = None) -> list[str]:
    """The lines of ``kedro mlops monitor --history``."""
    entries = select(read(path), check=check, since=since_time(since) if since else None)
    if not entries:
        what = f" of check {check!r}" if check else ""
        when = f" in the last {since}" if since else ""
        return [f"no check run{what}{when} in {path}"]
    return [line(entry) for entry in entries]
