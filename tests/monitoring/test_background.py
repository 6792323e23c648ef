"""The worker process a `kedro run` checks drift in gives what the same check gives in-process."""

from __future__ import annotations

import os
from dataclasses import asdict

import yaml

from kedro_mlops.config import DEFAULT_DRIFT_SHARE, DriftCheckConfig
from kedro_mlops.monitoring import Methods, background
from kedro_mlops.monitoring.background import CheckWorker
from kedro_mlops.monitoring.check import CheckResult, feature_verdicts
from kedro_mlops.starters import project_template_dir
from tests.monitoring.conftest import KINDS, frames


def verdicts(result: CheckResult) -> list[dict]:
    """Each column's verdict; scores to 12 digits (another process may sum in another order)."""
    rows = [asdict(column) for column in result.columns]
    return [
        {**row, "score": round(row["score"], 12)} if row.get("score") is not None else row
        for row in rows
    ]


def test_the_worker_gives_the_in_process_verdicts_and_report(tmp_path):
    reference, current = frames(3000, 2000)
    arguments = {
        "methods": Methods(),
        "drift_share": 0.3,
        "min_rows": 10,
        "explicit": frozenset(KINDS),
        "names": ("reference", "current"),
        "html_max_rows": 1000,
    }
    here = feature_verdicts(
        "batch", reference, current, dict(KINDS), html_path=tmp_path / "a.html", **arguments
    )
    worker = CheckWorker()
    try:
        future = worker.submit(
            feature_verdicts,
            "batch",
            reference,
            current,
            dict(KINDS),
            html_path=tmp_path / "b.html",
            **arguments,
        )
        there = future.result(timeout=300)
    finally:
        worker.shutdown()
    assert there.status == here.status == "drift"
    assert verdicts(there) == verdicts(here)
    assert (there.drift_share, there.skipped, there.rows) == (here.drift_share, {}, here.rows)
    assert (here.report, there.report) == ("a.html", "b.html")
    assert (tmp_path / "b.html").stat().st_size > 100_000


def test_one_drift_share_default_everywhere():
    starter = yaml.safe_load((project_template_dir() / "conf" / "base" / "mlops.yml").read_text())
    checks = starter["monitoring"]["checks"]
    shipped = {check["drift_share"] for check in checks if check.get("kind", "drift") == "drift"}
    assert shipped == {DEFAULT_DRIFT_SHARE}
    # a check overridden in conf/local without drift_share, and the CLI's file mode
    assert DriftCheckConfig(name="x", reference="a", current="b").drift_share == shipped.pop()
    assert CheckResult(name="x", status="no_drift").threshold_share == DEFAULT_DRIFT_SHARE


def test_kedro_runs_worker_is_claimed_once_or_stopped_without_waiting():
    background.prestart()
    worker = background.claim()  # the monitoring hook's, when the pipeline has checks
    try:
        assert worker.submit(sum, [1, 2]).result(timeout=300) == 3
        other = background.claim()  # none prestarted: a new one
        assert other is not worker
        other.shutdown(cancel=True)
    finally:
        worker.shutdown()
    assert not alive(worker.pid)
    assert not alive(other.pid)

    pid = background.prestart().pid  # a pipeline without checks: stopped during its imports
    background.discard()
    assert not alive(pid)
    background.discard()  # nothing left to stop


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True
