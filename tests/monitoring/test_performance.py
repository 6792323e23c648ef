"""Performance checks: predictions joined with labels, judged per version against its test
metrics; the metrics equal scikit-learn's; bad labels are one clear error."""

from __future__ import annotations

import json
import uuid
from datetime import datetime, timedelta, timezone
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
from sklearn import metrics as sk

from kedro_mlops import metrics
from kedro_mlops.config import MlopsConfig, parse_config
from kedro_mlops.errors import ConfigError
from kedro_mlops.monitoring.monitor import MonitorError, monitor_checks, monitor_named
from kedro_mlops.monitoring.performance import Target, id_keys, score_predictions

NOW = datetime(2026, 12, 1, tzinfo=timezone.utc)
TARGET = Target("customer_id", "yes", "roc_auc", "maximize", "churn")


def served(rows: int, version: str, *, good: bool, seed: int, start: int = 0) -> pd.DataFrame:
    """Served rows of one version whose scores separate the classes well (good) or not."""
    rng = np.random.default_rng(seed)
    truth = rng.integers(0, 2, rows)
    noise = rng.random(rows)
    score = 0.7 * truth + 0.3 * noise if good else 0.1 * truth + 0.9 * noise
    return pd.DataFrame(
        {
            "customer_id": np.arange(start, start + rows),
            "prediction": np.where(score >= 0.5, "yes", "no"),
            "probability": score,
            "model_registry": f"churn/{version}",
            "served_at": [(NOW - timedelta(hours=2 * i)).isoformat() for i in range(rows)],
            "truth": np.where(truth == 1, "yes", "no"),
        }
    )


def labels_of(frame: pd.DataFrame, share: float = 1.0) -> pd.DataFrame:
    part = frame.iloc[: int(len(frame) * share)]
    known = pd.to_datetime(part["served_at"]) + timedelta(hours=5)
    return pd.DataFrame(
        {"customer_id": part["customer_id"], "label": part["truth"], "known_at": known}
    )


def settings(**values: object):
    config = {"name": "q", "kind": "performance", "current": "served_traffic"}
    check = parse_config({"monitoring": {"checks": [{**config, "performance": values}]}})
    return check.monitoring.checks[0].performance


BASELINES = {"churn/1": {"roc_auc": 0.95, "f1": 0.9}, "churn/2": {"roc_auc": 0.95}}


def score(predictions, labels, **values):
    return score_predictions(
        "q",
        predictions,
        labels,
        settings(**values),
        TARGET,
        baselines=BASELINES.get,
        now=NOW,
    )


def test_a_worse_version_is_degraded_the_good_one_ok_with_interval_coverage_and_delay():
    good, bad = served(400, "1", good=True, seed=1), served(400, "2", good=False, seed=2, start=400)
    good["served_at"] = [(NOW - timedelta(hours=900 + i)).isoformat() for i in range(400)]
    result = score(pd.concat([good, bad]), pd.concat([labels_of(good, 0.5), labels_of(bad, 0.5)]))
    assert result.status == "degraded"  # the newest rows' version, 2, is
    versions = {v.version: v for v in result.versions}
    assert versions["churn/1"].status == "ok"
    worse = versions["churn/2"]
    assert worse.status == "degraded"
    assert worse.labelled == 200 and worse.labelled_share == 0.5
    assert worse.value < 0.8 and worse.drop > 0.05
    low, high = worse.interval
    assert low < worse.value < high
    assert worse.label_delay_hours == pytest.approx(5.0)
    assert set(worse.metrics) >= {"roc_auc", "precision", "recall", "f1", "log_loss", "brier"}
    assert "positive_rate" in worse.metrics
    line = result.summary("out")
    assert line.startswith("performance check 'q': DEGRADED (all, 400/800 rows labelled)")
    assert "churn/2 degraded: roc_auc" in line and "max_drop 0.05" in line


def test_a_later_good_version_recovers_the_check_once_it_can_be_judged():
    bad, good = served(400, "1", good=False, seed=2), served(400, "2", good=True, seed=1, start=400)
    bad["served_at"] = [(NOW - timedelta(hours=100 + i)).isoformat() for i in range(400)]
    served_rows = pd.concat([good, bad])  # version 2 answers the newest rows (served_at)
    recovered = score(served_rows, pd.concat([labels_of(bad, 0.5), labels_of(good, 0.5)]))
    assert recovered.status == "ok"
    versions = {v.version: v.status for v in recovered.versions}
    assert versions == {"churn/1": "degraded", "churn/2": "ok"}  # its line still says so
    too_few = score(served_rows, pd.concat([labels_of(bad, 0.5), labels_of(good, 0.05)]))
    assert too_few.status == "degraded"  # version 2 cannot be judged yet: version 1 decides


