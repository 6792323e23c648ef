"""A challenger beside the champion (serving.rollout): shadow and canary through the real app,
its inference log and its metrics."""

from __future__ import annotations

import logging
import re
import warnings
from contextlib import contextmanager
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import pytest

from kedro_mlops.config.rollout import (
    ANSWERED_BY,
    CHALLENGER_PREFIX,
    CHAMPION_PREFIX,
    rollout_columns,
)
from kedro_mlops.serving.app import Limits, ModelHolder, create_app
from kedro_mlops.serving.challenger import canary_mask
from kedro_mlops.serving.rollout import ChallengerSlot, RolloutSettings
from kedro_mlops.serving.traffic import TrafficLog, csv_partitions
from tests.serving.conftest import rows_of
from tests.serving.pipeline import FRAGILE_TENURE, serving_model

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

with warnings.catch_warnings():  # starlette's notice about httpx2, not ours to act on
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient


@pytest.fixture(scope="module")
def challenger():
    """Version 2: another fit, so some answers differ from version 1's."""
    return serving_model("2", seed=3, c=0.05)


@pytest.fixture(scope="module")
def fragile():
    """Version 3: fails on every row with FRAGILE_TENURE."""
    return serving_model("3", seed=3, fragile=True)


@contextmanager
def app_client(
    model, challenger, tmp_path: Path, **settings: object
) -> Iterator[tuple[TestClient, Path]]:
    """The app with a rollout, its inference log in ``tmp_path/served`` (written on exit)."""
    log_dir = tmp_path / "served"
    traffic = TrafficLog(csv_partitions(log_dir), flush_s=3600, flush_rows=10**6)
    app = create_app(
        ModelHolder(model),
        Limits(max_rows=5000),
        traffic=traffic,
        rollout=RolloutSettings(**settings),
        challenger=ChallengerSlot(challenger),
    )
    with TestClient(app) as client:
        yield client, log_dir


def logged(directory: Path) -> pd.DataFrame:
    return pd.concat(
        [pd.read_csv(path) for path in sorted(directory.glob("*.csv"))], ignore_index=True
    )


def metric(text: str, name: str, version: str) -> float:
    values = [
        float(line.rsplit(" ", 1)[1])
        for line in text.splitlines()
        if line.startswith(name) and f'model_version="{version}"' in line
    ]
    return sum(values)


def test_shadow_answers_from_the_champion_and_logs_the_challenger_for_every_row(
    model, challenger, tmp_path
):
    rows = rows_of(300, seed=5)
    with app_client(model, challenger, tmp_path, mode="shadow") as (client, log_dir):
        answers = []
        for start in range(0, 300, 30):
            response = client.post("/predict", json=rows[start : start + 30])
            assert response.status_code == 200, response.text
            answers.extend(response.json()["predictions"])
        metadata = client.get("/metadata").json()["rollout"]
    expected = model.score(model.frame(rows))
    assert [a["prediction"] for a in answers] == expected["prediction"].tolist()
    assert {a["model_version"] for a in answers} == {"1"}
    assert set(answers[0]) == {"customer_id", "prediction", "probability", "model_version"}
    assert metadata == {
        "mode": "shadow",
        "challenger": {
            "name": "churn",
            "version": "2",
            "run_id": "run2",
            "model_uri": "models:/churn@champion",
        },
    }
    log = logged(log_dir)
    assert len(log) == 300
    assert set(rollout_columns()) <= set(log.columns)
    theirs = challenger.score(challenger.frame(rows))
    assert log[CHALLENGER_PREFIX + "prediction"].tolist() == theirs["prediction"].tolist()
    assert np.allclose(log[CHALLENGER_PREFIX + "score"], theirs["probability"], atol=1e-12)
    assert (log[CHALLENGER_PREFIX + "version"] == 2).all()
    assert (log[ANSWERED_BY] == 1).all()
    assert log[CHAMPION_PREFIX + "prediction"].tolist() == expected["prediction"].tolist()
    # the two fits differ: the comparison has something to find
    assert not np.allclose(log[CHALLENGER_PREFIX + "score"], log["probability"], atol=1e-3)


async def canary_traffic(app, rows: list[dict], concurrency: int = 16) -> tuple[list, list, str]:
    """One request per row, ``concurrency`` at a time (the server batches them), then the first
    200 rows again: the versions that answered, and /metrics."""
    import asyncio  # noqa: PLC0415

    import httpx  # noqa: PLC0415

    gate = asyncio.Semaphore(concurrency)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:

        async def ask(row: dict) -> str:
            async with gate:
                response = await client.post("/predict", json=row)
            assert response.status_code == 200, response.text
            (answer,) = response.json()["predictions"]
            return answer["model_version"]

        first = await asyncio.gather(*(ask(row) for row in rows))
        again = await asyncio.gather(*(ask(row) for row in rows[:200]))
        return first, again, (await client.get("/metrics")).text


