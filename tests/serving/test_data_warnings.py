"""Warnings the model's code gives while scoring: counted by kind in /metrics (over real HTTP, on
the real app and the tiny pipeline, which warns like the starter's), logged once per kind and
minute; other threads, errors and what comes outside scoring untouched."""

from __future__ import annotations

import io
import logging
import re
import threading
import warnings

import httpx
import pytest

from kedro_mlops.serving.app import Limits, ModelHolder, create_app
from kedro_mlops.serving.data_warnings import DataWarnings
from tests.serving.conftest import rows_of, served
from tests.serving.pipeline import UNKNOWN_REGION

RATIO = "Ratio feature %r: %s is 0 in %d of %d rows; the ratio is missing there"
NOTE = (
    " (kedro-mlops: further ones within 60 s are counted in /metrics "
    "as kedro_mlops_data_warnings_total, not logged)"
)


def data_warnings(url: str) -> dict[str, float]:
    text = httpx.get(url + "/metrics", timeout=30).text
    return {
        match[1]: float(match[2])
        for match in re.finditer(
            r'^kedro_mlops_data_warnings_total\{kind="(.*)"\} (\S+)$', text, re.M
        )
    }


def clean_rows(n: int, seed: int = 0) -> list[dict]:
    """Rows that give no warning: tenure never 0, known regions."""
    return [{**row, "tenure_months": 12.0, "region": "north"} for row in rows_of(n, seed)]


def predict(client: httpx.Client, url: str, rows: list[dict]) -> None:
    response = client.post(url + "/predict", json=rows)
    assert response.status_code == 200, response.text


def test_logged_warnings_are_counted_and_logged_once(model, caplog):
    with_zeros = [{**row, "tenure_months": 0.0} for row in clean_rows(2)] + clean_rows(4, 1)
    app = create_app(ModelHolder(model), Limits())
    with caplog.at_level(logging.WARNING), served(app) as url, httpx.Client(timeout=30) as client:
        predict(client, url, clean_rows(5))
        assert data_warnings(url) == {}
        for _ in range(3):
            predict(client, url, with_zeros)
        predict(client, url, clean_rows(5))
        counted = data_warnings(url)
    assert counted == {f"tests.serving.pipeline: {RATIO}": 3.0}
    logged = [record for record in caplog.records if record.name == "tests.serving.pipeline"]
    assert [(record.levelname, record.getMessage()) for record in logged] == [
        (
            "WARNING",
            "Ratio feature 'charges_per_month': tenure_months is 0 in 2 of 6 rows; the ratio "
            f"is missing there{NOTE}",
        )
    ]


def test_python_warnings_are_counted_and_logged_once(model, caplog):
    app = create_app(ModelHolder(model), Limits())
    with caplog.at_level(logging.WARNING), served(app) as url, httpx.Client(timeout=30) as client:
        for unknown in (1, 2, 3):
            rows = [{**row, "region": UNKNOWN_REGION} for row in clean_rows(unknown)]
            predict(client, url, rows + clean_rows(2, 1))
        counted = data_warnings(url)
    assert len(counted) == 1
    ((kind, count),) = counted.items()
    assert re.fullmatch(r"UserWarning \(pipeline\.py:\d+\)", kind)
    assert count == 3.0
    logged = [r.getMessage() for r in caplog.records if r.name.startswith("kedro_mlops")]
    assert len(logged) == 1
    assert logged[0].startswith(
        "kedro-mlops: UserWarning while scoring: 1 of 3 rows have region 'atlantis', unknown "
        "to the model ("
    )
    assert logged[0].endswith(NOTE)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def features():
    """A logger of "the model's code", with the filters it had before the test put back."""
    named = logging.getLogger("tests.serving.features")
    yield named
    assert named.filters == []


def test_one_line_per_kind_and_minute(features, caplog):
    clock, counted = Clock(), []
    thinner = DataWarnings(counted.append, clock=clock)

    def warn(rows: int) -> None:
        with thinner.capture():
            features.warning("%d rows without a contract", rows)

    with caplog.at_level(logging.WARNING):
        warn(1)
        clock.now += 30
        warn(2)
        warn(3)
        clock.now += 31  # a minute since the first line
        warn(4)
        warn(5)
    thinner.close()
    assert counted == ["tests.serving.features: %d rows without a contract"] * 5
    assert [record.getMessage() for record in caplog.records] == [
        f"1 rows without a contract{NOTE}",
        "4 rows without a contract (kedro-mlops: 2 more since the last one; further ones "
        "within 60 s are counted in /metrics as kedro_mlops_data_warnings_total, not logged)",
    ]


def test_other_threads_errors_and_unscored_code_pass_untouched(features, caplog):
    counted = []
    thinner = DataWarnings(counted.append)
    factory, show = logging.getLogRecordFactory(), warnings.showwarning
    with caplog.at_level(logging.WARNING):
        with thinner.capture():
            features.warning("while scoring")
            other = threading.Thread(target=features.warning, args=("from another thread",))
            other.start()
            other.join()
            features.error("an error while scoring")
            features.warning("while scoring")  # thinned
        features.warning("after scoring")
    thinner.close()
    assert counted == ["tests.serving.features: while scoring"] * 2
    assert [record.getMessage() for record in caplog.records] == [
        f"while scoring{NOTE}",
        "from another thread",
        "an error while scoring",
        "after scoring",
    ]
    assert (logging.getLogRecordFactory(), warnings.showwarning) == (factory, show)


def test_messages_formatted_before_logging_are_counted_as_other_past_a_limit(features):
    counted = []
    thinner = DataWarnings(counted.append, max_kinds=2)
    with thinner.capture():
        for rows in range(4):
            features.warning(f"{rows} rows without a contract")
    thinner.close()
    assert counted == [
        "tests.serving.features: 0 rows without a contract",
        "tests.serving.features: 1 rows without a contract",
        "other",
        "other",
    ]


def test_the_note_shows_in_kedros_console(features):
    # `kedro mlops serve` logs through Kedro's RichHandler, whose markup takes [...] for a style
    from kedro.logging import RichHandler  # noqa: PLC0415
    from rich.console import Console  # noqa: PLC0415

    console = Console(file=io.StringIO(), width=400)
    handler = RichHandler(console=console)
    features.addHandler(handler)
    thinner = DataWarnings(lambda kind: None)
    try:
        with thinner.capture():
            features.warning("%d rows without a contract", 3)
    finally:
        features.removeHandler(handler)
        thinner.close()
    assert f"3 rows without a contract{NOTE}" in console.file.getvalue()
