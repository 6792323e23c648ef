"""Evidently's self-contained HTML drift report, built from at most ``max_rows`` rows a frame."""

from __future__ import annotations

import html
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from kedro_mlops.monitoring.columns import Kind, category_values, numeric_values

if TYPE_CHECKING:
    import pandas as pd

    from kedro_mlops.monitoring.drift import ColumnDrift, Methods


def typed_frame(frame: pd.DataFrame, kinds: dict[str, Kind]) -> pd.DataFrame:
    """The tested columns as Evidently reads them: float64 numbers, object categories.

    Evidently drops nullable and datetime dtypes; converting first keeps every tested column.
    """
    import pandas as pd  # noqa: PLC0415

    return pd.DataFrame(
        {
            column: numeric_values(frame[column])
            if kind == "numerical"
            else category_values(frame[column])
            for column, kind in kinds.items()
        }
    )


@dataclass(frozen=True)
class HtmlInputs:
    """What the HTML report is built from."""

    reference: pd.DataFrame
    current: pd.DataFrame
    kinds: dict[str, Kind]
    methods: Methods
    max_rows: int | None


def write_html(
    path: Path, inputs: HtmlInputs, drift_share: float, verdicts: list[ColumnDrift]
) -> None:
    """Run ``DataDriftPreset`` on (a sample of) the frames and save the page.

    When a frame is sampled the page says so and lists the verdicts computed on all rows, which
    are the ones kedro-mlops reports.
    """
    from evidently import DataDefinition, Dataset, Report  # noqa: PLC0415
    from evidently.presets import DataDriftPreset  # noqa: PLC0415

    kinds, max_rows = inputs.kinds, inputs.max_rows
    sampled = {}
    frames = []
    for name, frame in (("reference", inputs.reference), ("current", inputs.current)):
        if max_rows is not None and len(frame) > max_rows:
            sampled[name] = (max_rows, len(frame))
            frame = frame.sample(n=max_rows, random_state=0)  # noqa: PLW2901
        frames.append(typed_frame(frame, kinds))
    definition = DataDefinition(
        numerical_columns=[c for c, kind in kinds.items() if kind == "numerical"],
        categorical_columns=[c for c, kind in kinds.items() if kind == "categorical"],
    )
    report = Report(
        [
            DataDriftPreset(
                columns=list(kinds), drift_share=drift_share, **inputs.methods.preset_kwargs()
            )
        ],
        include_tests=True,
    )
    snapshot = report.run(
        Dataset.from_pandas(frames[1], data_definition=definition),
        Dataset.from_pandas(frames[0], data_definition=definition),
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    snapshot.save_html(str(path))
    if sampled:
        _add_banner(path, sampled, verdicts)


def _add_banner(
    path: Path, sampled: dict[str, tuple[int, int]], verdicts: list[ColumnDrift]
) -> None:
    parts = ", ".join(
        f"{kept:,} of {total:,} {name} rows" for name, (kept, total) in sampled.items()
    )
    drifted = [v.column for v in verdicts if v.drifted] or ["none"]
    banner = (
        '<div style="padding:12px;background:#fff3cd;border:1px solid #e0c36b;'
        'font-family:sans-serif">'
        f"<b>kedro-mlops</b>: this page was built from a random sample ({html.escape(parts)}). "
        "The verdicts of record were computed on all rows (summary.json); drifted columns there: "
        f"<b>{html.escape(', '.join(drifted))}</b>.</div>"
    )
    page = path.read_text(encoding="utf-8")
    head, marker, tail = page.partition("<body>")
    path.write_text(head + marker + banner + tail if marker else banner + page, encoding="utf-8")