def test_few_labels_are_insufficient_never_a_silent_pass():
    good = served(400, "1", good=True, seed=1)
    result = score(good, labels_of(good).head(10))
    assert result.status == "insufficient_labels"
    assert result.versions[0].note == "10 labelled rows < min_labels 100"
    assert "INSUFFICIENT LABELS" in result.summary()


def test_a_version_without_test_metrics_cannot_pass():
    frame = served(300, "7", good=True, seed=3)
    result = score(frame, labels_of(frame))
    assert result.status == "insufficient_labels"
    assert "no test roc_auc logged for churn/7" in result.versions[0].note
    # rows that name no registered version, and whose content version was not found
    frame["model_registry"] = ""
    result = score(frame, labels_of(frame))
    assert result.status == "insufficient_labels"
    assert result.versions[0].note == (
        "no registered version named by answered_by, model_registry nor found by model_version "
        "(e.g. the registry is off): no test roc_auc to compare with; score batches with "
        "serving.model_uri: models:/churn@champion"
    )


def test_the_window_keeps_recent_rows_and_rollout_rows_go_to_the_version_that_answered():
    frame = served(300, "1", good=True, seed=4)
    frame["answered_by"] = np.where(frame.index % 3 == 0, 2, np.nan)  # canary rows
    result = score(frame, labels_of(frame), window="7d", min_labels=5)
    assert result.rows == 85  # one row every 2 hours for 7 days, both ends
    assert {v.version: v.rows for v in result.versions} == {"churn/1": 56, "churn/2": 29}


def test_unknown_ids_are_counted_and_a_label_outside_the_classes_is_an_error():
    frame = served(200, "1", good=True, seed=5)
    labels = labels_of(frame)
    extra = pd.DataFrame({"customer_id": [10_000, 10_001], "label": ["yes", "no"]})
    result = score(frame, pd.concat([labels, extra]))
    assert result.unknown_label_ids == 2
    assert "2 labels name ids never predicted" in result.summary()
    labels.loc[3, "label"] = "maybe"
    with pytest.raises(Exception, match=r"hold \['maybe'\], not a class of the target"):
        score(frame, labels)


def test_metrics_equal_scikit_learn():
    rng = np.random.default_rng(0)
    truth = rng.integers(0, 2, 500)
    prob = np.round(rng.random(500) * 0.6 + truth * 0.4, 2)  # ties
    predicted = (prob >= 0.5).astype(int)
    values = metrics.all_metrics(truth, prob, predicted)
    expected = {
        "roc_auc": sk.roc_auc_score(truth, prob),
        "average_precision": sk.average_precision_score(truth, prob),
        "log_loss": sk.log_loss(truth, prob),
        "brier": sk.brier_score_loss(truth, prob),
        "accuracy": sk.accuracy_score(truth, predicted),
        "precision": sk.precision_score(truth, predicted),
        "recall": sk.recall_score(truth, predicted),
        "f1": sk.f1_score(truth, predicted),
        "positive_rate": predicted.mean(),
    }
    assert values == pytest.approx(expected, abs=1e-12)
    assert metrics.all_metrics(np.ones(5, int), np.full(5, 0.6), np.ones(5, int))["roc_auc"] is None


def test_config_rejects_drift_settings_on_a_performance_check_and_a_drift_check_needs_reference():
    base = {"name": "q", "kind": "performance", "current": "p"}
    with pytest.raises(ConfigError, match="reference: drift settings, not for kind: performance"):
        parse_config({"monitoring": {"checks": [{**base, "reference": "r"}]}})
    with pytest.raises(ConfigError, match="a drift check needs reference"):
        parse_config({"monitoring": {"checks": [{"name": "d", "current": "c"}]}})
    parsed = parse_config({"monitoring": {"checks": [base]}})
    assert parsed.monitoring.checks[0].performance.window == "all"


def _project(tmp_path, frames: dict[str, pd.DataFrame], checks: list[dict]):
    config = parse_config({"monitoring": {"checks": checks}})
    context = SimpleNamespace(
        catalog=frames,
        params={"dataset": {"id_column": "customer_id", "positive_class": "yes"}},
        project_path=tmp_path,
    )
    return lambda: (context, config)


