"""Performance check speed vs plain scikit-learn on the already-joined frame.

For ``--rows`` labelled predictions of two model versions (one good, one worse), in one process:
- ``check``: kedro-mlops's performance check (``monitoring.performance.score_predictions``):
  the join of predictions and labels by id, the split per version, every metric, the verdict and
  the bootstrap interval of the gate metric (200 resamples);
- ``sklearn``: the same metrics (roc_auc, average precision, log loss, Brier, accuracy,
  precision, recall, f1, positive rate) per version with ``sklearn.metrics`` on a frame already
  joined and split, no interval.
The check's figures are checked equal to scikit-learn's. Medians of ``--repeats`` runs.

    python benchmarks/performance.py [--rows 1000000] [--repeats 3]
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np
import pandas as pd
from sklearn import metrics as sk

from kedro_mlops.config import parse_config
from kedro_mlops.monitoring.performance import Target, score_predictions

BASELINES = {"churn/1": {"roc_auc": 0.95}, "churn/2": {"roc_auc": 0.95}}


def frames(rows: int, seed: int = 0) -> tuple[pd.DataFrame, pd.DataFrame]:
    rng = np.random.default_rng(seed)
    truth = rng.integers(0, 2, rows)
    version = np.where(np.arange(rows) % 2 == 0, "churn/1", "churn/2")
    strength = np.where(version == "churn/1", 0.4, 0.15)
    score = np.clip(strength * truth + (1 - strength) * rng.random(rows), 0, 1)
    predictions = pd.DataFrame(
        {
            "customer_id": np.arange(rows),
            "prediction": np.where(score >= 0.5, "yes", "no"),
            "probability": score,
            "model_registry": version,
        }
    )
    labels = pd.DataFrame(
        {"customer_id": rng.permutation(rows), "label": ""}
    )  # labels arrive in another order
    labels["label"] = np.where(truth[labels["customer_id"]] == 1, "yes", "no")
    return predictions, labels


def plain(joined: pd.DataFrame) -> dict[str, dict[str, float]]:
    out = {}
    for version, part in joined.groupby("model_registry"):
        y = (part["label"] == "yes").to_numpy(int)
        p = (part["prediction"] == "yes").to_numpy(int)
        s = part["probability"].to_numpy()
        out[version] = {
            "roc_auc": sk.roc_auc_score(y, s),
            "average_precision": sk.average_precision_score(y, s),
            "log_loss": sk.log_loss(y, s, labels=[0, 1]),
            "brier": sk.brier_score_loss(y, s),
            "accuracy": sk.accuracy_score(y, p),
            "precision": sk.precision_score(y, p, zero_division=0),
            "recall": sk.recall_score(y, p, zero_division=0),
            "f1": sk.f1_score(y, p, zero_division=0),
            "positive_rate": float(p.mean()),
        }
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    predictions, labels = frames(args.rows)
    joined = predictions.merge(labels, on="customer_id")
    check = {"name": "q", "kind": "performance", "current": "p", "performance": {}}
    settings = parse_config({"monitoring": {"checks": [check]}}).monitoring.checks[0].performance
    target = Target("customer_id", "yes", "roc_auc", "maximize", "churn")
    times: dict[str, list[float]] = {"check": [], "sklearn": []}
    for _ in range(args.repeats):
        started = time.perf_counter()
        result = score_predictions(
            "q", predictions, labels, settings, target, baselines=BASELINES.get
        )
        times["check"].append(time.perf_counter() - started)
        started = time.perf_counter()
        expected = plain(joined)
        times["sklearn"].append(time.perf_counter() - started)
    for quality in result.versions:
        for name, value in expected[quality.version].items():
            assert abs(quality.metrics[name] - value) < 1e-9, (quality.version, name)  # noqa: S101
    check_s, plain_s = (statistics.median(times[arm]) for arm in ("check", "sklearn"))
    print(f"rows: {args.rows:,} labelled, 2 versions; median of {args.repeats}")
    print(f"sklearn.metrics on the joined frame: {plain_s:.2f} s")
    print(
        f"performance check (join + metrics + verdict + bootstrap interval): {check_s:.2f} s "
        f"= {check_s / plain_s:.2f}x (goal <= 2x)"
    )
    print(result.summary())


if __name__ == "__main__":
    main()
