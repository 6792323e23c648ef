"""The `export:` section of mlops.yml: what is refused and how it is said."""

from __future__ import annotations

import pytest

from kedro_mlops.config import parse_config
from kedro_mlops.errors import ConfigError


@pytest.mark.parametrize(
    ("export", "expected"),
    [
        ({"target": "argo"},
         "'export.target': Input should be 'airflow', 'kubeflow', 'stepfunctions', 'azureml' or "
         "'databricks' (got 'argo')"),
        ({"stepfunctions": {"secret_arn": "my-secret"}},
         "'export.stepfunctions.secret_arn': 'my-secret' is not an ARN; use e.g. "
         "'arn:aws:iam::123456789012:role/ecs-task'"),
        ({"databricks": {"host": "https://user:pw@x.cloud.databricks.com"}},
         "'export.databricks.host': "),
        ({"schedule": "daily"}, "'export.schedule': 'daily' is not a schedule; use 5 "
         "cron fields (e.g. '0 3 * * *') or one of @once, @hourly, @daily, @weekly, @monthly, "
         "@yearly, @annually (got 'daily')"),
        ({"ct": {"schedule": "* * *"}},
         "'export.ct.schedule': '* * *' is not a schedule"),
        ({"resources": {"memory": "2 GB"}}, "'export.resources.memory': '2 GB' is not "
         "a Kubernetes quantity; use e.g. '500m', '2', '512Mi', '4Gi' (got '2 GB')"),
        ({"kubernetes": {"data_volume_claim": "my_data"}}, "'export.kubernetes.data_volume_claim': "
         "'my_data' is not a Kubernetes name; use lower-case letters, digits and '-' "
         "(at most 63, no '_'), e.g. 'churn-data' (got 'my_data')"),
        ({"airflow": {"operator": "celery"}}, "'export.airflow.operator': Input should be 'docker' "
         "or 'kubernetes'"),
        ({"environment": {"1X": "a"}}, "'1X' is not an environment variable name"),
        ({"ct": {"every": 3}}, "unknown key 'export.ct.every' (expected one of: enabled, check, "
         "schedule, quality_checks)"),
    ],
)  # fmt: skip
def test_bad_values_are_named(export, expected):
    with pytest.raises(ConfigError) as error:
        parse_config({"export": export}, "conf/base/mlops.yml")
    assert error.value.message.startswith(
        "Invalid kedro-mlops configuration in conf/base/mlops.yml:\n  - "
    )
    assert expected in error.value.message


@pytest.mark.parametrize(
    "environment",
    [
        {"MLFLOW_TRACKING_PASSWORD": "hunter2-secret-value"},
        {"AWS_SECRET_ACCESS_KEY": "hunter2-secret-value"},
        {"GITHUB_TOKEN": "hunter2-secret-value"},
        {"MLFLOW_TRACKING_URI": "https://user:hunter2-secret-value@mlflow.example"},
    ],
)
def test_credentials_are_refused_without_repeating_them(environment):
    with pytest.raises(ConfigError) as error:
        parse_config({"export": {"environment": environment}})
    (name,) = environment
    assert error.value.message == (
        "Invalid kedro-mlops configuration in mlops.yml:\n"
        f"  - 'export.environment': '{name}' looks like a credential; the exported files never "
        "hold one: put it in an Airflow Variable/Connection or a Kubernetes Secret (see the notes "
        "`kedro mlops export` prints)"
    )
    assert "hunter2" not in error.value.message


def test_plain_settings_pass():
    config = parse_config(
        {
            "export": {
                "schedule": "0 3 * * 1-5",
                "environment": {"MLFLOW_TRACKING_URI": "http://mlflow:5000", "LOG_LEVEL": "info"},
                "resources": {"cpu": "500m", "memory": "2Gi", "memory_limit": "4Gi"},
            }
        }
    )
    assert config.export.schedule == "0 3 * * 1-5"
    assert config.export.ct.schedule == "@daily"