class Catalog(dict):
    def load(self, name):
        return self[name]


def test_monitor_named_writes_summary_and_page_and_fails_on_degradation(tmp_path, monkeypatch):
    bad = served(300, "2", good=False, seed=6)
    catalog = Catalog(served_traffic=bad, ground_truth=labels_of(bad))
    check = {"name": "quality", "kind": "performance", "current": "served_traffic"}
    load = _project(tmp_path, catalog, [check])
    monkeypatch.setattr("kedro_mlops.monitoring.quality.mlflow_baselines", lambda: BASELINES.get)
    report = monitor_named(load, "quality", fail_on_drift=True)
    assert report.failed and report.result.status == "degraded"
    summary = json.loads((report.location / "summary.json").read_text())
    assert summary["kind"] == "performance"
    assert summary["versions"][0]["labelled_share"] == 1.0
    page = (report.location / "report.html").read_text()
    assert 'data-version="churn/2"' in page and "degraded" in page
    assert not monitor_named(load, "quality").failed  # warn policy: reported, exit 0


def _without_id_column(tmp_path, frame: pd.DataFrame, labels: pd.DataFrame):
    check = {"name": "quality", "kind": "performance", "current": "served_traffic"}
    context, config = _project(
        tmp_path, Catalog(served_traffic=frame, ground_truth=labels), [check]
    )()
    context.params = {"dataset": {"positive_class": "yes"}}
    return lambda: (context, config)


def test_without_an_id_column_labels_join_served_rows_by_their_prediction_id(tmp_path, monkeypatch):
    bad = served(300, "2", good=False, seed=6)
    bad["prediction_id"] = [uuid.uuid4().hex for _ in range(len(bad))]
    labels = labels_of(bad).rename(columns={"customer_id": "prediction_id"})
    labels["prediction_id"] = bad["prediction_id"]
    load = _without_id_column(tmp_path, bad.drop(columns="customer_id"), labels)
    monkeypatch.setattr("kedro_mlops.monitoring.quality.mlflow_baselines", lambda: BASELINES.get)
    report = monitor_named(load, "quality", fail_on_drift=True)
    assert report.result.status == "degraded" and report.result.labelled == 300


def test_a_batch_without_an_id_column_cannot_be_joined_and_exits_2(tmp_path, monkeypatch):
    frame = served(50, "1", good=True, seed=7)
    load = _without_id_column(tmp_path, frame, labels_of(frame))
    monkeypatch.setattr("kedro_mlops.monitoring.quality.mlflow_baselines", lambda: BASELINES.get)
    report = monitor_named(load, "quality")
    with pytest.raises(MonitorError) as raised:
        report.raise_for_error()
    assert str(raised.value) == (
        "performance check 'quality' could not run: labels cannot be joined to 'served_traffic': "
        "params dataset.id_column is not set and its rows have no 'prediction_id' (only the "
        "server's answers have one); set an id column or remove check 'quality' from "
        "monitoring.checks"
    )
    assert MlopsConfig().registry.gate.metric == TARGET.metric


def test_no_labels_yet_is_insufficient_labels_not_an_error(tmp_path, monkeypatch):
    class Empty(Catalog):
        def load(self, name):
            if name == "ground_truth":
                raise FileNotFoundError("no partitions")
            return self[name]

    frame = served(50, "1", good=True, seed=8)
    check = {"name": "quality", "kind": "performance", "current": "served_traffic"}
    load = _project(tmp_path, Empty(served_traffic=frame, ground_truth=None), [check])
    monkeypatch.setattr("kedro_mlops.monitoring.quality.mlflow_baselines", lambda: BASELINES.get)
    report = monitor_named(load, "quality", fail_on_drift=True)
    assert report.result.status == "insufficient_labels" and not report.failed
    assert report.result.skipped == {"labels": "no labels in 'ground_truth' yet"}


def test_ids_join_however_the_files_typed_them():
    first, second = id_keys(pd.Series([1.0, 2.0, None]), pd.Series(["2", "x", "1"]))
    assert list(first) == ["1", "2", ""] and list(second) == ["2", "x", "1"]
    first, second = id_keys(pd.Series([3.0, 4.0]), pd.Series([4, 3]))
    assert first.dtype == second.dtype == "int64"


