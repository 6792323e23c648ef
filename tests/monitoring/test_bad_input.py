"""Each kind of bad input is handled correctly or gives a clear error naming the column."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from kedro_mlops.monitoring import run_check
from tests.monitoring.conftest import KINDS, frames


def verdicts(result):
    return {c.column: c.drifted for c in result.columns}


@pytest.fixture
def pair():
    return frames(3000, 2000)


def test_column_missing_from_current_is_named(pair):
    reference, current = pair
    result = run_check("t", reference, current.drop(columns="shifted_num"), dict(KINDS))
    assert result.status == "error"
    assert "['shifted_num'] missing from current" in result.error


def test_extra_columns_are_ignored(pair):
    reference, current = pair
    plain = run_check("t", reference, current, dict(KINDS))
    extra = run_check("t", reference, current.assign(surprise=1.0), dict(KINDS))
    assert verdicts(extra) == verdicts(plain)


def test_dtype_mismatch_between_frames(pair):
    reference, current = pair
    plain = run_check("t", reference, current, dict(KINDS))
    as_text = current.assign(shifted_num=current["shifted_num"].map(repr))  # numbers read as text
    as_codes = current.assign(binary_cat=current["binary_cat"].map({"yes": 1, "no": 0}))
    reference_codes = reference.assign(binary_cat=reference["binary_cat"].map({"yes": 1, "no": 0}))
    assert verdicts(run_check("t", reference, as_text, dict(KINDS))) == verdicts(plain)
    mixed = run_check("t", reference_codes, as_codes.astype({"binary_cat": str}), dict(KINDS))
    assert verdicts(mixed)["binary_cat"] == verdicts(plain)["binary_cat"]


def test_non_numeric_values_in_a_numerical_column_are_named(pair):
    reference, current = pair
    broken = current.astype({"stable_num": object})
    broken.loc[3, "stable_num"] = "n/a-yet"
    result = run_check("t", reference, broken, dict(KINDS))
    assert "stable_num" in result.skipped
    assert "current holds non-numeric values, e.g. ['n/a-yet']" in result.skipped["stable_num"]
    assert "shifted_num" in verdicts(result)


def test_empty_frame(pair):
    reference, current = pair
    result = run_check("t", reference, current.iloc[:0], dict(KINDS))
    assert result.status == "error"
    assert "current has 0 row(s); a drift check needs at least 10" in result.error


def test_fewer_than_a_handful_of_rows(pair):
    reference, current = pair
    result = run_check("t", reference, current.head(4), dict(KINDS), min_rows=10)
    assert result.status == "error"
    assert "current has 4 row(s)" in result.error


def test_all_nan_column_is_reported_and_the_rest_tested(pair):
    reference, current = pair
    result = run_check("t", reference, current.assign(stable_cat=np.nan), dict(KINDS))
    assert result.status != "error"
    assert result.skipped == {"stable_cat": "no values in current (all missing)"}
    assert set(verdicts(result)) == set(KINDS) - {"stable_cat"}


@pytest.mark.parametrize(
    "convert",
    [
        {"stable_num": "Float64", "shifted_num": "Float64"},
        {"few_values": "Int64", "binary_num": "Int64"},
        {"stable_cat": "string", "shifted_cat": "string[pyarrow]"},
        {"binary_cat": "category"},
    ],
)
def test_nullable_and_arrow_dtypes_are_tested_like_plain_ones(pair, convert):
    reference, current = pair
    plain = run_check("t", reference, current, dict(KINDS))
    converted = run_check("t", reference.astype(convert), current.astype(convert), dict(KINDS))
    assert {c.column: (c.drifted, c.score) for c in converted.columns} == {
        c.column: (c.drifted, c.score) for c in plain.columns
    }


def test_boolean_dtype_as_categorical():
    rng = np.random.default_rng(1)
    reference = pd.DataFrame({"flag": pd.array(rng.random(2000) < 0.5, dtype="boolean")})
    current = pd.DataFrame({"flag": pd.array(rng.random(2000) < 0.9, dtype="boolean")})
    current.loc[:10, "flag"] = pd.NA
    result = run_check("t", reference, current, {"flag": "categorical"})
    assert verdicts(result) == {"flag": True}


def test_datetime_columns_are_tested_as_time():
    reference = pd.DataFrame({"when": pd.date_range("2024-01-01", periods=2000, freq="h")})
    same = pd.DataFrame({"when": pd.date_range("2024-01-01", periods=2000, freq="h")})
    later = pd.DataFrame({"when": pd.date_range("2025-01-01", periods=2000, freq="h", tz="UTC")})
    kinds = {"when": "numerical"}
    assert verdicts(run_check("t", reference, same, kinds)) == {"when": False}
    assert verdicts(run_check("t", reference, later, kinds)) == {"when": True}


def test_id_like_strings_are_not_turned_into_a_text_model():
    n = 2000
    reference = pd.DataFrame({"user": [f"u{i}" for i in range(n)], "x": np.arange(n) % 7})
    current = pd.DataFrame({"user": [f"u{i + n}" for i in range(n)], "x": np.arange(n) % 7})
    kinds = {"user": "categorical", "x": "numerical"}
    result = run_check("t", reference, current, kinds)
    assert "identifier" in result.skipped["user"]
    assert verdicts(result) == {"x": False}
    explicit = run_check("t", reference, current, kinds, explicit=frozenset({"user"}))
    assert verdicts(explicit)["user"] is True  # asked for by name: tested as categories


def test_integer_ids_are_skipped_unless_asked_for():
    n = 500
    reference = pd.DataFrame({"id": np.arange(n), "x": np.zeros(n)})
    current = pd.DataFrame({"id": np.arange(n, 2 * n), "x": np.zeros(n)})
    result = run_check("t", reference, current, {"id": "numerical", "x": "numerical"})
    assert "identifier" in result.skipped["id"]


def test_unknown_method_is_named(pair):
    from kedro_mlops.monitoring import Methods  # noqa: PLC0415

    reference, current = pair
    result = run_check(
        "t",
        reference,
        current,
        dict(KINDS),
        methods=Methods(per_column_method={"stable_num": "nope"}),
    )
    assert result.status == "error"
    assert "column 'stable_num'" in result.error
    assert "No stattest found of name nope" in result.error