def test_canary_answers_its_share_sticky_by_id(model, challenger):
    import asyncio  # noqa: PLC0415

    rows = rows_of(2000, seed=6)
    app = create_app(
        ModelHolder(model),
        rollout=RolloutSettings(mode="canary", fraction=0.1),
        challenger=ChallengerSlot(challenger),
    )
    versions, again, metrics = asyncio.run(canary_traffic(app, rows))
    rows_by_version = {v: metric(metrics, "kedro_mlops_model_rows_total", v) for v in "12"}
    share = versions.count("2") / len(rows)
    assert 0.08 <= share <= 0.12, share
    assert again == versions[:200]
    # the champion scores every row (a fallback); the challenger only its share
    assert rows_by_version["1"] == 2200
    assert rows_by_version["2"] == pytest.approx(2200 * share, abs=40)


def test_canary_rows_answered_by_the_challenger_carry_its_prediction(model, challenger, tmp_path):
    rows = rows_of(500, seed=7)
    with app_client(model, challenger, tmp_path, mode="canary", fraction=0.5) as (client, log_dir):
        answers = client.post("/predict", json=rows).json()["predictions"]
    theirs = challenger.score(challenger.frame(rows))
    ours = model.score(model.frame(rows))
    for answer, mine, other in zip(answers, ours.to_dict("records"), theirs.to_dict("records")):
        source = other if answer["model_version"] == "2" else mine
        assert answer["prediction"] == source["prediction"]
        assert answer["probability"] == pytest.approx(source["probability"], abs=1e-12)
    log = logged(log_dir)
    canary = log[ANSWERED_BY] == 2
    assert canary.sum() == sum(a["model_version"] == "2" for a in answers)
    assert log.loc[canary, CHALLENGER_PREFIX + "prediction"].notna().all()
    assert log.loc[~canary, CHALLENGER_PREFIX + "prediction"].isna().all()


NOISY = ("kedro.pipeline.node", "kedro_mlops")  # where a failing model could be logged


@pytest.mark.parametrize("mode", ["shadow", "canary"])
def test_a_challenger_that_raises_fails_no_request(model, fragile, tmp_path, mode, caplog):
    rows = rows_of(400, seed=8)
    failing = sum(row["tenure_months"] == FRAGILE_TENURE for row in rows)
    assert failing > 0
    with app_client(model, fragile, tmp_path, mode=mode, fraction=0.5) as (client, log_dir):
        statuses = [
            client.post("/predict", json=rows[start : start + 20]).status_code
            for start in range(0, 400, 20)
        ]
    assert statuses == [200] * 20
    log = logged(log_dir)
    errors = log[CHALLENGER_PREFIX + "error"].notna()
    assert (log.loc[errors, "tenure_months"] == FRAGILE_TENURE).all()
    # the challenger's failures are answered by the champion
    assert (log.loc[errors, ANSWERED_BY] == 1).all()
    if mode == "shadow":
        assert errors.sum() == failing
    else:
        assert 0 < errors.sum() <= failing
    # counted (the shadow worker's last batch on close); logged once, not row by row
    text = client.app.state.metrics.render()[0].decode()
    assert metric(text, "kedro_mlops_model_errors_total", "3") == errors.sum()
    noisy = [
        r.getMessage()
        for r in caplog.records
        if r.name.startswith(NOISY) and r.levelno >= logging.WARNING
    ]
    assert len(noisy) == 1, [(r.name, r.getMessage()) for r in caplog.records]
    (failure,) = noisy
    assert re.fullmatch(
        r"kedro-mlops: challenger version 3 failed on \d+ of \d+ rows \(ValueError: cannot "
        r"score tenure_months = 13.0\); the champion answered them. Counted in /metrics "
        r"\(kedro_mlops_model_errors_total\); further failures within 60 s are not logged",
        failure,
    )


def test_a_removed_challenger_leaves_the_champion_serving(model, challenger, tmp_path):
    slot = ChallengerSlot(challenger)
    app = create_app(
        ModelHolder(model),
        rollout=RolloutSettings(mode="canary", fraction=0.5),
        challenger=slot,
    )
    with TestClient(app) as client:
        slot.swap(None)  # as the watcher does when the alias is removed
        answers = client.post("/predict", json=rows_of(50)).json()["predictions"]
        info = [
            line
            for line in client.get("/metrics").text.splitlines()
            if line.startswith("kedro_mlops_rollout_info{")
        ]
    assert {answer["model_version"] for answer in answers} == {"1"}
    assert info == ['kedro_mlops_rollout_info{challenger="",champion="1",mode="canary"} 1.0']


def test_the_canary_split_is_a_stable_hash_of_the_id():
    frame = pd.DataFrame({"customer_id": range(20_000)})
    mask = canary_mask(frame, "customer_id", 0.1, 0, np.random.default_rng(0))
    assert abs(mask.mean() - 0.1) < 0.01
    # the same ids, in another order and another process's rng: the same split
    shuffled = frame.sample(frac=1, random_state=1)
    again = canary_mask(shuffled, "customer_id", 0.1, 0, np.random.default_rng(9))
    assert (again == mask[shuffled.index]).all()
    # another seed, another split; no id column: a seeded draw
    assert (canary_mask(frame, "customer_id", 0.1, 1, None) != mask).any()
    seeded = canary_mask(frame, None, 0.1, 0, np.random.default_rng(0))
    assert abs(seeded.mean() - 0.1) < 0.01