def test_a_performance_check_is_recorded_as_an_mlflow_run(tmp_path, monkeypatch):
    import mlflow  # noqa: PLC0415

    mlflow.set_tracking_uri(f"sqlite:///{tmp_path / 'mlflow.db'}")
    bad = served(300, "2", good=False, seed=9)
    check = {"name": "quality", "kind": "performance", "current": "served_traffic"}
    load = _project(tmp_path, Catalog(served_traffic=bad, ground_truth=labels_of(bad)), [check])
    monkeypatch.setattr("kedro_mlops.monitoring.quality.mlflow_baselines", lambda: BASELINES.get)
    monitor_named(load, "quality", experiment=lambda _context: "churn")
    client = mlflow.MlflowClient()
    (run,) = client.search_runs([client.get_experiment_by_name("churn").experiment_id])
    assert run.info.run_name == "performance-check quality"
    assert run.data.tags["quality.verdict"] == "degraded"
    assert run.data.tags["quality.churn/2.verdict"] == "degraded"
    assert run.data.metrics["quality.churn/2.test"] == 0.95
    assert run.data.metrics["quality.churn/2.labelled_share"] == 1.0
    assert {"quality.churn/2.roc_auc", "quality.churn/2.brier"} <= set(run.data.metrics)
    artifacts = {a.path for a in client.list_artifacts(run.info.run_id, "quality/quality")}
    assert artifacts == {"quality/quality/summary.json", "quality/quality/report.html"}


def test_several_checks_run_in_turn_and_one_that_cannot_run_does_not_stop_the_others(
    tmp_path, monkeypatch
):
    bad = served(300, "2", good=False, seed=10)
    check = {"name": "quality", "kind": "performance", "current": "served_traffic"}
    load = _project(tmp_path, Catalog(served_traffic=bad, ground_truth=labels_of(bad)), [check])
    monkeypatch.setattr("kedro_mlops.monitoring.quality.mlflow_baselines", lambda: BASELINES.get)
    nope, quality = monitor_checks(load, ["nope", "quality"], fail_on_drift=True)
    assert quality.failed and quality.result.status == "degraded"
    assert nope.lines() == [
        "drift check 'nope': ERROR no check 'nope' in monitoring.checks of mlops.yml; "
        "configured: ['quality']"
    ]
    with pytest.raises(MonitorError, match=r"'nope' could not run: no check 'nope' in monitoring"):
        nope.raise_for_error()


def test_a_batch_scored_in_its_training_run_is_judged_as_the_version_it_was_registered_as(
    tmp_path, monkeypatch
):
    """No version column names the rows (the model was registered after the batch was scored):
    the training run tagged with their content version says which version they are."""
    import mlflow  # noqa: PLC0415

    from kedro_mlops.monitoring.quality import mlflow_registered  # noqa: PLC0415
    from kedro_mlops.names import CONTENT_VERSION_TAG, MODEL_TAG, VERSION_TAG  # noqa: PLC0415

    mlflow.set_tracking_uri(f"sqlite:///{tmp_path / 'mlflow.db'}")
    client = mlflow.MlflowClient()
    experiment = client.create_experiment("churn")
    tags = {CONTENT_VERSION_TAG: "cd5acfa5dc58", MODEL_TAG: "churn", VERSION_TAG: "2"}
    client.create_run(experiment, tags=tags)
    client.create_run(experiment, tags={CONTENT_VERSION_TAG: "0123456789ab"})  # not registered
    registered = mlflow_registered()
    assert registered("cd5acfa5dc58") == "churn/2"
    assert registered("0123456789ab") is None
    assert registered("x' OR '1'='1") is None  # not a content version: no query made

    bad = served(300, "2", good=False, seed=6).drop(columns="model_registry")
    bad["model_version"] = np.where(np.arange(300) < 200, "cd5acfa5dc58", "0123456789ab")
    catalog = Catalog(predictions=bad, ground_truth=labels_of(bad))
    check = {"name": "quality", "kind": "performance", "current": "predictions"}
    monkeypatch.setattr("kedro_mlops.monitoring.quality.mlflow_baselines", lambda: BASELINES.get)
    report = monitor_named(_project(tmp_path, catalog, [check]), "quality")
    by_version = {quality.version: quality for quality in report.result.versions}
    assert by_version["churn/2"].rows == 200 and by_version["churn/2"].status == "degraded"
    assert by_version["unregistered"].rows == 100
