"""A tiny real inference pipeline for the serving tests: two Kedro nodes (feature preparation and
prediction, shaped like the starter's) around a fitted scikit-learn model. Module-level functions,
so a saved bundle can pickle the nodes by reference."""

from __future__ import annotations

import logging
import warnings
from typing import Any

import numpy as np
import pandas as pd

DATASET = {
    "id_column": "customer_id",
    "timestamp_column": "signup_date",
    "numeric_features": ["tenure_months", "monthly_charges", "age"],
    "categorical_features": ["contract_type", "region"],
}
NUMERIC = [*DATASET["numeric_features"], "charges_per_month", "signup_month"]
CATEGORICAL = DATASET["categorical_features"]
SERVING = {"threshold": 0.5}
# a region the model never saw: rows with it make the pipeline warn (warnings.warn)
UNKNOWN_REGION = "atlantis"

logger = logging.getLogger(__name__)


def prepare_batch(batch: pd.DataFrame, dataset: dict[str, Any]) -> pd.DataFrame:
    """Derived features, as the starter's prepare_batch builds them, with its warnings about
    the data (logged for a zero denominator, warnings.warn for an unknown region)."""
    frame = batch.copy()
    zeros = int((frame["tenure_months"] == 0).sum())
    if zeros:
        logger.warning(
            "Ratio feature %r: %s is 0 in %d of %d rows; the ratio is missing there",
            "charges_per_month",
            "tenure_months",
            zeros,
            len(frame),
        )
    unknown = int((frame["region"] == UNKNOWN_REGION).sum())
    if unknown:
        warnings.warn(
            f"{unknown} of {len(frame)} rows have region {UNKNOWN_REGION!r}, unknown to the model",
            UserWarning,
            stacklevel=1,  # the place is this line: the warning's kind
        )
    frame["charges_per_month"] = frame["monthly_charges"] / frame["tenure_months"].where(
        frame["tenure_months"] > 0
    )
    frame["signup_month"] = pd.to_datetime(frame[dataset["timestamp_column"]]).dt.month
    return frame.reset_index(drop=True)


def predict(
    model: Any,
    model_info: dict[str, Any],
    batch: pd.DataFrame,
    dataset: dict[str, Any],
    serving: dict[str, Any],
) -> pd.DataFrame:
    """One row per input row: id, class, positive probability and the model's identity."""
    features = batch[NUMERIC + CATEGORICAL].copy()
    for column in NUMERIC:
        features[column] = features[column].astype("float64")
    for column in CATEGORICAL:
        features[column] = features[column].astype(object).where(features[column].notna(), np.nan)
    probability = model.predict_proba(features)[:, 1]
    return pd.DataFrame(
        {
            dataset["id_column"]: batch[dataset["id_column"]].to_numpy(),
            "prediction": np.where(probability >= serving["threshold"], "yes", "no"),
            "probability": probability,
            "model_version": model_info["version"],
            "model_registry": model_info.get("registry", ""),
        }
    )


# a fragile model version fails on rows with this tenure (as a model that cannot handle them)
FRAGILE_TENURE = 13.0


def fragile_predict(
    model: Any,
    model_info: dict[str, Any],
    batch: pd.DataFrame,
    dataset: dict[str, Any],
    serving: dict[str, Any],
) -> pd.DataFrame:
    """:func:`predict`, but raising for any batch holding a row with ``FRAGILE_TENURE``."""
    if (batch["tenure_months"] == FRAGILE_TENURE).any():
        raise ValueError(f"cannot score tenure_months = {FRAGILE_TENURE}")
    return predict(model, model_info, batch, dataset, serving)


