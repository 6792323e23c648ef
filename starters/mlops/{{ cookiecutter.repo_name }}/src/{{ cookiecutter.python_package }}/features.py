"""What the pipelines share: the model's feature columns, the checks a table passes, the derived
features, and scoring (the serving pipeline's ``predict``, which training also uses for the
reference predictions of drift monitoring).

Each modular pipeline imports this module, never another pipeline's nodes, so each stands alone.
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
import pandas as pd
from sklearn.pipeline import Pipeline

logger = logging.getLogger(__name__)

# with no ``dataset.id_column``, rows are identified by their position in the batch (0, 1, ...)
ROW_COLUMN = "row"


class DataValidationError(ValueError):
    """The data does not match what ``conf/`` says it should look like.

    ``exit_code`` 2 (bad input): ``kedro run`` ends with the message and the node, without a
    traceback (kept in info.log).
    """

    exit_code = 2


def id_columns(dataset: dict[str, Any]) -> list[str]:
    """The ID column, when ``dataset.id_column`` names one."""
    return [dataset["id_column"]] if dataset.get("id_column") else []


def feature_columns(dataset: dict[str, Any], features: dict[str, Any]) -> list[str]:
    """All model input columns: configured numeric and categorical features plus derived ones."""
    return numeric_feature_columns(dataset, features) + list(
        dataset["categorical_features"]
    )


def numeric_feature_columns(
    dataset: dict[str, Any], features: dict[str, Any]
) -> list[str]:
    """Configured numeric features followed by the derived numeric ones."""
    derived = list((features.get("ratios") or {}).keys())
    if dataset.get("timestamp_column"):
        derived += [
            f"{dataset['timestamp_column']}_{part}"
            for part in features.get("timestamp_parts") or []
        ]
    return list(dataset["numeric_features"]) + derived


def check_columns(data: pd.DataFrame, required: list[str], source: str) -> None:
    """Raise if a required column is missing, naming the file and the columns."""
    missing = [column for column in required if column not in data.columns]
    if missing:
        raise DataValidationError(
            f"{source}: missing column(s) {missing} configured in conf/base/parameters.yml; "
            f"the file has {list(data.columns)}"
        )


def check_rows(data: pd.DataFrame, source: str) -> None:
    """Raise if the file has a header but no rows."""
    if data.empty:
        raise DataValidationError(f"{source}: the file has no rows")


def check_numeric(data: pd.DataFrame, columns: list[str], source: str) -> None:
    """Raise if a numeric column holds values that are not numbers."""
    for column in columns:
        values = data[column]
        if pd.api.types.is_numeric_dtype(values):
            continue
        coerced = pd.to_numeric(values, errors="coerce")
        bad = values[coerced.isna() & values.notna()]
        if len(bad):
            raise non_numeric_error(
                source, column, len(bad), sorted(map(str, bad.unique()))[:EXAMPLES]
            )


# The validation errors, worded once for both engines (pandas here, Spark in spark_frames.py).
EXAMPLES = 5  # offending values quoted in an error


def non_numeric_error(
    source: str, column: str, count: int, examples: list[str]
) -> DataValidationError:
    return DataValidationError(
        f"{source}: column {column!r} should be numeric but has {count} "
        f"non-numeric value(s), e.g. {examples}"
    )


def class_count_error(
    source: str, target: str, count: int, classes: list[str]
) -> DataValidationError:
    return DataValidationError(
        f"{source}: target column {target!r} must hold exactly 2 classes for a binary "
        f"classifier, found {count}: {classes[:10]}"
    )


def positive_class_error(
    source: str, target: str, positive: str, classes: list[str]
) -> DataValidationError:
    return DataValidationError(
        f"{source}: positive_class {positive!r} does not occur in target column "
        f"{target!r}; its values are {classes}"
    )


def null_share_error(
    source: str, column: str, share: float, nulls: int, max_null: float
) -> DataValidationError:
    return DataValidationError(
        f"{source}: column {column!r} is {share:.0%} null ({nulls} rows), above "
        f"max_null_fraction {max_null:.0%}"
    )


def range_error(
    source: str, column: str, count: int, bounds: list[float], examples: list[Any]
) -> DataValidationError:
    low, high = bounds
    return DataValidationError(
        f"{source}: column {column!r} has {count} value(s) outside "
        f"[{low}, {high}], e.g. {examples}"
    )


def _date_parts() -> frozenset[str]:
    """The numeric attributes of pandas' ``.dt`` accessor (year, month, dayofweek ...)."""
    accessor = pd.Series([], dtype="datetime64[ns]").dt
    values = {
        name: getattr(accessor, name, None)
        for name in dir(accessor)
        if not name.startswith("_")
    }
    return frozenset(
        name
        for name, value in values.items()
        if isinstance(value, pd.Series) and value.dtype.kind in "biuf"
    )


# what ``features.timestamp_parts`` may name
DATE_PARTS = _date_parts()


