"""Alerts: a local HTTP receiver gets one call per state change (ok -> degraded -> ok), none
repeated; insufficient labels say nothing; a receiver that is down never fails the check."""

from __future__ import annotations

import json
import logging
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from kedro_mlops.config import parse_config
from kedro_mlops.errors import ConfigError
from kedro_mlops.monitoring.monitor import record
from tests.monitoring.test_history import drift, quality


@pytest.fixture
def receiver():
    received: list[dict] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            length = int(self.headers["Content-Length"])
            received.append({"path": self.path, "body": json.loads(self.rfile.read(length))})
            self.send_response(200)
            self.end_headers()

        def log_message(self, *_args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", received
    server.shutdown()
    server.server_close()


def monitoring(url: str, **webhook):
    hooks = [{"url": f"{url}/slack", "format": "slack"}, {"url": f"{url}/json", **webhook}]
    return parse_config({"monitoring": {"alerts": {"webhooks": hooks}}}).monitoring


def test_one_alert_per_state_change_none_repeated(receiver, tmp_path):
    url, received = receiver
    config = monitoring(url)
    path = tmp_path / "history.jsonl"
    runs = [
        quality(0.83, "ok"),  # first run, fine: nothing to say
        quality(0.60, "degraded"),  # ok -> degraded: alert
        quality(0.58, "degraded"),  # still degraded: no repeat
        quality(0.0, "insufficient_labels", labelled=3),  # says nothing about the state
        quality(0.59, "degraded"),
        quality(0.84, "ok"),  # recovered: alert
        quality(0.85, "ok"),
        drift(0.0, []),  # another check, fine from its first run: nothing
    ]
    for result in runs:
        record(path, result, config)
    slack = [r["body"]["text"] for r in received if r["path"] == "/slack"]
    plain = [r["body"] for r in received if r["path"] == "/json"]
    assert len(slack) == len(plain) == 2
    assert slack[0].startswith(
        "kedro-mlops: performance check 'served_quality' is degraded (was ok): performance "
        "check 'served_quality': DEGRADED"
    )
    assert "churn/2 degraded: roc_auc 0.6" in slack[0]
    assert slack[1].startswith(
        "kedro-mlops: performance check 'served_quality' recovered: ok (was degraded)"
    )
    assert [(p["status"], p["previous"], p["state"]) for p in plain] == [
        ("degraded", "ok", "alert"),
        ("ok", "degraded", "ok"),
    ]
    assert plain[0]["figures"]["versions"]["churn/2"]["value"] == 0.60


def test_a_first_run_with_drift_alerts_and_a_webhook_can_be_limited_to_checks(receiver, tmp_path):
    url, received = receiver
    config = monitoring(url, checks=["served_quality"])
    record(tmp_path / "history.jsonl", drift(0.67, ["age", "tenure"]), config)
    assert [r["path"] for r in received] == ["/slack"]
    assert "drift check 'production_batch' is drift: drift check" in received[0]["body"]["text"]


def test_a_failed_delivery_is_logged_never_raised(tmp_path, caplog, monkeypatch):
    config = parse_config(
        {
            "monitoring": {
                "alerts": {
                    "webhooks": [
                        {"name": "down", "url": "http://127.0.0.1:9/x"},
                        {"name": "secret", "url_env": "ALERT_URL"},
                    ],
                    "timeout_s": 1,
                }
            }
        }
    ).monitoring
    monkeypatch.delenv("ALERT_URL", raising=False)
    with caplog.at_level(logging.WARNING, "kedro_mlops"):
        record(tmp_path / "history.jsonl", quality(0.5, "degraded"), config)
    messages = " | ".join(r.getMessage() for r in caplog.records)
    assert "alert for 'served_quality' not delivered to down:" in messages
    assert "alert for 'served_quality' not sent: no URL (ALERT_URL is not set)" in messages
    assert len((tmp_path / "history.jsonl").read_text().splitlines()) == 2  # header + the run


def test_a_webhook_needs_a_url():
    with pytest.raises(ConfigError, match="a webhook needs url or url_env"):
        parse_config({"monitoring": {"alerts": {"webhooks": [{"format": "slack"}]}}})