def raw_rows(n: int, seed: int = 0) -> pd.DataFrame:
    """Raw rows as a batch file holds them (with some nulls in the nullable columns)."""
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(
        {
            "customer_id": np.arange(1000, 1000 + n),
            "signup_date": pd.Timestamp("2025-01-01")
            + pd.to_timedelta(rng.integers(0, 300, n), unit="D"),
            "tenure_months": rng.integers(0, 72, n).astype(float),
            "monthly_charges": rng.uniform(20, 120, n).round(2),
            "age": rng.integers(18, 90, n).astype(float),
            "contract_type": rng.choice(["month-to-month", "one-year", "two-year"], n),
            "region": rng.choice(["north", "south", "east"], n),
        }
    )
    frame["signup_date"] = frame["signup_date"].dt.strftime("%Y-%m-%d")
    frame.loc[rng.random(n) < 0.1, "age"] = np.nan
    frame.loc[rng.random(n) < 0.1, "region"] = None
    return frame


def fit_model(seed: int = 0, c: float = 1.0) -> Any:
    """A fitted sklearn Pipeline (imputation, one-hot, logistic regression) on raw_rows."""
    from sklearn.compose import ColumnTransformer  # noqa: PLC0415
    from sklearn.impute import SimpleImputer  # noqa: PLC0415
    from sklearn.linear_model import LogisticRegression  # noqa: PLC0415
    from sklearn.pipeline import Pipeline  # noqa: PLC0415
    from sklearn.preprocessing import OneHotEncoder, StandardScaler  # noqa: PLC0415

    rows = prepare_batch(raw_rows(400, seed), DATASET)
    target = rows["monthly_charges"] / 120 + (rows["contract_type"] == "month-to-month") > 1.0
    model = Pipeline(
        [
            (
                "prepare",
                ColumnTransformer(
                    [
                        (
                            "numeric",
                            Pipeline([("impute", SimpleImputer()), ("scale", StandardScaler())]),
                            NUMERIC,
                        ),
                        (
                            "categorical",
                            Pipeline(
                                [
                                    (
                                        "impute",
                                        SimpleImputer(strategy="constant", fill_value="missing"),
                                    ),
                                    ("encode", OneHotEncoder(handle_unknown="ignore")),
                                ]
                            ),
                            CATEGORICAL,
                        ),
                    ]
                ),
            ),
            ("classify", LogisticRegression(C=c, max_iter=500)),
        ]
    )
    features = rows[NUMERIC + CATEGORICAL].copy()
    features[CATEGORICAL] = features[CATEGORICAL].astype(object)
    return model.fit(features, np.where(target, "yes", "no"))


def inference_pipeline(*, fragile: bool = False) -> Any:
    from kedro.pipeline import Pipeline, node  # noqa: PLC0415

    return Pipeline(
        [
            node(
                prepare_batch,
                ["production_batch", "params:dataset"],
                "batch_features",
                name="prepare_batch",
            ),
            node(
                fragile_predict if fragile else predict,
                ["model", "model_info", "batch_features", "params:dataset", "params:serving"],
                "predictions",
                name="predict_batch",
            ),
        ]
    )


SIGNATURE = [
    {"name": "customer_id", "type": "long", "required": True},
    {"name": "signup_date", "type": "string", "required": True},
    {"name": "tenure_months", "type": "double", "required": True},
    {"name": "monthly_charges", "type": "double", "required": True},
    {"name": "age", "type": "double", "required": False},
    {"name": "contract_type", "type": "string", "required": True},
    {"name": "region", "type": "string", "required": False},
]


def serving_model(
    version: str = "1", *, seed: int = 0, c: float = 1.0, fragile: bool = False
) -> Any:
    """A ``ServingModel`` of :func:`inference_pipeline`, as a registry version would give."""
    from kedro_mlops.serving.model import ModelMeta, from_pipeline  # noqa: PLC0415

    values = {
        "model": fit_model(seed, c),
        "model_info": {"version": f"hash{version}", "registry": f"churn/{version}"},
        "params:dataset": DATASET,
        "params:serving": SERVING,
    }
    meta = ModelMeta(
        name="churn",
        version=version,
        run_id=f"run{version}",
        model_uri="models:/churn@champion",
        source="registry",
        aliases=("champion",),
    )
    return from_pipeline(
        inference_pipeline(fragile=fragile),
        values,
        input_name="production_batch",
        meta=meta,
        signature=SIGNATURE,
    )
