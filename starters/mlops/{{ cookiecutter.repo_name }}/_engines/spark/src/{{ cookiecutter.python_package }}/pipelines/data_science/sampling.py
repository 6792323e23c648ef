"""From Spark tables to the pandas frames scikit-learn trains and evaluates on."""

from __future__ import annotations

from typing import Any

import pandas as pd
from pyspark.sql import DataFrame

from ...spark_frames import key_columns, seeded_sample, to_pandas


def sample_for_training(
    train: DataFrame,
    test: DataFrame,
    dataset: dict[str, Any],
    model: dict[str, Any],
    split: dict[str, Any],
) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, dict[str, float]]]:
    """The training and test tables as pandas, each capped at ``model.max_training_rows``
    rows (a seeded sample: the same rows on every run; every row of a smaller table).

    Returns:
        The two frames and, for the run, the metrics ``training_rows_available``,
        ``training_rows_sampled``, ``test_rows_available`` and ``test_rows_sampled`` (the cap
        itself is the run's parameter ``model.max_training_rows``).
    """
    cap = model.get("max_training_rows")
    seed = split["random_state"]
    frames, metrics = [], {}
    for name, table in (("training", train), ("test", test)):
        sample, available = seeded_sample(table, cap, seed, key_columns(table, dataset))
        frame = to_pandas(sample, dataset)
        frames.append(frame)
        metrics[f"{name}_rows_available"] = {"value": float(available), "step": 0}
        metrics[f"{name}_rows_sampled"] = {"value": float(len(frame)), "step": 0}
    return frames[0], frames[1], metrics