def check_features(
    columns: list[str], dataset: dict[str, Any], features: dict[str, Any]
) -> None:
    """Raise if ``features`` (conf/base/parameters.yml) names a date part pandas does not
    know, or a ratio that is not two columns of the data (or features derived before it)."""
    timestamp = dataset.get("timestamp_column")
    parts = (features.get("timestamp_parts") or []) if timestamp else []
    for part in parts:
        if part not in DATE_PARTS:
            raise DataValidationError(
                f"conf/base/parameters.yml: features.timestamp_parts: {part!r} is not a "
                "date part (a pandas .dt attribute such as year, month, dayofweek, hour)"
            )
    known = [*columns, *(f"{timestamp}_{part}" for part in parts)]
    for name, pair in (features.get("ratios") or {}).items():
        if not isinstance(pair, (list, tuple)) or len(pair) != 2:  # noqa: PLR2004
            raise DataValidationError(
                f"conf/base/parameters.yml: features.ratios.{name} should be "
                f"[numerator, denominator], got {pair!r}"
            )
        missing = [column for column in pair if column not in known]
        if missing:
            raise DataValidationError(
                f"conf/base/parameters.yml: features.ratios.{name} divides column(s) "
                f"{missing} that the data does not have; its columns are {columns}"
            )
        known.append(name)


def warn_zero_denominators(name: str, denominator: str, zeros: int, rows: int) -> None:
    """The warning of a ratio feature whose denominator is 0 in ``zeros`` rows."""
    logger.warning(
        "Ratio feature %r: %s is 0 in %d of %d rows; the ratio is missing there "
        "(the model's imputer fills it with the training median)",
        name,
        denominator,
        zeros,
        rows,
    )


def normalise_types(data: pd.DataFrame, dataset: dict[str, Any]) -> pd.DataFrame:
    """Numbers as float, categories as stripped lower-case strings, the timestamp as datetime."""
    data = data.copy()
    for column in dataset["numeric_features"]:
        data[column] = pd.to_numeric(data[column], errors="coerce").astype("float64")
    for column in dataset["categorical_features"]:
        text = data[column].astype("string").str.strip().str.lower()
        data[column] = text.astype(object).where(text.notna(), np.nan)
    timestamp = dataset.get("timestamp_column")
    if timestamp:
        data[timestamp] = pd.to_datetime(data[timestamp], errors="coerce")
    return data


def build_features(
    data: pd.DataFrame, dataset: dict[str, Any], features: dict[str, Any]
) -> pd.DataFrame:
    """Add the configured derived features (timestamp parts, ratios).

    A ratio is missing where its denominator is 0 or missing (a warning says in how many rows);
    the model's numeric imputer fills it with the training median.

    Raises:
        DataValidationError: ``features`` names columns the data does not have.
    """
    check_features(list(data.columns), dataset, features)
    data = data.copy()
    timestamp = dataset.get("timestamp_column")
    if timestamp:
        stamps = pd.to_datetime(data[timestamp], errors="coerce")
        for part in features.get("timestamp_parts") or []:
            data[f"{timestamp}_{part}"] = getattr(stamps.dt, part).astype("float64")
    for name, (numerator, denominator) in (features.get("ratios") or {}).items():
        denominator_values = data[denominator].astype("float64")
        zeros = int((denominator_values == 0).sum())
        if zeros:
            warn_zero_denominators(name, denominator, zeros, len(data))
        data[name] = data[numerator].astype("float64") / denominator_values.replace(
            0, np.nan
        )
    return data


def model_input(
    data: pd.DataFrame, dataset: dict[str, Any], features: dict[str, Any]
) -> pd.DataFrame:
    """The feature columns in model order, numbers as float and categories as objects."""
    frame = data[feature_columns(dataset, features)].copy()
    for column in numeric_feature_columns(dataset, features):
        frame[column] = pd.to_numeric(frame[column], errors="coerce").astype("float64")
    for column in dataset["categorical_features"]:
        values = frame[column].astype(object)
        frame[column] = values.where(frame[column].notna(), np.nan)
    return frame


def positive_probability(
    model: Pipeline, frame: pd.DataFrame, positive_class: str
) -> np.ndarray:
    """Probability of the positive class for each row of ``frame``."""
    classes = [str(label) for label in model.classes_]
    return model.predict_proba(frame)[:, classes.index(positive_class)]


def predict(
    model: Pipeline,
    model_info: dict[str, Any],
    batch: pd.DataFrame,
    dataset: dict[str, Any],
    features: dict[str, Any],
    serving: dict[str, Any],
) -> pd.DataFrame:
    """One row per input row: id, predicted class, positive-class probability and the model.

    The id is ``dataset.id_column``'s value or, with no id column, the row's position in
    the batch (column ``row``: 0, 1, ...). ``model_version`` is the fitted model's content
    hash; ``model_registry`` names the registered version (``<name>/<version>``) when the
    batch is scored with ``serving.model_uri`` from ``mlops.yml``, and is empty otherwise.
    """
    positive = model_info["positive_class"]
    probability = positive_probability(
        model, model_input(batch, dataset, features), positive
    )
    ids = id_columns(dataset)
    identity = (
        {ids[0]: batch[ids[0]].to_numpy()}
        if ids
        else {ROW_COLUMN: np.arange(len(batch))}
    )
    return pd.DataFrame(
        {
            **identity,
            "prediction": np.where(
                probability >= float(serving["threshold"]),
                positive,
                model_info["negative_class"],
            ),
            "probability": probability,
            "model_version": model_info["version"],
            "model_registry": model_info.get("registry", ""),
        }
    )
