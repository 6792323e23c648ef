"""serving.rollout and rollout.analysis of mlops.yml: bad values name the key."""

from __future__ import annotations

import pytest

from kedro_mlops.config import parse_config
from kedro_mlops.errors import ConfigError


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (
            {"serving": {"rollout": {"fraction": 1.5}}},
            "'serving.rollout.fraction': must be strictly between 0 and 1 (got 1.5)",
        ),
        (
            {"serving": {"rollout": {"mode": "blue-green"}}},
            "'serving.rollout.mode': Input should be 'none', 'shadow' or 'canary'",
        ),
        (
            {"serving": {"rollout": {"challenger_uri": "churn@challenger"}}},
            "'churn@challenger' is not a model URI",
        ),
        (
            {"rollout": {"analysis": {"min_row": 10}}},
            "unknown key 'rollout.analysis.min_row' (expected one of: min_rows,",
        ),
        ({"rollout": {"analysis": {"max_error_rate": 2}}}, "'rollout.analysis.max_error_rate'"),
    ],
)
def test_bad_rollout_settings_name_the_key(data, expected):
    with pytest.raises(ConfigError) as caught:
        parse_config(data, "conf/base/mlops.yml")
    assert expected in caught.value.message
    assert caught.value.exit_code == 2


def test_the_defaults_try_nothing():
    config = parse_config(None)
    assert config.serving.rollout.mode == "none"
    assert config.rollout.analysis.min_rows == 500
