"""``serving:`` of ``mlops.yml``."""

from __future__ import annotations

from typing import TYPE_CHECKING

from pydantic import Field, field_validator

from kedro_mlops.config.base import SERVE_PORT, Section
from kedro_mlops.config.rollout import ServingRolloutConfig

if TYPE_CHECKING:
    from collections.abc import Iterable

# the serving image's settings from its environment (`python -m kedro_mlops.serving`); a
# deployment (kedro mlops deploy) sets them
ENV_LOG_DIR = "KEDRO_MLOPS_SERVE_LOG_DIR"
ENV_MAX_BODY_MB = "KEDRO_MLOPS_SERVE_MAX_BODY_MB"
ENV_MAX_ROWS = "KEDRO_MLOPS_SERVE_MAX_ROWS"
ENV_FEEDBACK_DIR = "KEDRO_MLOPS_SERVE_FEEDBACK_DIR"
# labels of served rows (POST /feedback, the `ground_truth` dataset): the row's id, its label and
# when it was known; rows without an id column are named by the prediction id /predict returned
LABEL = "label"
KNOWN_AT = "known_at"
PREDICTION_ID = "prediction_id"
# serving.rollout in the image: the mode, the challenger's saved directory and the canary's share
ENV_ROLLOUT = "KEDRO_MLOPS_SERVE_ROLLOUT"
ENV_CHALLENGER = "KEDRO_MLOPS_SERVE_CHALLENGER"
ENV_FRACTION = "KEDRO_MLOPS_SERVE_FRACTION"
ENV_SEED = "KEDRO_MLOPS_SERVE_SEED"
ENV_SCORE_COLUMN = "KEDRO_MLOPS_SERVE_SCORE_COLUMN"


def label_key(id_column: str | None, columns: Iterable[str]) -> str | None:
    """The column labels name rows by: the dataset's id column, else the ``prediction_id`` the
    server gave each row it answered without one (when ``columns`` hold it), else ``None``."""
    if id_column:
        return str(id_column)
    return PREDICTION_ID if PREDICTION_ID in columns else None


class ServingConfig(Section):
    """Which model scores (batch ``kedro run --pipeline serving`` and ``kedro mlops serve``),
    and the REST server's options. CLI options override these keys."""

    model_uri: str | None = Field(
        None,
        description="The model that scores, e.g. models:/<model_name>@champion, "
        "models:/<model_name>/3 or runs:/<run id>/model. null: batch scoring uses the local "
        "files; `kedro mlops serve` and the serving image use models:/<model_name>@champion "
        "when the registry has one, else the latest training run's model, else the local files.",
    )
    host: str = Field("127.0.0.1", description="`kedro mlops serve`: the interface to listen on.")
    port: int = Field(
        SERVE_PORT, ge=1, le=65535, description="`kedro mlops serve`: the port to listen on."
    )
    workers: int = Field(1, ge=1, le=64, description="Server processes.")
    max_body_mb: float = Field(10.0, gt=0, description="Larger request bodies: 413.")
    max_rows: int = Field(10_000, ge=1, description="More rows in one request: 413.")
    reload_interval_s: float = Field(
        30.0,
        ge=0,
        description="Seconds between checks of a models:/...@alias URI; a new version is "
        "swapped in without a restart. 0: off.",
    )
    batch_wait_ms: float = Field(
        2.0,
        ge=0,
        le=1000,
        description="Concurrent requests are scored together; wait at most this long for company.",
    )
    log_predictions: bool = Field(
        True,
        description="Append served rows and predictions to log_dataset (for drift checks).",
    )
    log_dataset: str = Field(
        "served_traffic",
        description="A partitions.PartitionedDataset of pandas.CSVDataset in the catalog.",
    )
    feedback_dataset: str | None = Field(
        "ground_truth",
        description="POST /feedback appends labels here: a PartitionedDataset of "
        "pandas.CSVDataset in the catalog (the id column, label, known_at). null: no /feedback.",
    )
    prediction_column: str = Field(
        "prediction", description="The output column counted by class in /metrics."
    )
    rollout: ServingRolloutConfig = Field(
        ServingRolloutConfig(),
        description="A challenger tried on live traffic (shadow or canary) before it takes over.",
    )

    @field_validator("model_uri")
    @classmethod
    def _registry_or_run_uri(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("models:/", "runs:/")):
            raise ValueError(
                f"{value!r} is not a model URI; use e.g. 'models:/<name>@champion', "
                "'models:/<name>/3' or 'runs:/<run id>/model'"
            )
        return value
