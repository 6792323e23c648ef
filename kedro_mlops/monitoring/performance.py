"""Performance checks: predictions joined with the labels known so far, scored per model version
against that version's own test metrics (``kind: performance`` in ``monitoring.checks``).

Pure: the frames come in, the baselines through a function (``monitor`` reads them from each
version's MLflow run), a :class:`PerformanceResult` goes out. A version's verdict is
``degraded`` when its gate metric is worse than its test value by more than ``max_drop`` on at
least ``min_labels`` labelled rows, ``insufficient_labels`` when there are fewer (or no test
value to compare with: never a silent pass), ``ok`` otherwise. The check follows the version of
the newest rows (the one answering now) once it can be judged: a later good version recovers the
check even while an older one's rows in the window stay degraded (its line still says so). Until
then the check is ``degraded`` when a version is, ``ok`` when a version could be judged and none
is degraded, else ``insufficient_labels``.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any

from kedro_mlops import metrics
from kedro_mlops.frames import as_text
from kedro_mlops.monitoring.columns import CheckInputError

if TYPE_CHECKING:
    from collections.abc import Callable

    import pandas as pd

    from kedro_mlops.config import PerformanceConfig

OK, DEGRADED, INSUFFICIENT = "ok", "degraded", "insufficient_labels"
LABEL, KNOWN_AT = "label", "known_at"
UNREGISTERED = "unregistered"  # rows that name no registered version


@dataclass
class VersionQuality:
    """One model version's figures on the labelled rows of the window."""

    version: str  # <registered model>/<version>
    rows: int
    labelled: int
    status: str
    metric: str
    value: float | None = None
    baseline: float | None = None
    drop: float | None = None  # how much worse than the baseline (negative: better)
    interval: tuple[float, float] | None = None
    metrics: dict[str, float | None] = field(default_factory=dict)
    baselines: dict[str, float] = field(default_factory=dict)
    label_delay_hours: float | None = None  # median, known_at - predicted at
    note: str = ""

    @property
    def labelled_share(self) -> float:
        return self.labelled / self.rows if self.rows else 0.0


@dataclass
class PerformanceResult:
    name: str
    status: str  # ok | degraded | insufficient_labels | error
    metric: str = ""
    direction: str = "maximize"
    window: str = "all"
    max_drop: float = 0.0
    min_labels: int = 0
    rows: int = 0
    labelled: int = 0
    unknown_label_ids: int = 0
    versions: list[VersionQuality] = field(default_factory=list)
    skipped: dict[str, str] = field(default_factory=dict)
    error: str | None = None
    seconds: float = 0.0
    report: str | None = None
    kind: str = "performance"
    created_at: str = field(
        default_factory=lambda: datetime.now(timezone.utc).isoformat(timespec="seconds")
    )

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        for version, quality in zip(data["versions"], self.versions, strict=True):
            version["labelled_share"] = quality.labelled_share
        return data

    def summary(self, location: str = "") -> str:
        """The one line printed per check."""
        where = f" -> {location}" if location else ""
        if self.status == "error":
            return f"performance check {self.name!r}: ERROR {self.error}{where}"
        parts = [_version_text(v, self.max_drop) for v in self.versions] or ["no predictions"]
        line = (
            f"performance check {self.name!r}: {self.status.upper().replace('_', ' ')} "
            f"({self.window}, {self.labelled}/{self.rows} rows labelled): {'; '.join(parts)}"
        )
        if self.unknown_label_ids:
            line += f"; {self.unknown_label_ids} labels name ids never predicted"
        return line + where


