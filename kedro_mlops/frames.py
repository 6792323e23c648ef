"""What kind of table a dataset holds, and its keys as text, without importing pandas or pyspark
at import time (ground floor)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pandas as pd


def is_spark(data: object) -> bool:
    """Whether ``data`` is a Spark DataFrame (classic or Spark Connect)."""
    return type(data).__module__.startswith("pyspark.")


PLAIN_NUMBER = r"[+-]?\d+(\.\d*)?"


def as_text(series: pd.Series) -> pd.Series:
    """Ids and versions as text, the same however a CSV typed them (2, 2.0, "2"); each
    distinct value is converted once."""
    import pandas as pd  # noqa: PLC0415

    codes, uniques = pd.factorize(series)
    distinct = pd.Series(uniques)
    text = distinct.astype(object).astype(str)
    if pd.api.types.is_numeric_dtype(distinct):
        numbers = distinct.astype(float)
    else:  # text written as a plain number ("2", "2.0"), not "1e5" nor "0x1f": those are ids
        numbers = pd.to_numeric(distinct.where(text.str.fullmatch(PLAIN_NUMBER)), errors="coerce")
    # whole numbers an integer holds exactly; a longer run of digits stays text
    whole = numbers.notna() & (numbers == numbers.round()) & (numbers.abs() < 2**53)
    text = text.where(~whole, numbers.where(whole).astype("Int64").astype(str)).to_numpy()
    values = text[codes] if len(text) else codes.astype(str)
    return pd.Series(values, index=series.index).where(codes >= 0, "")
