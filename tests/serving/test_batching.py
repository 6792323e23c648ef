from __future__ import annotations

import asyncio
import dataclasses
import json
import threading
import time

import pandas as pd
import pytest

from kedro_mlops.serving.batching import MicroBatcher, json_text, score_jobs
from kedro_mlops.serving.model import ServingModel
from tests.serving.conftest import rows_of


def alone(model, rows):
    """What one request's rows give when scored on their own."""
    return json.loads(json_text(model.score(model.frame(rows))))


def assert_same_predictions(records, expected):
    """Same rows, ids and classes; probabilities equal but for the last bits (a row's float
    arithmetic may differ with the batch it is vectorised in)."""
    assert [{k: v for k, v in r.items() if k != "probability"} for r in records] == [
        {k: v for k, v in r.items() if k != "probability"} for r in expected
    ]
    assert [r["probability"] for r in records] == pytest.approx(
        [r["probability"] for r in expected], abs=1e-12
    )


def run_concurrently(batcher: MicroBatcher, requests: list[list[dict]]) -> list[object]:
    async def main() -> list[object]:
        try:
            return await asyncio.gather(
                *(batcher.score(rows) for rows in requests), return_exceptions=True
            )
        finally:
            batcher.close()

    return asyncio.run(main())


def test_concurrent_requests_are_scored_together_and_split_back(model):
    rows = rows_of(30)
    requests = [rows[0:1], rows[1:4], rows[4:5], rows[5:15], rows[15:30]]
    batches: list[int] = []
    batcher = MicroBatcher(
        lambda: model, max_wait_s=0.5, on_batch=lambda _m, frame, _out: batches.append(len(frame))
    )
    results = run_concurrently(batcher, requests)
    assert sum(batches) == 30
    assert len(batches) < len(requests)  # at least two requests shared a call
    for request, result in zip(requests, results, strict=True):
        assert result.model is model
        assert_same_predictions(json.loads(result.json), alone(model, request))
        assert [record["customer_id"] for record in json.loads(result.json)] == [
            row["customer_id"] for row in request
        ]


def test_a_bad_request_fails_alone(model):
    rows = rows_of(6)
    bad = [{**rows[2], "signup_date": "not a date"}]  # past validation, the pipeline refuses it
    requests = [rows[0:2], bad, rows[3:6]]
    batches: list[int] = []
    batcher = MicroBatcher(
        lambda: model, max_wait_s=0.5, on_batch=lambda _m, frame, _out: batches.append(len(frame))
    )
    first, failed, last = run_concurrently(batcher, requests)
    assert isinstance(failed, ValueError)
    assert "not a date" in str(failed)
    assert_same_predictions(json.loads(first.json), alone(model, rows[0:2]))
    assert_same_predictions(json.loads(last.json), alone(model, rows[3:6]))
    assert sorted(batches) == [2, 3]  # the batch failed, then each request alone


def test_a_lone_request_does_not_wait_for_company(model):
    batcher = MicroBatcher(lambda: model, max_wait_s=30)

    async def main() -> float:
        try:
            await batcher.score(rows_of(1))  # the first call starts the worker
            started = time.perf_counter()
            await batcher.score(rows_of(1))
            return time.perf_counter() - started
        finally:
            batcher.close()

    assert asyncio.run(main()) < 10  # not the 30 s it could wait under concurrent traffic


def test_the_batch_takes_the_model_current_when_it_starts(model):
    from tests.serving.pipeline import serving_model  # noqa: PLC0415

    models = iter([model, serving_model("2", c=0.01)])
    batcher = MicroBatcher(lambda: next(models), max_wait_s=0)

    async def main() -> list[object]:
        try:
            first = await batcher.score(rows_of(1))
            second = await batcher.score(rows_of(1))
            return [first, second]
        finally:
            batcher.close()

    first, second = asyncio.run(main())
    assert (first.model.meta.version, second.model.meta.version) == ("1", "2")
    assert json.loads(first.json) != json.loads(second.json)  # the second model scores differently


def test_a_failing_recorder_does_not_fail_requests(model, caplog):
    def broken(_model, _frame, _output):
        raise OSError("disk full")

    (result,) = score_jobs(model, [(rows_of(2), ())], broken)
    assert json.loads(result) == alone(model, rows_of(2))
    assert "could not record a scored batch" in caplog.text
    assert "disk full" in caplog.text


@pytest.mark.parametrize(
    ("frame", "expected"),
    [
        (
            pd.DataFrame({"a": [1, 2], "b": ["x", None], "c": [0.5, float("nan")]}),
            [{"a": 1, "b": "x", "c": 0.5}, {"a": 2, "b": None, "c": None}],
        ),
        (
            pd.DataFrame({"when": pd.to_datetime(["2025-01-01", None]), "n": [True, False]}),
            [{"when": "2025-01-01T00:00:00.000", "n": True}, {"when": None, "n": False}],
        ),
        (
            pd.DataFrame({"p": [0.1234567890123456789, 1 / 3]}),
            [{"p": 0.123456789012346}, {"p": 0.333333333333333}],
        ),
        (pd.DataFrame({"a": []}), []),
    ],
)
def test_json_text(frame, expected):
    assert json.loads(json_text(frame)) == expected


def test_each_request_gets_its_columns(model):
    rows = rows_of(3)
    shown, full = score_jobs(model, [(rows[:1], ("model_version",)), (rows[1:], ())])
    assert list(json.loads(shown)[0]) == [
        "customer_id",
        "prediction",
        "probability",
        "model_registry",
    ]
    assert [list(row) for row in json.loads(full)] == [list(alone(model, rows[1:])[0])] * 2


def openmp_threads() -> int | None:
    """The OpenMP thread count native code started from this thread would use (None: no
    OpenMP library loaded)."""
    from threadpoolctl import ThreadpoolController  # noqa: PLC0415

    counts = [i["num_threads"] for i in ThreadpoolController().info() if i["user_api"] == "openmp"]
    return max(counts) if counts else None


def in_a_new_thread(work):
    """``work()`` in a fresh thread (its own OpenMP settings), its result."""
    results = []
    thread = threading.Thread(target=lambda: results.append(work()))
    thread.start()
    thread.join()
    return results[0]


def test_a_lone_large_request_gets_the_native_libraries_threads(model):
    default = in_a_new_thread(openmp_threads)
    if default is None or default < 2:
        pytest.skip("one OpenMP thread either way here")
    seen = []

    class Recording(ServingModel):
        def score(self, rows: pd.DataFrame) -> pd.DataFrame:
            seen.append((len(rows), openmp_threads()))
            return super().score(rows)

    recording = Recording(**{f.name: getattr(model, f.name) for f in dataclasses.fields(model)})
    batcher = MicroBatcher(lambda: recording, threaded_rows=100)

    async def main() -> None:
        try:
            for rows in (5, 150, 5):  # one at a time: each alone
                await batcher.score(rows_of(rows))
        finally:
            batcher.close()

    in_a_new_thread(lambda: asyncio.run(main()))
    assert seen == [(5, 1), (150, default), (5, 1)]
