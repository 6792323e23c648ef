"""The Prometheus alerting rules `kedro mlops deploy` writes: valid for promtool, and each alert
fires on synthetic series that should fire it and not on healthy ones (`promtool test rules`)."""

from __future__ import annotations

import subprocess

import pytest
import yaml

from kedro_mlops.config.deploy import AlertsConfig
from kedro_mlops.deploy.alerts import alert_rules, rules_text
from tests.deploy.conftest import required_tool

SERVICE = "bar-demo-serve"
LABELS = {"severity": "warning", "service": SERVICE}


@pytest.fixture(scope="module")
def promtool() -> str:
    return required_tool("promtool", "Debian: apt-get install prometheus")


def run(*args: str, cwd) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, cwd=cwd, capture_output=True, text=True, check=False, timeout=120)


def test_promtool_accepts_the_rules(promtool, tmp_path):
    (tmp_path / "rules.yml").write_text(rules_text(AlertsConfig(), SERVICE))
    checked = run(promtool, "check", "rules", "rules.yml", cwd=tmp_path)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "SUCCESS: 4 rules found" in checked.stdout


def requests(job: str, status: str, series: str) -> dict:
    labels = f'job="{job}",route="/predict",method="POST",status="{status}"'
    return {"series": f"kedro_mlops_requests_total{{{labels}}}", "values": series}


def latency(job: str, counts: dict[str, str]) -> list[dict]:
    return [
        {
            "series": f'kedro_mlops_request_duration_seconds_bucket{{job="{job}",'
            f'route="/predict",le="{le}"}}',
            "values": values,
        }
        for le, values in counts.items()
    ]


def share(job: str, values: str) -> dict:
    labels = f'job="{job}",model_version="1",prediction="yes"'
    return {"series": f"kedro_mlops_prediction_share{{{labels}}}", "values": values}


def fired(alert: str, at: str, *labels: dict) -> dict:
    return {
        "eval_time": at,
        "alertname": alert,
        "exp_alerts": [{"exp_labels": label} for label in labels],
    }


def test_each_alert_fires_when_it_should_and_not_otherwise(promtool, tmp_path):
    rules = alert_rules(AlertsConfig(), SERVICE)
    for rule in rules["groups"][0]["rules"]:
        rule.pop("annotations")  # what is tested is when they fire
    (tmp_path / "rules.yml").write_text(yaml.safe_dump(rules))
    tests = {
        "rule_files": ["rules.yml"],
        "evaluation_interval": "1m",
        "tests": [
            {
                "interval": "1m",
                "input_series": [
                    # 10 % of requests fail on "bad", 1 % on "good"
                    requests("bad", "200", "0+90x30"),
                    requests("bad", "500", "0+10x30"),
                    requests("good", "200", "0+99x30"),
                    requests("good", "500", "0+1x30"),
                    # p99 between 0.5 s and 1 s on "slow", under 0.1 s on "fast"
                    *latency(
                        "slow",
                        {"0.1": "0+1x30", "0.5": "0+2x30", "1": "0+100x30", "+Inf": "0+100x30"},
                    ),
                    *latency(
                        "fast",
                        {"0.1": "0+100x30", "0.5": "0+100x30", "1": "0+100x30", "+Inf": "0+100x30"},
                    ),
                ],
                "alert_rule_test": [
                    fired(
                        "KedroMlopsHighErrorRate",
                        "10m",
                        {**LABELS, "severity": "critical", "job": "bad"},
                    ),
                    fired("KedroMlopsHighErrorRate", "3m"),  # not for 5 minutes yet
                    fired("KedroMlopsHighLatency", "10m", {**LABELS, "job": "slow"}),
                    # traffic on every job: none is silent
                    fired("KedroMlopsNoTraffic", "25m"),
                ],
            },
            {
                "interval": "1m",
                "input_series": [
                    # "yes" went from 30 % to 80 % of the answers two hours in; "steady" stayed
                    share("shifted", "0.3x120 0.8x60"),
                    share("steady", "0.3x180"),
                    # "silent" stopped receiving requests after 10 minutes
                    requests("silent", "200", "0+10x10 100x40"),
                    requests("busy", "200", "0+10x50"),
                ],
                "alert_rule_test": [
                    fired(
                        "KedroMlopsPredictionShareShift",
                        "150m",
                        {**LABELS, "job": "shifted", "model_version": "1", "prediction": "yes"},
                    ),
                    fired("KedroMlopsPredictionShareShift", "60m"),
                    fired("KedroMlopsNoTraffic", "45m", {**LABELS, "job": "silent"}),
                    fired("KedroMlopsNoTraffic", "20m"),  # not for 15 minutes yet
                ],
            },
        ],
    }
    (tmp_path / "test.yml").write_text(yaml.safe_dump(tests, sort_keys=False))
    tested = run(promtool, "test", "rules", "test.yml", cwd=tmp_path)
    assert tested.returncode == 0, tested.stdout + tested.stderr
    assert "SUCCESS" in tested.stdout


def test_a_broken_expectation_fails_the_test(promtool, tmp_path):
    """The test above can fail: an alert said to fire on healthy series makes promtool fail."""
    (tmp_path / "rules.yml").write_text(yaml.safe_dump(alert_rules(AlertsConfig(), SERVICE)))
    tests = {
        "rule_files": ["rules.yml"],
        "evaluation_interval": "1m",
        "tests": [
            {
                "interval": "1m",
                "input_series": [requests("good", "200", "0+99x30")],
                "alert_rule_test": [
                    fired("KedroMlopsHighErrorRate", "10m", {**LABELS, "job": "good"})
                ],
            }
        ],
    }
    (tmp_path / "test.yml").write_text(yaml.safe_dump(tests))
    tested = run(promtool, "test", "rules", "test.yml", cwd=tmp_path)
    assert tested.returncode == 1
    assert "FAILED" in tested.stdout + tested.stderr
