"""Read the tables ``kedro mlops monitor --reference/--current`` is given."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from kedro_mlops.monitoring.columns import CheckInputError

if TYPE_CHECKING:
    import pandas as pd

READERS = {".csv": "read_csv", ".parquet": "read_parquet", ".pq": "read_parquet"}


def read_table(path: Path) -> pd.DataFrame:
    """A CSV or Parquet file as a DataFrame.

    Raises:
        CheckInputError: naming the file when it is missing, of another format or unreadable.
    """
    import pandas as pd  # noqa: PLC0415

    if not path.is_file():
        raise CheckInputError(f"{path}: no such file")
    reader = READERS.get(path.suffix.lower())
    if reader is None:
        raise CheckInputError(f"{path}: expected a .csv or .parquet file, got {path.suffix!r}")
    try:
        return getattr(pd, reader)(path)
    except (ValueError, OSError, pd.errors.ParserError) as exc:
        raise CheckInputError(f"{path}: cannot be read as {path.suffix[1:]}: {exc}") from None
