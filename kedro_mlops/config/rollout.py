"""``serving.rollout`` (how a server tries the challenger on live traffic) and ``rollout:`` of
``mlops.yml`` (how ``kedro mlops rollout analyze`` decides between promote, hold and rollback)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator

from kedro_mlops.config.base import Section

ROLLOUT_MODES = ("none", "shadow", "canary")

# the inference log's columns a rollout adds (written by the server, read by `kedro mlops rollout
# analyze`): per row, the version that answered and what each version said
ANSWERED_BY = "answered_by"
ROLLOUT_MODE = "rollout_mode"
CHAMPION_PREFIX = "champion_"
CHALLENGER_PREFIX = "challenger_"
# after a prefix: the version, its predicted class, its score (probability), the scoring time and
# size of the batch the row was scored in (milliseconds, rows) and, for the challenger, its error
VERSION, PREDICTION, SCORE, MILLISECONDS, BATCH_ROWS, ERROR = (
    "version",
    "prediction",
    "score",
    "ms",
    "batch_rows",
    "error",
)


def rollout_columns() -> tuple[str, ...]:
    """Every column a rollout adds to a logged row, in order."""
    per_model = (VERSION, PREDICTION, SCORE, MILLISECONDS, BATCH_ROWS)
    return (
        ROLLOUT_MODE,
        ANSWERED_BY,
        *(CHAMPION_PREFIX + name for name in per_model),
        *(CHALLENGER_PREFIX + name for name in (*per_model, ERROR)),
    )


class ServingRolloutConfig(Section):
    """A challenger tried on live traffic before it takes over (``kedro mlops serve --rollout``)."""

    mode: Literal["none", "shadow", "canary"] = Field(
        "none",
        description="none: the champion alone. shadow: every request is also scored by the "
        "challenger off the request path (answers come from the champion). canary: `fraction` "
        "of the rows are answered by the challenger.",
    )
    challenger_uri: str | None = Field(
        None,
        description="The challenger; null: models:/<model_name>@challenger. Hot-reloaded like "
        "the champion.",
    )
    fraction: float = Field(
        0.1,
        description="canary: the share of rows the challenger answers, in (0, 1); sticky by "
        "the row's id column (the same id always meets the same version).",
    )
    seed: int = Field(
        0, description="canary without an id column: the seed of the random split of rows."
    )
    score_column: str = Field(
        "probability",
        description="The output column holding the model's score (the positive class's "
        "probability), compared between the versions.",
    )

    @field_validator("fraction")
    @classmethod
    def _open_interval(cls, value: float) -> float:
        if not 0 < value < 1:
            raise ValueError("must be strictly between 0 and 1")
        return value

    @field_validator("challenger_uri")
    @classmethod
    def _alias_uri(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("models:/", "runs:/")):
            raise ValueError(f"{value!r} is not a model URI; use e.g. 'models:/<name>@challenger'")
        return value


class RolloutAnalysisConfig(Section):
    """What ``kedro mlops rollout analyze`` needs to see before it promotes the challenger or
    rolls it back (rows of the inference log scored by both versions since the challenger was
    loaded)."""

    min_rows: int = Field(
        500, ge=1, description="Fewer rows scored by the challenger: hold (not enough evidence)."
    )
    min_live_minutes: float = Field(
        0.0,
        ge=0,
        description="The challenger's first logged row must be at least this old: hold before.",
    )
    max_error_rate: float = Field(
        0.01,
        ge=0,
        le=1,
        description="The share of rows the challenger failed on above which it is rolled back.",
    )
    max_latency_ratio: float = Field(
        1.5,
        gt=0,
        description="The challenger's p99 scoring time over the champion's above which it is "
        "rolled back.",
    )
    min_agreement: float = Field(
        0.9,
        ge=0,
        le=1,
        description="Without enough labels: the share of rows where both versions predict the "
        "same class below which the analysis holds (labels must decide).",
    )
    max_score_psi: float = Field(
        0.2,
        ge=0,
        description="Without enough labels: the population stability index between the "
        "versions' score distributions above which the analysis holds.",
    )
    labels_dataset: str = Field(
        "ground_truth",
        description="A catalog dataset of labels (the id column and `label`, or the target "
        "column); absent from the catalog: no labels.",
    )
    min_labels: int = Field(
        200,
        ge=1,
        description="Labelled rows needed before the gate metric decides on live traffic.",
    )
    max_metric_drop: float = Field(
        0.0,
        ge=0,
        description="With enough labels: the challenger's gate metric may be worse than the "
        "champion's by at most this; worse: rollback, else promote.",
    )
    require_labels: bool = Field(
        False,
        description="Hold until `min_labels` labelled rows have arrived, whatever else the "
        "traffic shows.",
    )


class RolloutConfig(Section):
    """``rollout:``: the live comparison of the challenger with the champion."""

    analysis: RolloutAnalysisConfig = Field(
        RolloutAnalysisConfig(),
        description="Thresholds of `kedro mlops rollout analyze` (promote, hold or rollback).",
    )
