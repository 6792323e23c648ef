"""``monitoring:`` of ``mlops.yml``."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, field_validator, model_validator

from kedro_mlops.config.base import DEFAULT_DRIFT_SHARE, Section


class PredictionDriftConfig(Section):
    """Prediction drift: the model's outputs on the current data against the same model's
    outputs on reference data (e.g. its predictions on the test split)."""

    dataset: str | None = Field(
        None, description="The current predictions; null: the check's current dataset."
    )
    reference: str | None = Field(
        None, description="The reference predictions; null: the check's reference dataset."
    )
    column: str = Field("prediction", description="The predicted class.")
    reference_column: str | None = Field(
        None, description="The predicted class's name in the reference; null: the same name."
    )
    probability: str | None = Field(
        None, description="A score column tested as a number (same name on both sides)."
    )
    model_column: str | None = Field(
        None,
        description="The column naming the model that predicted: rows of other models are "
        "not compared.",
    )


WINDOWS = {"1d": 1, "7d": 7, "all": None}  # window -> days
# keys a performance check has no use for (drift settings)
DRIFT_ONLY = ("reference", "columns", "prediction", "target")


# the version column of batch predictions: "<model>/<version>" of the registered model
REGISTRY_COLUMN = "model_registry"


class PerformanceConfig(Section):
    """A performance check: the predictions of ``current`` joined with labels by the id column,
    scored per model version against that version's own test metrics."""

    labels: str = Field(
        "ground_truth",
        description="The labels dataset: the id column, `label` (or the target), optionally "
        "`known_at`.",
    )
    window: Literal["1d", "7d", "all"] = Field(
        "all", description="The predictions scored: those of the last day, week, or all."
    )
    time_column: str = Field(
        "served_at",
        description="When a row was predicted (windows, label delay); a frame without it is "
        "scored whole.",
    )
    max_drop: float = Field(
        0.05,
        ge=0,
        description="degraded: the gate metric is worse than the version's test value by more "
        "than this.",
    )
    min_labels: int = Field(
        100, ge=1, description="Fewer labelled rows of a version: insufficient_labels."
    )
    prediction_column: str = Field("prediction", description="The predicted class.")
    score_column: str = Field("probability", description="The positive class's probability.")
    version_columns: list[str] = Field(
        default_factory=lambda: ["answered_by", REGISTRY_COLUMN],
        description="The columns naming the registered version that answered, first found "
        "first (answered_by: a version number; model_registry: <name>/<version>).",
    )
    content_column: str | None = Field(
        "model_version",
        description="The model's content version of each row (the starter's `model_version`): "
        "rows no version column names (a batch scored in the run that trained its model) are "
        "judged as the registered version whose training run made that content version; null: "
        "not looked up.",
    )
    bootstrap: int = Field(
        200, ge=0, description="Resamples of the gate metric's confidence interval; 0: none."
    )


class DriftCheckConfig(Section):
    """One named check: a drift check compares ``current`` with ``reference``; a performance
    check (``kind: performance``) scores the predictions of ``current`` against labels."""

    name: str = Field(
        pattern=r"^[A-Za-z0-9_.-]+$",
        description="The check's name (letters, digits, _ . -): its outputs' folder and "
        "`kedro mlops monitor --check NAME`.",
    )
    reference: str | None = Field(
        None, description="The reference dataset, e.g. the training features (drift checks)."
    )
    current: str = Field(
        description="The current dataset (performance: the predictions); the check runs as "
        "soon as a run produces it."
    )
    kind: Literal["drift", "performance"] = Field(
        "drift",
        description="drift: reference against current. performance: predictions against "
        "labels (see performance).",
    )
    performance: PerformanceConfig | None = Field(
        None, description="kind: performance: the labels, window and verdict thresholds."
    )
    columns: list[str] | None = Field(
        None, description="The columns to test; null: monitoring.features_from's feature lists."
    )
    categorical: list[str] = Field(
        default_factory=list, description="With columns: those that are categorical."
    )
    prediction: PredictionDriftConfig | None = Field(
        None, description="Prediction drift, when the check compares predictions too."
    )
    target: str | None = Field(
        None, description="Target (label) drift, when both frames hold this column."
    )
    num_method: str | None = Field(
        None,
        description="Evidently's test for numeric columns (e.g. ks, wasserstein, psi); null: "
        "Evidently's own choice.",
    )
    cat_method: str | None = Field(
        None,
        description="Evidently's test for categorical columns (e.g. chisquare, jensenshannon); "
        "null: Evidently's own choice.",
    )
    num_threshold: float | None = Field(
        None, description="The numeric test's threshold; null: the test's default."
    )
    cat_threshold: float | None = Field(
        None, description="The categorical test's threshold; null: the test's default."
    )
    methods: dict[str, str] = Field(
        default_factory=dict, description="A test per column, e.g. {age: ks}."
    )
    thresholds: dict[str, float] = Field(
        default_factory=dict, description="A threshold per column, e.g. {age: 0.05}."
    )
    drift_share: float = Field(
        DEFAULT_DRIFT_SHARE,
        gt=0,
        le=1,
        description="The dataset drifts when at least this share of its columns drift.",
    )
    # the HTML page is for eyes: distributions from a random sample look the same and cost half;
    # the verdicts are always computed on all rows
    report_max_rows: int | None = Field(
        5_000,
        gt=0,
        description="The HTML report is drawn from a random sample of at most this many rows a "
        "frame (verdicts always use every row); null: every row.",
    )
    on_drift: Literal["warn", "fail"] = Field(
        "warn",
        description="warn, or fail: a non-zero exit after all outputs are saved (exit 1) on "
        "drift, or on degradation (performance checks).",
    )

    @model_validator(mode="before")
    @classmethod
    def _kind_settings(cls, data: Any) -> Any:  # noqa: ANN401 - raw YAML
        if not isinstance(data, dict):
            return data
        if data.get("kind") == "performance":
            wrong = [key for key in DRIFT_ONLY if data.get(key) is not None]
            if wrong:
                raise ValueError(f"{', '.join(wrong)}: drift settings, not for kind: performance")
            return {**data, "performance": data.get("performance") or {}}
        if data.get("performance") is not None:
            raise ValueError("performance: only for kind: performance")
        if not data.get("reference"):
            raise ValueError("a drift check needs reference (the dataset it is compared with)")
        return data


