"""Turn two frames into pairs of clean columns to test. Pure pandas/numpy, no Evidently.

Evidently infers column types from the *current* frame's dtypes and silently drops nullable
(``Int64``, ``Float64``, ``boolean``), arrow-backed and datetime columns; an all-NaN column fails
its whole report; ID-like strings become "text" and train a classifier. Here every column is
typed once, converted to plain numpy values, and anything that cannot be tested is reported with
the reason instead of disappearing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from collections.abc import Iterator

    import numpy as np
    import pandas as pd

Kind = Literal["numerical", "categorical"]
ID_LIKE_UNIQUE_SHARE = 0.5
ID_LIKE_MIN_ROWS = 50


class CheckInputError(ValueError):
    """The frames cannot be compared at all (missing column, empty frame, too few rows)."""


@dataclass(frozen=True)
class ColumnPair:
    """A column's reference and current values, cleaned (no NaN, no inf) and typed."""

    name: str
    kind: Kind
    reference: pd.Series
    current: pd.Series
    role: str = "feature"  # feature | prediction | target
    # Evidently's default test for this column when the series are proxies of the data (Spark
    # aggregates): chosen from the true counts; None: chosen from the series
    default_method: str | None = None


def infer_kinds(frame: pd.DataFrame, columns: list[str], categorical: list[str]) -> dict[str, Kind]:
    """Numbers (nullable ones included), booleans excluded, are numerical; the rest categorical."""
    import pandas as pd  # noqa: PLC0415

    kinds: dict[str, Kind] = {}
    for column in columns:
        dtype = frame[column].dtype if column in frame else None
        numeric = (
            dtype is not None
            and (
                pd.api.types.is_numeric_dtype(dtype) or pd.api.types.is_datetime64_any_dtype(dtype)
            )
            and not pd.api.types.is_bool_dtype(dtype)
        )
        kinds[column] = "categorical" if column in categorical or not numeric else "numerical"
    return kinds


def check_frames(
    reference: pd.DataFrame,
    current: pd.DataFrame,
    columns: list[str],
    names: tuple[str, str],
    min_rows: int,
) -> None:
    """Raise ``CheckInputError`` naming what is missing or too small."""
    for frame, name in ((reference, names[0]), (current, names[1])):
        missing = [column for column in columns if column not in frame.columns]
        if missing:
            raise CheckInputError(
                f"column(s) {missing} missing from {name} (it has {list(frame.columns)[:20]})"
            )
        if len(frame) < min_rows:
            raise CheckInputError(
                f"{name} has {len(frame)} row(s); a drift check needs at least {min_rows} "
                "(monitoring.min_rows)"
            )


def numeric_values(values: pd.Series) -> np.ndarray:
    """float64 with NaN for missing; datetimes as epoch seconds; nullable dtypes unwrapped."""
    import numpy as np  # noqa: PLC0415
    import pandas as pd  # noqa: PLC0415

    if pd.api.types.is_datetime64_any_dtype(values.dtype):
        stamps = pd.to_datetime(values, utc=True)
        return np.where(stamps.isna(), np.nan, stamps.astype("int64") / 1e9)
    return pd.to_numeric(values, errors="coerce").to_numpy(dtype="float64", na_value=np.nan)


def category_values(values: pd.Series) -> np.ndarray:
    """object array of ``str`` categories, NaN for missing.

    One representation for "1", 1 and 1.0 of the same category read from different files.
    """
    import numpy as np  # noqa: PLC0415
    import pandas as pd  # noqa: PLC0415

    present = values.notna().to_numpy()
    result = np.full(len(values), np.nan, dtype=object)
    kept = values[present]
    if isinstance(kept.dtype, pd.CategoricalDtype):
        kept = kept.astype(kept.cat.categories.dtype)
    if pd.api.types.is_float_dtype(kept.dtype) and bool((kept % 1 == 0).all()):
        text = kept.astype("int64").astype(str)  # 1.0 -> "1", like the integer codes elsewhere
    elif pd.api.types.infer_dtype(kept, skipna=True) in ("string", "empty"):
        text = kept  # already text: no per-value work
    elif pd.api.types.is_numeric_dtype(kept.dtype) or pd.api.types.is_bool_dtype(kept.dtype):
        text = kept.astype(str)
    else:  # mixed Python objects
        text = kept.map(_category_text)
    result[present] = text.to_numpy(dtype=object)
    return result


def clean(values: pd.Series, kind: Kind) -> pd.Series:
    """The testable values of a column: typed as above, NaN and inf dropped."""
    import numpy as np  # noqa: PLC0415
    import pandas as pd  # noqa: PLC0415

    if kind == "numerical":
        array = numeric_values(values)
        return pd.Series(array[np.isfinite(array)], name=values.name)
    array = category_values(values)
    return pd.Series(array[values.notna().to_numpy()], name=values.name, dtype=object)


def _category_text(value: object) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def non_numeric_examples(values: pd.Series) -> list[str]:
    """Values of a numerical column that are not numbers (empty when all are)."""
    import pandas as pd  # noqa: PLC0415

    if pd.api.types.is_numeric_dtype(values.dtype) or pd.api.types.is_datetime64_any_dtype(
        values.dtype
    ):
        return []
    coerced = pd.to_numeric(values, errors="coerce")
    bad = values[coerced.isna() & values.notna()]
    return sorted(map(str, bad.unique()))[:5]


def iter_pairs(
    reference: pd.DataFrame,
    current: pd.DataFrame,
    kinds: dict[str, Kind],
    skipped: dict[str, str],
    *,
    names: tuple[str, str] = ("reference", "current"),
    explicit: frozenset[str] = frozenset(),
) -> Iterator[ColumnPair]:
    """Clean column pairs one at a time (memory stays at one column's copy); columns that
    cannot be tested go to ``skipped`` with the reason.

    ``explicit`` columns were asked for by name: they are tested even when they look like IDs.
    """
    for column, kind in kinds.items():
        reason = _untestable(reference[column], current[column], kind, names, column in explicit)
        if reason:
            skipped[column] = reason
            continue
        ref, cur = clean(reference[column], kind), clean(current[column], kind)
        empty = [name for name, values in zip(names, (ref, cur), strict=True) if values.empty]
        if empty:
            skipped[column] = f"no values in {' and '.join(empty)} (all missing)"
            continue
        yield ColumnPair(column, kind, ref, cur)


def _integer_ids(values: pd.Series) -> bool:
    import pandas as pd  # noqa: PLC0415

    return (
        len(values) >= ID_LIKE_MIN_ROWS
        and pd.api.types.is_integer_dtype(values.dtype)
        and values.is_unique
    )


def _untestable(
    reference: pd.Series, current: pd.Series, kind: Kind, names: tuple[str, str], explicit: bool
) -> str | None:
    if kind == "numerical":
        for values, name in ((reference, names[0]), (current, names[1])):
            examples = non_numeric_examples(values)
            if examples:
                return f"numerical but {name} holds non-numeric values, e.g. {examples}"
        if not explicit and _integer_ids(reference) and _integer_ids(current):
            return (
                "looks like an identifier (distinct integers in every row); list it in "
                "`columns` / --columns to test it anyway"
            )
        return None
    if not explicit and len(reference) >= ID_LIKE_MIN_ROWS:
        unique = reference.nunique(dropna=True)
        if unique > ID_LIKE_UNIQUE_SHARE * reference.notna().sum():
            return (
                f"looks like an identifier ({unique} distinct values in {len(reference)} rows); "
                "list it in `columns` / --categorical to test it anyway"
            )
    return None
