from __future__ import annotations

import numpy as np
import pandas as pd
import pytest


def frames(n_ref: int, n_cur: int, seed: int = 0) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Reference and current frames: some columns shifted, some not, some with few values."""
    rng = np.random.default_rng(seed)

    def make(n: int, shifted: bool) -> pd.DataFrame:
        frame = pd.DataFrame(
            {
                "stable_num": rng.normal(10, 2, n),
                "shifted_num": rng.normal(12 if shifted else 10, 2, n),
                "few_values": rng.integers(0, 4, n).astype(float),
                "binary_num": rng.integers(0, 2, n).astype(float),
                "stable_cat": rng.choice(["a", "b", "c", "d"], n),
                "shifted_cat": rng.choice(
                    ["a", "b", "c"], n, p=[0.7, 0.2, 0.1] if shifted else None
                ),
                "binary_cat": rng.choice(["yes", "no"], n, p=[0.8, 0.2] if shifted else None),
            }
        )
        frame.loc[rng.random(n) < 0.05, "stable_num"] = np.nan
        return frame

    return make(n_ref, False), make(n_cur, True)


KINDS = {
    "stable_num": "numerical",
    "shifted_num": "numerical",
    "few_values": "numerical",
    "binary_num": "numerical",
    "stable_cat": "categorical",
    "shifted_cat": "categorical",
    "binary_cat": "categorical",
}


@pytest.fixture
def kinds() -> dict[str, str]:
    return dict(KINDS)