def _version_text(quality: VersionQuality, max_drop: float) -> str:
    head = f"{quality.version} {quality.status}"
    if quality.value is None:
        return f"{head} ({quality.note or f'{quality.labelled} labelled rows'})"
    text = f"{head}: {quality.metric} {quality.value:.4g}"
    if quality.interval:
        text += f" [{quality.interval[0]:.4g}, {quality.interval[1]:.4g}]"
    if quality.baseline is not None and quality.drop is not None:
        side = "worse" if quality.drop >= 0 else "better"
        text += f" vs test {quality.baseline:.4g} ({side} by {abs(quality.drop):.3g}"
        text += f", max_drop {max_drop:g})" if quality.status == DEGRADED else ")"
    text += f" on {quality.labelled} labelled rows ({quality.labelled_share:.0%})"
    return text + (f"; {quality.note}" if quality.note else "")


@dataclass(frozen=True)
class Target:
    """What the labels mean and how versions are judged."""

    id_column: str
    positive_class: str
    metric: str
    direction: str
    model_name: str


def id_keys(first: pd.Series, second: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Join keys of two id columns: integers when both hold whole numbers (a CSV's usual ids,
    joined without a text conversion), else their text (``as_text``)."""
    import pandas as pd  # noqa: PLC0415

    def whole(series: pd.Series) -> pd.Series | None:
        if pd.api.types.is_integer_dtype(series) and not series.isna().any():
            return series.astype("int64")
        if pd.api.types.is_float_dtype(series) and (series == series.round()).all():
            return series.astype("int64")
        return None

    numbers = whole(first), whole(second)
    if numbers[0] is not None and numbers[1] is not None:
        return numbers[0], numbers[1]
    return as_text(first), as_text(second)


def matches(series: pd.Series, value: str) -> Any:  # noqa: ANN401 - a numpy array
    """Whether each value, as text, is ``value`` (each distinct value compared once)."""
    import numpy as np  # noqa: PLC0415
    import pandas as pd  # noqa: PLC0415

    codes, uniques = pd.factorize(series)
    hit = np.array([str(item) == value for item in uniques] + [False], dtype=np.int8)
    return hit[codes]  # code -1 (missing) takes the last entry: False


def label_table(labels: pd.DataFrame, target: Target, dataset: str, target_column: str) -> Any:  # noqa: ANN401
    """The last label of each id (text), with ``known_at`` when given.

    Raises:
        CheckInputError: naming the dataset and the missing column.
    """
    column = LABEL if LABEL in labels.columns else target_column
    missing = [c for c in (target.id_column, column) if c not in labels.columns]
    if missing:
        raise CheckInputError(
            f"the labels ({dataset!r}) have no column {missing[0]!r}: expected "
            f"{target.id_column!r} and {LABEL!r}; found {', '.join(map(str, labels.columns))}"
        )
    keep = [target.id_column, column] + ([KNOWN_AT] if KNOWN_AT in labels.columns else [])
    table = labels[keep].dropna(subset=[target.id_column, column])
    return table.rename(columns={column: LABEL}).assign(**{LABEL: as_text(table[column])})


def version_keys(predictions: pd.DataFrame, columns: list[str], model_name: str) -> pd.Series:
    """``<model>/<version>`` of each row, from the first of ``columns`` that names one."""
    import pandas as pd  # noqa: PLC0415

    keys = pd.Series(UNREGISTERED, index=predictions.index, dtype=object)
    unset = pd.Series(True, index=predictions.index)
    for column in columns:
        if column not in predictions.columns:
            continue
        text = as_text(predictions[column])
        named = unset & (text != "")
        value = text if "/" in "".join(text[named].head(1)) else model_name + "/" + text
        keys[named] = value[named]
        unset &= ~named
    return keys


def _window(
    predictions: pd.DataFrame, settings: PerformanceConfig, now: datetime, notes: dict[str, str]
) -> Any:  # noqa: ANN401 - a numpy array
    """Which rows the window keeps."""
    import numpy as np  # noqa: PLC0415
    import pandas as pd  # noqa: PLC0415

    from kedro_mlops.config.monitoring import WINDOWS  # noqa: PLC0415

    days = WINDOWS[settings.window]
    if days is None:
        return np.ones(len(predictions), dtype=bool)
    if settings.time_column not in predictions.columns:
        notes["window"] = (
            f"no column {settings.time_column!r} (performance.time_column): every row is scored"
        )
        return np.ones(len(predictions), dtype=bool)
    when = pd.to_datetime(predictions[settings.time_column], utc=True, errors="coerce")
    return (when >= pd.Timestamp(now - timedelta(days=days))).to_numpy()


def _check_classes(
    labels: pd.DataFrame, predicted: pd.Series, target: Target, dataset: str
) -> None:
    classes = {target.positive_class, *(str(value) for value in predicted.dropna().unique())}
    if len(classes) < 2:  # noqa: PLR2004 - the negative class is not known
        return
    unknown = sorted(set(labels[LABEL].unique()) - classes)
    if unknown:
        raise CheckInputError(
            f"the labels ({dataset!r}, column {LABEL!r}) hold {unknown[:5]!r}, not a class of "
            f"the target ({', '.join(sorted(classes))})"
        )


def score_predictions(
    name: str,
    predictions: pd.DataFrame,
    labels: pd.DataFrame,
    settings: PerformanceConfig,
    target: Target,
    *,
    labels_dataset: str = "ground_truth",
    target_column: str = LABEL,
    baselines: Callable[[str], dict[str, float] | None],
    now: datetime | None = None,
) -> PerformanceResult:
    """Join ``labels`` to ``predictions`` by the id column and judge each model version.

    Raises:
        CheckInputError: a missing column, a label outside the target's classes.
    """
    import numpy as np  # noqa: PLC0415
    import pandas as pd  # noqa: PLC0415

    started = time.perf_counter()
    result = PerformanceResult(
        name=name,
        status=INSUFFICIENT,
        metric=target.metric,
        direction=target.direction,
        window=settings.window,
        max_drop=settings.max_drop,
        min_labels=settings.min_labels,
    )
    for column in (target.id_column, settings.prediction_column):
        if column not in predictions.columns:
            raise CheckInputError(
                f"the predictions have no column {column!r}; found "
                f"{', '.join(map(str, predictions.columns))}"
            )
    table = label_table(labels, target, labels_dataset, target_column)
    _check_classes(table, predictions[settings.prediction_column], target, labels_dataset)
    window = _window(predictions, settings, now or datetime.now(timezone.utc), result.skipped)
    rows = predictions[window]
    label_ids, all_ids = id_keys(table[target.id_column], predictions[target.id_column])
    result.unknown_label_ids = int((~label_ids.isin(all_ids)).sum())
    # the last label of each id; each row's position in the labels (-1: not labelled yet)
    last = ~label_ids.duplicated(keep="last").to_numpy()
    table, label_ids = table[last], label_ids[last]
    found = pd.Index(label_ids).get_indexer(all_ids.to_numpy()[window])
    positive = matches(table[LABEL], target.positive_class)
    keys = version_keys(rows, settings.version_columns, target.model_name)
    has_score = settings.score_column in rows.columns
    if not has_score:
        result.skipped["score"] = f"no column {settings.score_column!r}: score metrics left out"
    labelled = found >= 0
    predicted_all = matches(rows[settings.prediction_column], target.positive_class)
    scores = rows[settings.score_column].to_numpy(dtype=np.float64) if has_score else None
    result.rows, result.labelled = len(rows), int(labelled.sum())
    for version in sorted(keys.unique()):
        mine = (keys == version).to_numpy()
        known = mine & labelled
        quality = VersionQuality(
            version=version,
            rows=int(mine.sum()),
            labelled=int(known.sum()),
            status=INSUFFICIENT,
            metric=target.metric,
        )
        truth, predicted = positive[found[known]], predicted_all[known]
        score = scores[known] if scores is not None else None
        if quality.labelled:
            quality.metrics = metrics.all_metrics(truth, score, predicted)
            quality.label_delay_hours = _delay(rows[known], table, found[known], settings)
        _judge(quality, truth, score, predicted, settings, target, baselines(version))
        result.versions.append(quality)
    result.status = overall(result.versions, _newest(rows, keys, settings.time_column))
    result.seconds = time.perf_counter() - started
    return result


def _delay(
    rows: pd.DataFrame,
    labels: pd.DataFrame,
    found: Any,  # noqa: ANN401 - a numpy array
    settings: PerformanceConfig,
) -> float | None:
    """The median hours from prediction to label (``found``: each row's label position)."""
    import pandas as pd  # noqa: PLC0415

    if KNOWN_AT not in labels.columns or settings.time_column not in rows.columns:
        return None
    known = pd.to_datetime(labels[KNOWN_AT].iloc[found], utc=True, errors="coerce").to_numpy()
    served = pd.to_datetime(rows[settings.time_column], utc=True, errors="coerce").to_numpy()
    delay = pd.Series(known - served).dropna()
    return float(delay.median().total_seconds() / 3600) if len(delay) else None


def _judge(  # noqa: PLR0917 - one version's data and what it is judged against
    quality: VersionQuality,
    truth: Any,  # noqa: ANN401 - numpy arrays
    score: Any,  # noqa: ANN401
    predicted: Any,  # noqa: ANN401
    settings: PerformanceConfig,
    target: Target,
    baseline: dict[str, float] | None,
) -> None:
    quality.baselines = dict(baseline or {})
    if target.metric not in metrics.METRICS:
        quality.note = f"the gate metric {target.metric!r} cannot be computed from labels"
        return
    quality.value = quality.metrics.get(target.metric)
    quality.baseline = quality.baselines.get(target.metric)
    if quality.value is not None and quality.baseline is not None:
        gap = quality.baseline - quality.value
        quality.drop = gap if target.direction == "maximize" else -gap
    if quality.labelled < settings.min_labels:
        quality.note = f"{quality.labelled} labelled rows < min_labels {settings.min_labels}"
        return
    if quality.value is None:
        quality.note = f"{target.metric} is undefined on these labels (one class only)"
        return
    if quality.version == UNREGISTERED:
        quality.note = (
            f"no registered version named by {', '.join(settings.version_columns)} nor found "
            f"by {settings.content_column} (e.g. the registry is off): no test {target.metric} "
            f"to compare with; score batches with serving.model_uri: "
            f"models:/{target.model_name}@champion"
        )
        return
    if quality.baseline is None:
        quality.note = f"no test {target.metric} logged for {quality.version}"
        return
    if settings.bootstrap:
        quality.interval = metrics.bootstrap_interval(
            target.metric, truth, score, predicted, resamples=settings.bootstrap
        )
    quality.status = DEGRADED if quality.drop > settings.max_drop else OK  # type: ignore[operator]


def _newest(rows: pd.DataFrame, keys: pd.Series, time_column: str) -> str | None:
    """The version of the newest row: by ``time_column`` when the rows have it, else the last."""
    import pandas as pd  # noqa: PLC0415

    if not len(keys):
        return None
    if time_column in rows.columns:
        when = pd.to_datetime(rows[time_column], utc=True, errors="coerce")
        if when.notna().any():
            return str(keys.iloc[int(when.to_numpy().argmax())])
    return str(keys.iloc[-1])


def overall(versions: list[VersionQuality], newest: str | None = None) -> str:
    """The ``newest`` version's verdict once it could be judged; else degraded if a version is,
    ok if one could be judged, else insufficient_labels."""
    current = next((v for v in versions if v.version == newest), None)
    if current is not None and current.status in (OK, DEGRADED):
        return current.status
    statuses = {v.status for v in versions}
    if DEGRADED in statuses:
        return DEGRADED
    return OK if OK in statuses else INSUFFICIENT
