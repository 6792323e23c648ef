"""What kind of table a dataset holds, and its keys as text, without importing pandas or pyspark
at import time (ground floor)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pandas as pd


def is_spark(data: object) -> bool:
    """Whether ``data`` is a Spark DataFrame (classic or Spark Connect)."""
    return type(data).__module__.startswith("pyspark.")


def as_text(series: pd.Series) -> pd.Series:
    """Ids and versions as text, the same however a CSV typed them (2, 2.0, "2"); each
    distinct value is converted once."""
    import pandas as pd  # noqa: PLC0415

    codes, uniques = pd.factorize(series)
    distinct = pd.Series(uniques)
    numbers = pd.to_numeric(distinct, errors="coerce")
    whole = numbers.notna() & (numbers == numbers.round())
    text = distinct.astype(object).astype(str)
    text = text.where(~whole, numbers.where(whole).astype("Int64").astype(str)).to_numpy()
    values = text[codes] if len(text) else codes.astype(str)
    return pd.Series(values, index=series.index).where(codes >= 0, "")
