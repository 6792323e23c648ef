"""Per-column drift with Evidently's own statistical tests, one pass per column.

Evidently's ``DataDriftPreset`` computes each column's drift three times and builds plotly
widgets inside ``run()``. The verdict only needs its test: the same method choice, the same
threshold, the same function on the same cleaned values; this module calls exactly that, once.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from kedro_mlops.monitoring.columns import CheckInputError, ColumnPair

if TYPE_CHECKING:
    from collections.abc import Iterable

    import pandas as pd
    from evidently.legacy.calculations.stattests.registry import StatTest

# Evidently picks K-S / chi-square / z for small references and Wasserstein / Jensen-Shannon above.
SMALL_REFERENCE_ROWS = 1000
FEW_VALUES = 5
BINARY = 2


@dataclass(frozen=True)
class ColumnDrift:
    column: str
    kind: str
    role: str
    method: str  # Evidently's test name, as configured: ks, wasserstein, jensenshannon ...
    method_name: str  # its display name
    score: float
    threshold: float
    drifted: bool


@dataclass(frozen=True)
class Methods:
    """Method and threshold overrides, as ``DataDriftPreset`` takes them."""

    num_method: str | None = None
    cat_method: str | None = None
    num_threshold: float | None = None
    cat_threshold: float | None = None
    per_column_method: dict[str, str] | None = None
    per_column_threshold: dict[str, float] | None = None

    def preset_kwargs(self) -> dict[str, Any]:
        return {
            "num_method": self.num_method,
            "cat_method": self.cat_method,
            "num_threshold": self.num_threshold,
            "cat_threshold": self.cat_threshold,
            "per_column_method": self.per_column_method or None,
            "per_column_threshold": self.per_column_threshold or None,
        }


def _few_values(reference: pd.Series, current: pd.Series, limit: int) -> int | None:
    """``nunique`` of both series when it is at most ``limit``, else ``None``.

    Evidently concatenates both series and counts distinct values for every numerical column;
    a continuous column shows more than ``limit`` values in its first rows, which settles it
    without hashing millions of values.
    """
    import pandas as pd  # noqa: PLC0415

    if reference.head(1000).nunique() > limit or current.head(1000).nunique() > limit:
        return None
    count = int(pd.concat([reference, current]).nunique())
    return count if count <= limit else None


def default_test(
    reference: pd.Series, current: pd.Series, kind: str, method: str | None = None
) -> StatTest:
    """The test Evidently 0.7 chooses when none is configured (its ``_get_default_stattest``),
    or the one named ``method`` when it was chosen elsewhere."""
    from evidently.legacy.calculations import stattests  # noqa: PLC0415

    tests = {
        "jensenshannon": stattests.jensenshannon_stat_test,
        "wasserstein": stattests.wasserstein_stat_test,
        "ks": stattests.ks_stat_test,
        "chisquare": stattests.chi_stat_test,
        "z": stattests.z_stat_test,
    }
    return tests[method or default_method(reference, current, kind)]


def default_method(reference: pd.Series, current: pd.Series, kind: str) -> str:
    """The name of :func:`default_test`'s choice."""
    if kind == "categorical":
        if len(reference) > SMALL_REFERENCE_ROWS:
            return "jensenshannon"
        count = _few_values(reference, current, BINARY)
        return "z" if count is not None else "chisquare"
    few = _few_values(reference, current, FEW_VALUES)
    if len(reference) > SMALL_REFERENCE_ROWS:
        return "jensenshannon" if few is not None else "wasserstein"
    if few is None:
        return "ks"
    return "chisquare" if few > BINARY else "z"


def column_drift(pairs: Iterable[ColumnPair], methods: Methods) -> list[ColumnDrift]:
    """Evidently's verdict for each column pair."""
    from evidently.legacy.calculations.stattests import get_stattest  # noqa: PLC0415
    from evidently.legacy.core import ColumnType  # noqa: PLC0415
    from evidently.legacy.options.data_drift import DataDriftOptions  # noqa: PLC0415

    options = DataDriftOptions(
        num_features_stattest=methods.num_method,
        cat_features_stattest=methods.cat_method,
        num_features_threshold=methods.num_threshold,
        cat_features_threshold=methods.cat_threshold,
        per_feature_stattest=methods.per_column_method or None,
        per_feature_threshold=methods.per_column_threshold or None,
    )
    results = []
    for pair in pairs:
        column_type = ColumnType.Numerical if pair.kind == "numerical" else ColumnType.Categorical
        configured = options.get_feature_stattest_func(pair.name, column_type.value)
        try:
            test = get_stattest(
                pair.reference,
                pair.current,
                column_type,
                configured
                or default_test(pair.reference, pair.current, pair.kind, pair.default_method),
            )
        except ValueError as exc:  # an unknown test name, or one not made for this kind
            raise CheckInputError(f"column {pair.name!r}: {exc}") from None
        outcome = test(
            pair.reference,
            pair.current,
            column_type,
            options.get_threshold(pair.name, column_type.value),
        )
        results.append(
            ColumnDrift(
                column=pair.name,
                kind=pair.kind,
                role=pair.role,
                method=test.name,
                method_name=test.display_name,
                score=float(outcome.drift_score),
                threshold=float(outcome.actual_threshold),
                drifted=bool(outcome.drifted),
            )
        )
    return results


def dataset_drift(columns: list[ColumnDrift], drift_share: float) -> tuple[float, bool]:
    """Share of drifted feature columns and Evidently's dataset verdict (share >= drift_share)."""
    features = [column for column in columns if column.role == "feature"]
    if not features:
        return 0.0, False
    share = sum(column.drifted for column in features) / len(features)
    return share, bool(share >= drift_share)
