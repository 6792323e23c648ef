"""Binary classification metrics on labelled rows, vectorised (ground floor, pure numpy).

One definition of each metric for every place that scores labels after the fact: the
performance checks of ``monitoring`` (a million rows, and a bootstrap over them) and the live
comparison of a rollout. The values equal scikit-learn's (``roc_auc_score``,
``average_precision_score``, ``precision_score``, ``recall_score``, ``f1_score`` with
``zero_division=0``, ``accuracy_score``, ``log_loss``, ``brier_score_loss``) without their
input checks, and the row-wise functions take a 2-D array (one resample a row) as well as a 1-D
one, which is what makes the bootstrap cheap.

Inputs: ``truth`` and ``predicted`` hold 0/1 (1: the positive class), ``score`` the positive
class's probability.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np

# metrics of the positive-class score; the others are of the predicted class
SCORE_METRICS = ("roc_auc", "average_precision", "log_loss", "brier")
CLASS_METRICS = ("accuracy", "f1", "precision", "recall", "positive_rate")
METRICS = (*SCORE_METRICS, *CLASS_METRICS)
# lower is better for these; positive_rate has no better side (it is watched, not gated)
LOWER_IS_BETTER = frozenset({"log_loss", "brier"})


def direction(metric: str) -> str:
    """``minimize`` for losses, ``maximize`` for the rest."""
    return "minimize" if metric in LOWER_IS_BETTER else "maximize"


def _ratio(numerator: np.ndarray, denominator: np.ndarray) -> np.ndarray:
    import numpy as np  # noqa: PLC0415

    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(denominator > 0, numerator / np.where(denominator > 0, denominator, 1), 0.0)


def roc_auc(truth: np.ndarray, score: np.ndarray) -> np.ndarray:
    """The area under the ROC curve (Mann-Whitney U with average ranks for ties); NaN where
    a row holds one class only."""
    import numpy as np  # noqa: PLC0415
    from scipy.stats import rankdata  # noqa: PLC0415

    ranks = rankdata(score, axis=-1)
    positives = truth.sum(axis=-1, dtype=np.float64)
    negatives = truth.shape[-1] - positives
    ranked = (ranks * truth).sum(axis=-1) - positives * (positives + 1) / 2
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where((positives > 0) & (negatives > 0), ranked / (positives * negatives), np.nan)


def average_precision(truth: np.ndarray, score: np.ndarray) -> np.ndarray:
    """Average precision (scikit-learn's step-wise definition, tied scores one threshold)."""
    import numpy as np  # noqa: PLC0415

    if truth.ndim > 1:
        return np.array([average_precision(t, s) for t, s in zip(truth, score, strict=True)])
    order = np.argsort(-score, kind="mergesort")
    ordered, hits = score[order], truth[order].astype(np.float64)
    last = np.r_[np.flatnonzero(np.diff(ordered)), len(ordered) - 1]  # end of each threshold
    true_pos = np.cumsum(hits)[last]
    if not len(true_pos) or true_pos[-1] == 0:
        return np.array(np.nan)
    precision = true_pos / (last + 1)
    recall = true_pos / true_pos[-1]
    return np.array(np.sum(np.diff(recall, prepend=0.0) * precision))


def log_loss(truth: np.ndarray, score: np.ndarray) -> np.ndarray:
    import numpy as np  # noqa: PLC0415

    eps = np.finfo(np.float64).eps
    clipped = np.clip(score.astype(np.float64), eps, 1 - eps)
    return -np.mean(np.where(truth == 1, np.log(clipped), np.log1p(-clipped)), axis=-1)


def brier(truth: np.ndarray, score: np.ndarray) -> np.ndarray:
    import numpy as np  # noqa: PLC0415

    return np.mean((score.astype(np.float64) - truth) ** 2, axis=-1)


def class_metrics(truth: np.ndarray, predicted: np.ndarray) -> dict[str, np.ndarray]:
    """accuracy, precision, recall, f1 and the predicted positive rate (row-wise)."""
    import numpy as np  # noqa: PLC0415

    truth, predicted = truth.astype(bool), predicted.astype(bool)
    rows = truth.shape[-1]
    true_pos = np.count_nonzero(truth & predicted, axis=-1)
    predicted_pos = np.count_nonzero(predicted, axis=-1)
    actual_pos = np.count_nonzero(truth, axis=-1)
    correct = rows - np.count_nonzero(truth ^ predicted, axis=-1)
    precision = _ratio(true_pos, predicted_pos)
    recall = _ratio(true_pos, actual_pos)
    return {
        "accuracy": correct / rows,
        "precision": precision,
        "recall": recall,
        "f1": _ratio(2 * true_pos, predicted_pos + actual_pos),
        "positive_rate": predicted_pos / rows,
    }


def metric(
    name: str, truth: np.ndarray, score: np.ndarray | None, predicted: np.ndarray | None
) -> np.ndarray:
    """One metric, row-wise.

    Raises:
        ValueError: an unknown metric, or one whose input (score / predicted class) is missing.
    """
    if name in SCORE_METRICS:
        if score is None:
            raise ValueError(f"{name} needs the positive-class score")
        function = {
            "roc_auc": roc_auc,
            "average_precision": average_precision,
            "log_loss": log_loss,
            "brier": brier,
        }[name]
        return function(truth, score)
    if name in CLASS_METRICS:
        if predicted is None:
            raise ValueError(f"{name} needs the predicted class")
        return class_metrics(truth, predicted)[name]
    raise ValueError(f"unknown metric {name!r} (known: {', '.join(METRICS)})")


def all_metrics(
    truth: np.ndarray, score: np.ndarray | None, predicted: np.ndarray | None
) -> dict[str, float | None]:
    """Every metric the inputs allow (1-D), ``None`` where undefined (one class only)."""
    values: dict[str, float | None] = {}
    if predicted is not None:
        values.update({k: float(v) for k, v in class_metrics(truth, predicted).items()})
    if score is not None:
        for name in SCORE_METRICS:
            value = float(metric(name, truth, score, None))
            values[name] = None if math.isnan(value) else value
    return values


def bootstrap_interval(
    name: str,
    truth: np.ndarray,
    score: np.ndarray | None,
    predicted: np.ndarray | None,
    *,
    resamples: int = 200,
    max_rows: int = 10_000,
    level: float = 0.95,
    seed: int = 0,
) -> tuple[float, float] | None:
    """A bootstrap confidence interval of metric ``name``.

    With more than ``max_rows`` rows it is the m-out-of-n bootstrap: resamples of ``max_rows``
    rows whose deviations from the estimate are scaled by sqrt(max_rows / rows), the spread a
    resample of every row would have for a metric that averages over rows; fewer rows: the
    percentile bootstrap. ``None`` when too few resamples give a value (one class only).
    """
    import numpy as np  # noqa: PLC0415

    rows = len(truth)
    if rows < 2:  # noqa: PLR2004 - nothing to resample
        return None
    estimate = float(metric(name, truth, score, predicted))
    if math.isnan(estimate):
        return None
    size = min(rows, max_rows)
    picks = np.random.default_rng(seed).integers(0, rows, size=(resamples, size))
    values = metric(
        name,
        truth[picks],
        None if score is None else score[picks],
        None if predicted is None else predicted[picks],
    )
    deviations = values[~np.isnan(values)] - estimate
    if len(deviations) < resamples // 2:
        return None
    scale = math.sqrt(size / rows)
    low, high = np.quantile(deviations, [(1 - level) / 2, (1 + level) / 2])
    return estimate + scale * float(low), estimate + scale * float(high)
