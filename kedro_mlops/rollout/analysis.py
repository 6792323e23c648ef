"""The challenger against the champion on live traffic: figures from the inference log, and a
pure decision (promote, hold or rollback) with its reasons.

The rows compared are those the challenger scored (its version in ``challenger_version``): in
shadow mode every row since it was loaded, in canary mode its share. On those rows both versions
scored the same input (a canary row's champion answer is logged too), so agreement, the score
distributions and, where labels have arrived, the gate metric compare like with like.

Scoring times are compared per batch size: the shadow challenger scores gathered batches (larger
than the champion's), a canary challenger its share of each batch (smaller). The p99 of each
version's batch time is taken in the size bucket both have most batches in; without a common
bucket the times are not compared (and say so).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

from kedro_mlops import metrics
from kedro_mlops.config.rollout import (
    BATCH_ROWS,
    CHALLENGER_PREFIX,
    CHAMPION_PREFIX,
    ERROR,
    MILLISECONDS,
    PREDICTION,
    SCORE,
)
from kedro_mlops.config.serving import LABEL  # the joined label of a row (missing: not known)
from kedro_mlops.frames import as_text

if TYPE_CHECKING:
    import pandas as pd

    from kedro_mlops.config.rollout import RolloutAnalysisConfig

PROMOTE, HOLD, ROLLBACK = "promote", "hold", "rollback"
PSI_BINS = 10
MIN_BATCHES = 20  # batches of each version in a size bucket before their p99s are compared
# metrics of the positive-class score; the others are of the predicted class
SCORE_METRICS = metrics.SCORE_METRICS
CLASS_METRICS = tuple(name for name in metrics.CLASS_METRICS if name != "positive_rate")


@dataclass(frozen=True)
class Figures:
    """What the log shows about the two versions on the rows the challenger scored."""

    champion: str
    challenger: str
    rows: int
    errors: int
    live_minutes: float
    champion_p99_ms: float | None = None
    challenger_p99_ms: float | None = None
    latency_rows: str = ""  # the batch-size bucket the p99s come from
    agreement: float | None = None
    score_psi: float | None = None
    labelled: int = 0
    metric: str = ""
    champion_metric: float | None = None
    challenger_metric: float | None = None
    metric_note: str = ""  # why the metric could not be computed

    @property
    def error_rate(self) -> float:
        return self.errors / self.rows if self.rows else 0.0

    @property
    def latency_ratio(self) -> float | None:
        if not self.champion_p99_ms or self.challenger_p99_ms is None:
            return None
        return self.challenger_p99_ms / self.champion_p99_ms

    def as_metrics(self) -> dict[str, float]:
        """The figures as MLflow metrics (those that were computed)."""
        values = {
            "rows": self.rows,
            "errors": self.errors,
            "error_rate": self.error_rate,
            "live_minutes": self.live_minutes,
            "champion_p99_ms": self.champion_p99_ms,
            "challenger_p99_ms": self.challenger_p99_ms,
            "latency_ratio": self.latency_ratio,
            "agreement": self.agreement,
            "score_psi": self.score_psi,
            "labelled_rows": self.labelled,
            f"champion_{self.metric}": self.champion_metric,
            f"challenger_{self.metric}": self.challenger_metric,
        }
        return {name: float(value) for name, value in values.items() if value is not None}


@dataclass(frozen=True)
class Decision:
    """promote, hold or rollback, and why (each reason a short clause)."""

    action: str
    reasons: tuple[str, ...]

    def line(self, figures: Figures) -> str:
        return (
            f"{self.action}: challenger v{figures.challenger} vs champion v{figures.champion} on "
            f"{figures.rows} rows: " + "; ".join(self.reasons)
        )


def compute(
    rows: pd.DataFrame,
    *,
    champion: str,
    challenger: str,
    metric: str,
    positive_class: str,
    live_minutes: float,
) -> Figures:
    """The figures of the rows ``challenger`` scored (a ``label`` column where known)."""
    errors = rows[CHALLENGER_PREFIX + ERROR].notna()
    ok = rows[~errors]
    mine, theirs = ok[CHAMPION_PREFIX + PREDICTION], ok[CHALLENGER_PREFIX + PREDICTION]
    # as text however a log partition typed them: 0 and 0.0 (a column with gaps) agree
    agreement = float((as_text(mine) == as_text(theirs)).mean()) if len(ok) else None
    champion_p99, challenger_p99, bucket = _latency(rows)
    labelled = ok[ok[LABEL].notna()] if LABEL in ok.columns else ok.iloc[0:0]
    champion_metric = challenger_metric = None
    note = ""
    if len(labelled):
        truth = (as_text(labelled[LABEL]) == str(positive_class)).to_numpy()
        champion_metric, note = live_metric(
            metric, truth, labelled, CHAMPION_PREFIX, positive_class
        )
        challenger_metric, note = live_metric(
            metric, truth, labelled, CHALLENGER_PREFIX, positive_class
        )
    return Figures(
        champion=champion,
        challenger=challenger,
        rows=len(rows),
        errors=int(errors.sum()),
        live_minutes=live_minutes,
        champion_p99_ms=champion_p99,
        challenger_p99_ms=challenger_p99,
        latency_rows=bucket,
        agreement=agreement,
        score_psi=psi(ok[CHAMPION_PREFIX + SCORE], ok[CHALLENGER_PREFIX + SCORE]),
        labelled=len(labelled),
        metric=metric,
        champion_metric=champion_metric,
        challenger_metric=challenger_metric,
        metric_note=note,
    )


def live_metric(
    metric: str, truth: object, rows: pd.DataFrame, prefix: str, positive_class: str
) -> tuple[float | None, str]:
    """The gate ``metric`` of one version on labelled rows, or ``None`` and why not (the
    metrics of :mod:`kedro_mlops.metrics`)."""
    import numpy as np  # noqa: PLC0415

    y_true = np.asarray(truth, dtype=int)
    if metric in SCORE_METRICS:
        score = rows[prefix + SCORE].astype(float).to_numpy()
        if np.isnan(score).any():
            return None, "no score logged"
        if metric in ("roc_auc", "average_precision") and len(set(y_true)) < 2:  # noqa: PLR2004
            return None, f"{metric} needs both classes among the labels"
        return float(metrics.metric(metric, y_true, score, None)), ""
    if metric in CLASS_METRICS:
        y_pred = (as_text(rows[prefix + PREDICTION]) == str(positive_class)).to_numpy(int)
        return float(metrics.metric(metric, y_true, None, y_pred)), ""
    known = ", ".join((*SCORE_METRICS, *CLASS_METRICS))
    return None, f"the gate metric {metric!r} has no live counterpart (known: {known})"


def psi(expected: pd.Series, actual: pd.Series) -> float | None:
    """The population stability index of ``actual`` against ``expected`` (deciles of
    ``expected``); ``None`` without scores."""
    import numpy as np  # noqa: PLC0415

    first = expected.astype(float).dropna().to_numpy()
    second = actual.astype(float).dropna().to_numpy()
    if not len(first) or not len(second):
        return None
    edges = np.unique(np.quantile(first, np.linspace(0, 1, PSI_BINS + 1)))
    if len(edges) < 2:  # noqa: PLR2004 - one value: any spread in the other is a shift
        return 0.0 if np.allclose(second, first[0]) else math.inf
    edges[0], edges[-1] = -np.inf, np.inf
    share_a = np.histogram(first, edges)[0] / len(first)
    share_b = np.histogram(second, edges)[0] / len(second)
    share_a, share_b = np.clip(share_a, 1e-6, None), np.clip(share_b, 1e-6, None)
    return float(np.sum((share_b - share_a) * np.log(share_b / share_a)))


def _latency(rows: pd.DataFrame) -> tuple[float | None, float | None, str]:
    """Each version's p99 batch time in the batch-size bucket (powers of 4) both have most
    batches in, with at least ``MIN_BATCHES`` each."""
    import numpy as np  # noqa: PLC0415

    def batches(prefix: str) -> pd.DataFrame:
        columns = [prefix + MILLISECONDS, prefix + BATCH_ROWS]
        frame = rows[columns].dropna().astype(float)
        # a batch's rows share its time and size: one entry per batch (approximately)
        frame = frame.drop_duplicates()
        frame["bucket"] = np.floor(np.log(frame[prefix + BATCH_ROWS].clip(lower=1)) / np.log(4))
        return frame

    mine, theirs = batches(CHAMPION_PREFIX), batches(CHALLENGER_PREFIX)
    counts = (
        mine["bucket"]
        .value_counts()
        .to_frame("mine")
        .join(theirs["bucket"].value_counts().to_frame("theirs"), how="inner")
    )
    counts = counts[(counts["mine"] >= MIN_BATCHES) & (counts["theirs"] >= MIN_BATCHES)]
    if counts.empty:
        return None, None, ""
    bucket = (counts["mine"] + counts["theirs"]).idxmax()
    low, high = int(4**bucket), int(4 ** (bucket + 1)) - 1
    p99 = [
        float(np.percentile(frame.loc[frame["bucket"] == bucket, prefix + MILLISECONDS], 99))
        for frame, prefix in ((mine, CHAMPION_PREFIX), (theirs, CHALLENGER_PREFIX))
    ]
    return p99[0], p99[1], f"{low}-{high}" if high > low else str(low)


def decide(figures: Figures, analysis: RolloutAnalysisConfig, direction: str) -> Decision:
    """promote, hold or rollback on ``figures`` under ``rollout.analysis``. Pure.

    Rollback on evidence against the challenger (errors, slowness, a worse gate metric on
    enough labels); hold while there is not enough evidence (rows, time live, labels when
    required) or the versions differ and no labels can tell which is right; promote otherwise.
    """
    early = _too_early(figures, analysis)
    if early is not None:
        return Decision(HOLD, (early,))
    against = _against(figures, analysis)
    verdict = _labels_verdict(figures, analysis, direction)
    if verdict is not None and not verdict[0]:
        against.append(verdict[1])
    if against:
        return Decision(ROLLBACK, tuple(against))
    if verdict is not None:
        return Decision(PROMOTE, (verdict[1], *_healthy(figures)))
    waiting = f"{figures.labelled} labelled rows < min_labels {analysis.min_labels}"
    if figures.metric_note and figures.labelled:
        waiting = f"labels cannot decide: {figures.metric_note}"
    if analysis.require_labels:
        return Decision(HOLD, (waiting, "require_labels is set"))
    differ = _differ(figures, analysis)
    if differ:
        return Decision(HOLD, (*differ, f"labels must decide ({waiting})"))
    return Decision(PROMOTE, (*_healthy(figures), f"no labels needed ({waiting})"))


def _too_early(figures: Figures, analysis: RolloutAnalysisConfig) -> str | None:
    if figures.rows < analysis.min_rows:
        return f"{figures.rows} rows < min_rows {analysis.min_rows}"
    if figures.live_minutes < analysis.min_live_minutes:
        return (
            f"live {figures.live_minutes:.1f} min < min_live_minutes {analysis.min_live_minutes:g}"
        )
    return None


def _against(figures: Figures, analysis: RolloutAnalysisConfig) -> list[str]:
    """What the traffic shows against the challenger without labels: errors, slowness."""
    against = []
    if figures.error_rate > analysis.max_error_rate:
        against.append(
            f"error rate {figures.error_rate:.2%} > max_error_rate {analysis.max_error_rate:.2%}"
        )
    ratio = figures.latency_ratio
    if ratio is not None and ratio > analysis.max_latency_ratio:
        against.append(
            f"p99 scoring time {figures.challenger_p99_ms:.1f} ms vs "
            f"{figures.champion_p99_ms:.1f} ms ({ratio:.2f}x > max_latency_ratio "
            f"{analysis.max_latency_ratio:g})"
        )
    return against


def _labels_verdict(
    figures: Figures, analysis: RolloutAnalysisConfig, direction: str
) -> tuple[bool, str] | None:
    """With enough labels: whether the challenger's gate metric holds up, and the comparison;
    ``None`` when labels cannot decide yet."""
    if (
        figures.labelled < analysis.min_labels
        or figures.champion_metric is None
        or figures.challenger_metric is None
    ):
        return None
    drop = _drop(figures, direction)
    compared = (
        f"{figures.metric} {figures.challenger_metric:.4g} vs {figures.champion_metric:.4g} "
        f"on {figures.labelled} labelled rows"
    )
    if drop > analysis.max_metric_drop:
        return False, (
            f"{compared} (worse by {drop:.4g} > max_metric_drop {analysis.max_metric_drop:g})"
        )
    return True, f"{compared} (not worse by more than {analysis.max_metric_drop:g})"


def _differ(figures: Figures, analysis: RolloutAnalysisConfig) -> list[str]:
    """How far the versions' answers part, beyond ``rollout.analysis``'s limits."""
    differ = []
    if figures.agreement is not None and figures.agreement < analysis.min_agreement:
        differ.append(
            f"the versions agree on {figures.agreement:.1%} of rows < min_agreement "
            f"{analysis.min_agreement:.0%}"
        )
    if figures.score_psi is not None and figures.score_psi > analysis.max_score_psi:
        differ.append(
            f"score PSI {figures.score_psi:.3g} > max_score_psi {analysis.max_score_psi:g}"
        )
    return differ


def _drop(figures: Figures, direction: str) -> float:
    """How much worse the challenger's metric is than the champion's (negative: better)."""
    champion, challenger = float(figures.champion_metric), float(figures.challenger_metric)  # type: ignore[arg-type]
    return champion - challenger if direction == "maximize" else challenger - champion


def _healthy(figures: Figures) -> tuple[str, ...]:
    parts = [f"error rate {figures.error_rate:.2%}"]
    if figures.latency_ratio is not None:
        parts.append(f"p99 scoring time {figures.latency_ratio:.2f}x the champion's")
    if figures.agreement is not None:
        parts.append(f"agreement {figures.agreement:.1%}")
    if figures.score_psi is not None:
        parts.append(f"score PSI {figures.score_psi:.3g}")
    return tuple(parts)
