"""What kind of table a dataset holds, without importing pandas or pyspark (ground floor)."""

from __future__ import annotations


def is_spark(data: object) -> bool:
    """Whether ``data`` is a Spark DataFrame (classic or Spark Connect)."""
    return type(data).__module__.startswith("pyspark.")
