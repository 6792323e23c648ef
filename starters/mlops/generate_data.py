"""Generate the starter's default data: a synthetic customer-churn table and a later production batch.

Seeded, so the files are reproducible byte for byte:

    python starters/mlops/generate_data.py [OUTPUT_DIR]

The production batch comes from later sign-ups and differs from the training data on purpose, so
drift monitoring has something real to find:

- ``monthly_charges``: prices went up, +18 % on average;
- ``contract_type``: many more month-to-month contracts (65 % instead of 45 %);
- ``num_support_calls``: a support incident doubled the call rate;
- ``total_charges`` (monthly charges x tenure) follows ``monthly_charges``.

``tenure_months``, ``age``, ``region``, ``payment_method``, ``paperless_billing`` and
``internet_service`` keep their training distribution.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd

SEED = 20261127
N_TRAIN = 12_000
N_BATCH = 3_000
RAW_DIR = Path(__file__).parent / "{{ cookiecutter.repo_name }}" / "data" / "01_raw"

CONTRACTS = ["month-to-month", "one-year", "two-year"]
PAYMENTS = ["electronic-check", "mailed-check", "bank-transfer", "credit-card"]
INTERNET = ["dsl", "fiber", "none"]
REGIONS = ["north", "south", "east", "west"]


def _customers(
    rng: np.random.Generator,
    n: int,
    first_id: int,
    start: str,
    end: str,
    *,
    shifted: bool,
) -> pd.DataFrame:
    contract_p = [0.65, 0.20, 0.15] if shifted else [0.45, 0.30, 0.25]
    contract = rng.choice(CONTRACTS, size=n, p=contract_p)
    tenure = np.clip(rng.gamma(shape=1.6, scale=18.0, size=n).round(), 0, 72).astype(int)
    internet = rng.choice(INTERNET, size=n, p=[0.38, 0.44, 0.18])
    base_charge = np.select(
        [internet == "fiber", internet == "dsl"], [78.0, 55.0], default=25.0
    ) + rng.normal(0, 12, size=n)
    monthly = np.clip(base_charge * (1.18 if shifted else 1.0), 18.0, 160.0).round(2)
    total = (monthly * np.maximum(tenure, 1) * rng.normal(1.0, 0.04, size=n)).round(2)
    calls = rng.poisson(2.6 if shifted else 1.3, size=n)
    age = np.clip(rng.normal(44, 14, size=n).round(), 18, 90).astype(int)
    payment = rng.choice(PAYMENTS, size=n, p=[0.34, 0.22, 0.22, 0.22])
    region = rng.choice(REGIONS, size=n)
    paperless = rng.choice(["yes", "no"], size=n, p=[0.6, 0.4])
    start_ts, end_ts = pd.Timestamp(start).value, pd.Timestamp(end).value
    signup = pd.to_datetime(rng.integers(start_ts, end_ts, size=n)).normalize()

    # churn risk: short tenure, monthly contracts, fiber, high charges, support calls, e-checks
    logit = (
        -1.2
        - 0.045 * tenure
        + np.select([contract == "month-to-month", contract == "one-year"], [1.4, 0.2], -0.9)
        + 0.5 * (internet == "fiber")
        + 0.018 * (monthly - 65)
        + 0.35 * calls
        + 0.45 * (payment == "electronic-check")
        + 0.2 * (paperless == "yes")
        - 0.008 * (age - 44)
    )
    churn = rng.random(n) < 1 / (1 + np.exp(-logit))

    frame = pd.DataFrame(
        {
            "customer_id": np.arange(first_id, first_id + n),
            "signup_date": signup.strftime("%Y-%m-%d"),
            "tenure_months": tenure,
            "contract_type": contract,
            "internet_service": internet,
            "monthly_charges": monthly,
            "total_charges": total,
            "num_support_calls": calls,
            "age": age.astype(float),
            "payment_method": payment,
            "region": region,
            "paperless_billing": paperless,
            "churn": np.where(churn, "yes", "no"),
        }
    )
    # missing values as they come from real systems
    for column, share in {"total_charges": 0.02, "internet_service": 0.01, "age": 0.04}.items():
        frame.loc[rng.random(n) < share, column] = np.nan
    return frame


def main(raw_dir: Path = RAW_DIR) -> None:
    """Write ``customers.csv`` and ``production_batch.csv`` into ``raw_dir``."""
    rng = np.random.default_rng(SEED)
    train = _customers(rng, N_TRAIN, 100_000, "2023-01-01", "2025-06-30", shifted=False)
    batch = _customers(rng, N_BATCH, 200_000, "2025-07-01", "2025-12-31", shifted=True)
    raw_dir.mkdir(parents=True, exist_ok=True)
    train.to_csv(raw_dir / "customers.csv", index=False)
    # a production batch is scored before its outcome is known: no label column
    batch.drop(columns="churn").to_csv(raw_dir / "production_batch.csv", index=False)


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else RAW_DIR)
