"""`frames.as_text`: ids and versions as text, the same however a file typed them."""

from __future__ import annotations

import uuid

import numpy as np
import pandas as pd
import pytest

from kedro_mlops.frames import as_text


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ([2, 2.0, "2", "2.0", None], ["2", "2", "2", "2", ""]),
        ([1.0, np.nan, 3.5], ["1", "", "3.5"]),
        # text that a number parser would read but that is an id: kept as written
        (["1e5", "0e1", "0x1f", "inf", "nan"], ["1e5", "0e1", "0x1f", "inf", "nan"]),
        # more digits than an integer holds exactly (an all-digit uuid hex)
        (["12345678901234567890123456789012"], ["12345678901234567890123456789012"]),
        ([], []),
    ],
)
def test_as_text(values, expected):
    assert as_text(pd.Series(values, dtype=object if values else float)).tolist() == expected


def test_as_text_keeps_prediction_ids_distinct():
    ids = [uuid.uuid4().hex for _ in range(2000)] + ["0" * 31 + "1", "0" * 30 + "e1"]
    assert as_text(pd.Series(ids)).nunique() == len(ids)
