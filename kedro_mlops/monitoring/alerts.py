"""Alerts: a webhook call when a check changes state (ok -> drift/degraded, and back).

A check's state is ``alert`` (drift, degraded) or ``ok`` (no drift, ok); ``insufficient_labels``
and ``error`` runs say nothing about it. The state before a run is that of the check's last
decisive run in the monitoring history, so an alert goes out once per change however often the
check runs (a first run alerts only when it finds a problem). Slack-compatible webhooks get
``{"text": ...}``, plain ones a JSON object with the check, its state, the previous one and the
figures. A delivery that fails is logged and never fails the check.
"""

from __future__ import annotations

import json
import logging
import os
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from kedro_mlops.config.monitoring import AlertsConfig, WebhookConfig
    from kedro_mlops.monitoring.history import Entry

logger = logging.getLogger(__name__)

ALERT, OK = "alert", "ok"
STATES = {"drift": ALERT, "degraded": ALERT, "no_drift": OK, "ok": OK}


@dataclass(frozen=True)
class Change:
    """A check's state change: what it is now, what it was (``None``: never decided)."""

    check: str
    kind: str
    status: str
    previous: str | None

    def text(self, summary: str) -> str:
        if STATES[self.status] == ALERT:
            was = f" (was {self.previous})" if self.previous else ""
            return f"kedro-mlops: {self.kind} check {self.check!r} is {self.status}{was}: {summary}"
        return (
            f"kedro-mlops: {self.kind} check {self.check!r} recovered: {self.status} "
            f"(was {self.previous}): {summary}"
        )


def change(prior: list[Entry], entry: Entry) -> Change | None:
    """The state change ``entry`` makes after the runs ``prior`` (oldest first), if any."""
    state = STATES.get(entry.status)
    if state is None:
        return None
    previous = next(
        (e.status for e in reversed(prior) if e.check == entry.check and e.status in STATES),
        None,
    )
    before = STATES[previous] if previous else OK
    if state == before:
        return None
    return Change(entry.check, entry.kind, entry.status, previous)


def payload(webhook: WebhookConfig, found: Change, entry: Entry, summary: str) -> dict[str, Any]:
    if webhook.format == "slack":
        return {"text": found.text(summary)}
    return {
        "check": found.check,
        "kind": found.kind,
        "status": found.status,
        "previous": found.previous,
        "state": STATES[found.status],
        "at": entry.at,
        "summary": summary,
        "figures": entry.figures,
    }


def _url(webhook: WebhookConfig) -> str | None:
    if webhook.url:
        return webhook.url
    return os.environ.get(webhook.url_env or "") or None


def notify(alerts: AlertsConfig, prior: list[Entry], entry: Entry, summary: str) -> int:
    """Call the webhooks of ``alerts`` when ``entry`` changes its check's state; how many
    deliveries succeeded. Never raises for a delivery."""
    found = change(prior, entry)
    if found is None:
        return 0
    delivered = 0
    for webhook in alerts.webhooks:
        if webhook.checks and entry.check not in webhook.checks:
            continue
        url = _url(webhook)
        if not url:
            logger.warning(
                "kedro-mlops: alert for %r not sent: no URL (%s is not set)",
                entry.check,
                webhook.url_env,
            )
            continue
        body = json.dumps(payload(webhook, found, entry, summary), default=str).encode()
        request = urllib.request.Request(  # noqa: S310 - the configured webhook (http or https)
            url, data=body, headers={"Content-Type": "application/json"}, method="POST"
        )
        try:
            with urllib.request.urlopen(request, timeout=alerts.timeout_s) as response:  # noqa: S310
                response.read()
            delivered += 1
        except (urllib.error.URLError, OSError, ValueError) as exc:
            logger.warning(
                "kedro-mlops: alert for %r not delivered to %s: %s",
                entry.check,
                webhook.name or "a webhook",
                exc,
            )
    return delivered
