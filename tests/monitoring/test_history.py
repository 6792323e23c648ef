"""The monitoring history: appended by rename under a lock, never lost or truncated; a corrupt or
older file is one clear message (exit 2); the timeline, the dashboard, and their speed."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from datetime import datetime, timedelta, timezone

import pytest
from click.testing import CliRunner

from kedro_mlops.cli import commands
from kedro_mlops.monitoring import history
from kedro_mlops.monitoring.check import CheckResult
from kedro_mlops.monitoring.dashboard import page
from kedro_mlops.monitoring.drift import ColumnDrift
from kedro_mlops.monitoring.performance import PerformanceResult, VersionQuality
from tests.test_cli_exit_codes import tiny  # noqa: F401 - the fixture, shared

START = (datetime.now(timezone.utc) - timedelta(days=100)).replace(
    microsecond=0
)  # 1000 h: all older than 50 days


def drift(share: float, drifted: list[str]) -> CheckResult:
    columns = [
        ColumnDrift(
            column=c,
            kind="numerical",
            role="feature",
            method="ks",
            method_name="K-S p_value",
            score=0.01,
            threshold=0.05,
            drifted=c in drifted,
        )
        for c in ("age", "tenure", "charges")
    ]
    return CheckResult(
        name="production_batch",
        status="drift" if drifted else "no_drift",
        drift_share=share,
        dataset_drift=bool(drifted),
        columns=columns,
    )


def quality(value: float, status: str, labelled: int = 200) -> PerformanceResult:
    version = VersionQuality(
        version="churn/2",
        rows=400,
        labelled=labelled,
        status=status,
        metric="roc_auc",
        value=value,
        baseline=0.84,
        drop=0.84 - value,
    )
    return PerformanceResult(
        name="served_quality", status=status, metric="roc_auc", versions=[version]
    )


def stored(path, runs: int) -> None:
    """``runs`` check runs, alternately drift and performance, an hour apart."""
    lines = [json.dumps(history.HEADER)]
    for number in range(runs):
        result = drift(0.4, ["age"]) if number % 2 else quality(0.8, "ok")
        entry = history.entry_of(result)
        at = (START + timedelta(hours=number)).isoformat(timespec="seconds")
        lines.append(
            history.Entry(at, entry.check, entry.kind, entry.status, entry.figures).to_json()
        )
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n")


def test_runs_are_appended_in_order_and_read_back(tmp_path):
    path = tmp_path / "monitoring" / "history.jsonl"
    history.append(path, history.entry_of(drift(0.33, ["age"])))
    history.append(path, history.entry_of(quality(0.61, "degraded")))
    entries = history.read(path)
    assert [(e.kind, e.status) for e in entries] == [
        ("drift", "drift"),
        ("performance", "degraded"),
    ]
    assert entries[0].figures["columns"]["age"] == {
        "score": 0.01,
        "drifted": True,
        "role": "feature",
    }
    assert entries[1].figures["versions"]["churn/2"]["value"] == 0.61
    lines = history.timeline(path)
    assert lines[0].endswith("production_batch  drift  drift share 33%: age")
    assert (
        "served_quality  degraded  churn/2 degraded roc_auc 0.61 (test 0.84), 200/400 labelled"
        in lines[1]
    )
    assert history.timeline(path, check="nope") == [f"no check run of check 'nope' in {path}"]
    assert not list(path.parent.glob(".history.jsonl.*[!k]"))  # no temporary file left


def test_a_check_that_could_not_run_says_why_in_the_timeline(tmp_path):
    path = tmp_path / "history.jsonl"
    failed = PerformanceResult(name="batch_quality", status="error", error="no column 'label'")
    history.append(path, history.entry_of(failed))
    (line,) = history.timeline(path)
    assert line.endswith("  batch_quality  error  no column 'label'")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            '{"format": "kedro-mlops-monitoring-history", "version": 1}\n{"at": \n',
            "line 2 is corrupt (not a check run)",
        ),
        (
            '{"format": "kedro-mlops-monitoring-history", "version": 0}\n',
            "of format version 0; this kedro-mlops reads version 1",
        ),
        ("at,check\n", "is not a kedro-mlops monitoring history (line 1 is not its header)"),
    ],
)
def test_a_corrupt_or_older_history_is_one_message_and_never_rewritten(tmp_path, text, message):
    path = tmp_path / "history.jsonl"
    path.write_text(text)
    for action in (
        lambda: history.read(path),
        lambda: history.append(path, history.entry_of(drift(0.0, []))),
    ):
        with pytest.raises(history.HistoryError, match=re.escape(message)) as caught:
            action()
        assert caught.value.exit_code == 2
        assert "move it aside" in caught.value.message and "\n" not in caught.value.message
    assert path.read_text() == text


def test_a_failed_write_leaves_the_history_as_it_was(tmp_path, monkeypatch):
    path = tmp_path / "history.jsonl"
    history.append(path, history.entry_of(drift(0.0, [])))
    before = path.read_text()

    def broken(*_args):
        raise OSError("disk full")

    monkeypatch.setattr(history.os, "replace", broken)
    with pytest.raises(OSError, match="disk full"):
        history.append(path, history.entry_of(drift(0.5, ["age"])))
    assert path.read_text() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == [".history.jsonl.lock", "history.jsonl"]


def test_since_and_check_select_runs():
    now = START + timedelta(days=10)
    assert history.since_time("2w", now) == now - timedelta(weeks=2)
    with pytest.raises(history.HistoryError, match="--since '30 days': expected a number"):
        history.since_time("30 days")


def test_the_dashboard_draws_drift_quality_and_coverage(tmp_path):
    path = tmp_path / "history.jsonl"
    stored(path, 6)
    html = page(history.read(path), "history.jsonl")
    assert 'data-series="drift_share:production_batch" data-points="3"' in html
    assert 'data-series="quality:served_quality:churn/2" data-points="3"' in html
    assert 'data-series="coverage:served_quality:churn/2"' in html
    assert 'data-series="test:served_quality:churn/2"' in html
    assert 'data-series="score:production_batch:age" data-points="3"' in html
    assert "http" not in html.replace("http-equiv", "")  # nothing fetched


def test_history_and_dashboard_commands_over_1000_runs(tiny, tmp_path):  # noqa: F811 - timed in benchmarks/history.py
    root, metadata = tiny
    stored(root / "data" / "08_reporting" / "monitoring" / "history.jsonl", 1000)
    runner = CliRunner()
    timeline = runner.invoke(
        commands, ["mlops", "monitor", "--history", "--check", "production_batch"], obj=metadata
    )
    assert timeline.exit_code == 0, timeline.output
    assert len(timeline.output.splitlines()) == 500
    drawn = runner.invoke(commands, ["mlops", "monitor", "--dashboard"], obj=metadata)
    assert drawn.exit_code == 0, drawn.output
    written = root / "data" / "08_reporting" / "monitoring" / "dashboard.html"
    assert drawn.output.strip() == str(written)
    assert written.stat().st_size > 10_000
    since = runner.invoke(
        commands, ["mlops", "monitor", "--history", "--since", "1d"], obj=metadata
    )
    assert since.exit_code == 0 and "no check run in the last 1d" in since.output


def test_a_corrupt_history_exits_2_with_one_line(tiny):  # noqa: F811
    root, metadata = tiny
    path = root / "data" / "08_reporting" / "monitoring" / "history.jsonl"
    path.parent.mkdir(parents=True)
    path.write_text("garbage\n")
    result = CliRunner().invoke(commands, ["mlops", "monitor", "--history"], obj=metadata)
    assert result.exit_code == 2
    assert "is not a kedro-mlops monitoring history" in result.output
    assert "Traceback" not in result.output
    assert path.read_text() == "garbage\n"


CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
REQUIRE_TOOLS = os.environ.get("KEDRO_MLOPS_REQUIRE_CI_TOOLS") == "1"


def test_the_dashboard_in_headless_chromium(tmp_path):
    """The page as a browser builds it: the drift and quality series are in its DOM; a
    screenshot is taken (kept beside the page)."""
    if CHROMIUM is None:
        if REQUIRE_TOOLS:
            pytest.fail("KEDRO_MLOPS_REQUIRE_CI_TOOLS=1 but chromium is not installed")
        pytest.skip("chromium is not installed (Debian: apt-get install chromium)")
    path = tmp_path / "history.jsonl"
    stored(path, 40)
    dashboard = tmp_path / "dashboard.html"
    dashboard.write_text(page(history.read(path), path.name))
    flags = [
        CHROMIUM,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--no-first-run",
        f"--user-data-dir={tmp_path / 'profile'}",
    ]
    dom = subprocess.run(
        [*flags, "--dump-dom", dashboard.as_uri()],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    ).stdout
    series = re.findall(r'<g class="series" data-series="([^"]+)" data-points="(\d+)"', dom)
    assert ("drift_share:production_batch", "20") in series
    assert ("quality:served_quality:churn/2", "20") in series
    assert ("coverage:served_quality:churn/2", "20") in series
    assert ("score:production_batch:age", "20") in series
    assert dom.count("<polyline") == 4
    shot = tmp_path / "dashboard.png"
    subprocess.run(
        [*flags, f"--screenshot={shot}", "--window-size=800,1400", dashboard.as_uri()],
        capture_output=True,
        timeout=60,
        check=True,
    )
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