class WebhookConfig(Section):
    """One webhook called when a check changes state."""

    name: str | None = Field(None, description="Named in the logs when a delivery fails.")
    url: str | None = Field(
        None, description="The URL POSTed to; null: the environment variable url_env."
    )
    url_env: str | None = Field(
        None,
        description="The environment variable holding the URL (a Slack webhook URL is a "
        "secret: keep it out of mlops.yml).",
    )
    format: Literal["slack", "json"] = Field(
        "json",
        description='slack: {"text": ...} (Slack, Mattermost, Teams workflows); json: the '
        "check, its state, the previous one and the figures.",
    )
    checks: list[str] | None = Field(None, description="Only these checks; null: every check.")

    @model_validator(mode="after")
    def _one_url(self) -> WebhookConfig:
        if not self.url and not self.url_env:
            raise ValueError("a webhook needs url or url_env")
        return self


class AlertsConfig(Section):
    """Webhooks called when a check changes state (ok -> drift/degraded, and back), once per
    change (the monitoring history remembers the state)."""

    webhooks: list[WebhookConfig] = Field(
        default_factory=list, description="The webhooks; none: no alert."
    )
    timeout_s: float = Field(
        5.0, gt=0, description="Seconds a delivery may take; a failed one is only logged."
    )


class MonitoringConfig(Section):
    """Drift checks with Evidently's tests and performance checks on labels: a drift check runs
    as soon as its ``current`` dataset is produced in a ``kedro run``; ``kedro mlops monitor``
    runs any check on demand."""

    enabled: bool = Field(True, description="Run the checks during `kedro run`.")
    output_dir: str = Field(
        "data/08_reporting/drift",
        description="Outputs go to <output_dir>/<check>/<timestamp>/{summary.json,report.html}.",
    )
    history: str = Field(
        "data/08_reporting/monitoring/history.jsonl",
        description="Every check run's verdict and figures, one JSON line each (`kedro mlops "
        "monitor --history`); the dashboard is written beside it.",
    )
    features_from: str = Field(
        "dataset",
        description="The parameters key whose numeric_features / categorical_features are checked.",
    )
    html: bool = Field(True, description="Also write Evidently's HTML report.")
    min_rows: int = Field(
        10,
        ge=2,
        description="Fewer rows on either side: the check reports an error instead of a verdict.",
    )
    alerts: AlertsConfig = Field(
        AlertsConfig(), description="Webhooks called when a check changes state."
    )
    checks: list[DriftCheckConfig] = Field(
        default_factory=list, description="The named drift and performance checks."
    )

    @field_validator("checks")
    @classmethod
    def _unique_names(cls, checks: list[DriftCheckConfig]) -> list[DriftCheckConfig]:
        names = [check.name for check in checks]
        duplicates = sorted({name for name in names if names.count(name) > 1})
        if duplicates:
            raise ValueError(f"check names must be unique, repeated: {duplicates}")
        return checks
