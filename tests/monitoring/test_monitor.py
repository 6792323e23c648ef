"""`kedro mlops monitor` from Python (`monitoring.monitor`), without click: the report, its
lines, and every failure before a verdict as exit 2, never 1."""

from __future__ import annotations

import pytest

from kedro_mlops.config import MlopsConfig
from kedro_mlops.errors import EXIT_INPUT, ConfigError
from kedro_mlops.monitoring.monitor import MonitorError, monitor_files, monitor_named
from tests.monitoring.conftest import frames


@pytest.fixture
def files(tmp_path):
    reference, current = frames(400, 300)
    paths = tmp_path / "reference.csv", tmp_path / "current.csv"
    reference.to_csv(paths[0], index=False)
    current.drop(columns=["binary_cat"]).to_csv(paths[1], index=False)
    return paths


def test_two_files_give_a_report_with_the_check_line(files, tmp_path):
    report = monitor_files(
        MlopsConfig, tmp_path, *files, name="adhoc", no_html=True, fail_on_drift=True
    )
    lines = report.lines()
    assert lines[0].startswith("drift check 'adhoc': DRIFT (")
    assert lines[0].endswith(f" -> {report.location}")
    assert lines[1:] == [f"  not tested: binary_cat: only in {files[0]}"]
    assert report.location.parent == tmp_path / "data/08_reporting/drift/adhoc"
    assert (report.location / "summary.json").exists()
    assert not (report.location / "report.html").exists()
    assert report.failed  # drift, and asked to fail on it
    report.raise_for_error()  # the check ran: nothing to raise


def test_drift_without_a_fail_policy_does_not_fail(files, tmp_path):
    report = monitor_files(MlopsConfig, tmp_path, *files, no_html=True, output=tmp_path / "out")
    assert report.result.status == "drift"
    assert not report.failed
    assert report.location == tmp_path / "out"


def test_a_check_that_cannot_run_is_reported_then_raised(files, tmp_path):
    report = monitor_files(MlopsConfig, tmp_path, *files, columns=["binary_cat"], no_html=True)
    assert report.lines()[0].startswith("drift check 'adhoc': ERROR ")
    assert "binary_cat" in report.lines()[0]
    with pytest.raises(MonitorError, match="drift check 'adhoc' could not run: ") as caught:
        report.raise_for_error()
    assert caught.value.exit_code == EXIT_INPUT


@pytest.mark.parametrize(
    ("failure", "message"),
    [
        (ConfigError("Invalid kedro-mlops configuration in mlops.yml: x"), "Invalid kedro-mlops"),
        (RuntimeError("the store is gone"), "drift check failed: RuntimeError: the store is gone"),
    ],
)
def test_whatever_stops_a_check_before_its_verdict_exits_2(failure, message):
    def load():
        raise failure

    with pytest.raises(MonitorError, match=message) as caught:
        monitor_named(load, "production_batch")
    assert caught.value.exit_code == EXIT_INPUT
