from __future__ import annotations

import time
from pathlib import Path

import pandas as pd
import pytest

from kedro_mlops.serving.traffic import SERVED_AT, TrafficLog, csv_partitions
from tests.serving.pipeline import raw_rows


def wait_for(condition, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


def read_partitions(directory: Path) -> pd.DataFrame:
    files = sorted(directory.glob("*.csv"))
    return pd.concat([pd.read_csv(file) for file in files], ignore_index=True)


def test_rows_and_predictions_are_written_as_csv_partitions_on_close(model, tmp_path):
    log = TrafficLog(csv_partitions(tmp_path / "served"), flush_s=3600, flush_rows=10**6)
    batches = [raw_rows(3, seed=1), raw_rows(5, seed=2)]
    for batch in batches:
        log.append(batch, model.score(batch))
    assert not (tmp_path / "served").exists()  # nothing written on the request path
    log.close()
    (partition,) = (tmp_path / "served").iterdir()  # written whole, then renamed: no leftover
    assert partition.suffix == ".csv"
    assert partition.stem.count("-") == 2  # <timestamp>-<pid>-<sequence>
    written = read_partitions(tmp_path / "served")
    expected = pd.concat(
        [batch.join(model.score(batch).drop(columns="customer_id")) for batch in batches],
        ignore_index=True,
    )
    assert list(written.columns) == [*expected.columns, SERVED_AT]
    pd.testing.assert_frame_equal(
        written.drop(columns=SERVED_AT), expected, check_dtype=False, check_exact=False, rtol=1e-12
    )
    assert pd.to_datetime(written[SERVED_AT], format="ISO8601").notna().all()


@pytest.mark.parametrize(
    ("options", "appends"),
    [({"flush_s": 3600, "flush_rows": 4}, 2), ({"flush_s": 0.05, "flush_rows": 10**6}, 1)],
    ids=["by rows", "by time"],
)
def test_partitions_are_flushed_while_serving(model, tmp_path, options, appends):
    log = TrafficLog(csv_partitions(tmp_path), **options)
    batch = raw_rows(3)
    for _ in range(appends):
        log.append(batch, model.score(batch))
    wait_for(lambda: len(list(tmp_path.glob("*.csv"))) == 1)
    assert len(read_partitions(tmp_path)) == 3 * appends
    log.close()
    assert len(read_partitions(tmp_path)) == 3 * appends  # nothing written twice


def test_a_failing_write_is_logged_and_logging_goes_on(model, tmp_path, caplog):
    calls = []
    save = csv_partitions(tmp_path)

    def flaky(partition: str, frame: pd.DataFrame) -> None:
        calls.append(partition)
        if len(calls) == 1:
            raise PermissionError("read-only file system")
        save(partition, frame)

    log = TrafficLog(flaky, flush_s=3600, flush_rows=3)
    batch = raw_rows(3)
    log.append(batch, model.score(batch))
    wait_for(lambda: len(calls) == 1)
    log.append(batch, model.score(batch))
    log.close()
    assert len(calls) == 2
    assert len(read_partitions(tmp_path)) == 3
    assert "could not log 3 served rows" in caplog.text
    assert "read-only file system" in caplog.text


def test_a_full_queue_drops_rows_and_says_so(model, tmp_path, caplog):
    log = TrafficLog(csv_partitions(tmp_path), flush_s=3600, max_pending_rows=4)
    batch = raw_rows(3)
    for _ in range(3):  # 3 rows queued, 3 more (6 >= 4), then 3 dropped
        log.append(batch, model.score(batch))
    log.close()
    assert len(read_partitions(tmp_path)) == 6
    assert "3 served rows were not logged (queue full)" in caplog.text


def test_a_write_waits_for_no_request_in_flight(model, tmp_path):
    log = TrafficLog(csv_partitions(tmp_path), flush_s=3600, flush_rows=3)
    log.activity.begin()  # a request in flight
    batch = raw_rows(3)
    log.append(batch, model.score(batch))
    wait_for(lambda: log.deferred == 1)
    assert not list(tmp_path.glob("*.csv"))  # due, but the server is busy
    log.activity.end()
    wait_for(lambda: len(list(tmp_path.glob("*.csv"))) == 1)
    log.close()
    assert len(read_partitions(tmp_path)) == 3


def test_a_busy_server_gets_its_log_written_all_the_same(model, tmp_path):
    log = TrafficLog(csv_partitions(tmp_path), flush_s=0.05, flush_rows=3)
    log.activity.begin()  # never quiet
    batch = raw_rows(3)
    log.append(batch, model.score(batch))
    wait_for(lambda: len(list(tmp_path.glob("*.csv"))) == 1)
    assert log.deferred == 1
    log.close()
    assert len(read_partitions(tmp_path)) == 3
