"""Prometheus alerting rules on the serving image's ``/metrics`` (``deploy.alerts``): errors,
latency, a shift in the predicted classes' shares, no traffic. Pure: settings in, a rules
document out (``promtool check rules`` accepts it; ``promtool test rules`` proves each fires)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import yaml

if TYPE_CHECKING:
    from kedro_mlops.config.deploy import AlertsConfig

RULES_FILE = "prometheus/rules.yml"  # beside the target's tree, under deploy.output
SCORING_ROUTES = '"/predict|/invocations"'


def alert_rules(alerts: AlertsConfig, service: str) -> dict[str, Any]:
    """The rules document: one group, four alerts, each labelled with the ``service``."""
    held = f"{alerts.for_minutes}m"
    scoring = f"route=~{SCORING_ROUTES}"
    labels = {"severity": "warning", "service": service}
    rules = [
        {
            "alert": "KedroMlopsHighErrorRate",
            "expr": (
                'sum by (job) (rate(kedro_mlops_requests_total{status=~"5.."}[5m])) / '
                f"sum by (job) (rate(kedro_mlops_requests_total[5m])) > {alerts.max_error_rate:g}"
            ),
            "for": held,
            "labels": {**labels, "severity": "critical"},
            "annotations": {
                "summary": f"{service}: more than {alerts.max_error_rate:.0%} of requests fail",
                "description": "{{ $value | humanizePercentage }} of requests answered 5xx "
                "over 5 minutes (job {{ $labels.job }}).",
            },
        },
        {
            "alert": "KedroMlopsHighLatency",
            "expr": (
                "histogram_quantile(0.99, sum by (job, le) "
                f"(rate(kedro_mlops_request_duration_seconds_bucket{{{scoring}}}[5m]))) "
                f"> {alerts.max_p99_latency_s:g}"
            ),
            "for": held,
            "labels": labels,
            "annotations": {
                "summary": f"{service}: p99 latency above {alerts.max_p99_latency_s:g} s",
                "description": "p99 of /predict and /invocations is {{ $value | "
                "humanizeDuration }} (job {{ $labels.job }}).",
            },
        },
        {
            "alert": "KedroMlopsPredictionShareShift",
            "expr": (
                "abs(kedro_mlops_prediction_share - "
                "avg_over_time(kedro_mlops_prediction_share[1d])) "
                f"> {alerts.max_share_shift:g}"
            ),
            "for": held,
            "labels": labels,
            "annotations": {
                "summary": f"{service}: the predicted classes' shares moved",
                "description": "class {{ $labels.prediction }} of version {{ "
                "$labels.model_version }} moved by {{ $value | humanizePercentage }} from its "
                "average of the last day: check the inputs for drift.",
            },
        },
        {
            "alert": "KedroMlopsNoTraffic",
            "expr": (
                f"sum by (job) (rate(kedro_mlops_requests_total{{{scoring}}}"
                f"[{alerts.no_traffic_minutes}m])) == 0"
            ),
            "for": f"{alerts.no_traffic_minutes}m",
            "labels": labels,
            "annotations": {
                "summary": f"{service}: no scoring request for {alerts.no_traffic_minutes} min",
                "description": "No /predict or /invocations request reached job {{ $labels.job "
                "}}: are the clients or the routing broken?",
            },
        },
    ]
    return {"groups": [{"name": f"{service}-serving", "rules": rules}]}


def rules_text(alerts: AlertsConfig, service: str) -> str:
    header = (
        "# Prometheus alerting rules on the serving image's /metrics, written by kedro mlops "
        "deploy\n# (deploy.alerts in mlops.yml). Load them with `rule_files:` in prometheus.yml.\n"
    )
    return header + yaml.safe_dump(alert_rules(alerts, service), sort_keys=False, width=100)
