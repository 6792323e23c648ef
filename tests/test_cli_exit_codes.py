"""One exit-code scheme for every `kedro mlops` command: 0 ok, 1 drift with a fail policy,
2 a usage, configuration or input error (with the message, without a traceback)."""

from __future__ import annotations

import logging
import socket

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from kedro.framework.startup import bootstrap_project
from mlflow import MlflowClient

from kedro_mlops.cli import commands
from tests.hooks.test_tracking_hook import make_project

BAD_CONFIG = "tracking:\n  url: sqlite:///x.db\n"
BAD_CONFIG_MESSAGE = "Invalid kedro-mlops configuration in conf/local/mlops.yml"


@pytest.fixture
def tiny(tmp_path, monkeypatch):
    root = make_project(tmp_path / "tiny")
    monkeypatch.syspath_prepend(str(root / "src"))
    monkeypatch.chdir(root)
    return root, bootstrap_project(root)


def invoke(metadata, *args):
    return CliRunner().invoke(commands, ["mlops", *args], obj=metadata)


def code_and_output(metadata, *args) -> tuple[int, str]:
    result = invoke(metadata, *args)
    assert "Traceback" not in result.output
    return result.exit_code, result.output


@pytest.mark.parametrize(
    "args",
    [
        ["status"],
        ["models"],
        ["promote", "--version", "1"],
        ["monitor", "--check", "production_batch"],
        ["package"],
        ["serve", "--port", "1"],
    ],
)
def test_a_bad_mlops_yml_is_exit_2(tiny, args):
    root, metadata = tiny
    (root / "conf" / "local" / "mlops.yml").write_text(BAD_CONFIG)
    code, output = code_and_output(metadata, *args)
    assert code == 2, output
    assert BAD_CONFIG_MESSAGE in output
    assert "unknown key 'tracking.url'" in output


def test_monitor_without_a_check_says_the_usage_even_with_a_bad_mlops_yml(tiny):
    root, metadata = tiny
    (root / "conf" / "local" / "mlops.yml").write_text(BAD_CONFIG)
    code, output = code_and_output(metadata, "monitor")
    assert code == 2
    assert output.splitlines()[-1] == (
        "Error: give either --check NAME or both --reference and --current"
    )


def test_status_is_0(tiny):
    _root, metadata = tiny
    code, output = code_and_output(metadata, "status")
    assert (code, output.splitlines()[-1]) == (0, "No run yet: `kedro run` records one.")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["models"], "No registered model 'tiny_hook_project'"),
        (["promote", "--version", "7"], "Model 'tiny_hook_project' has no version '7'"),
        (["promote"], "give --version N (or --lock / --unlock)"),
        (["promote", "--lock", "--unlock"], "--lock and --unlock exclude each other"),
        (["promote", "--lock", "--alias", "x"], "only the 'champion' alias is locked"),
        (["promote", "--lock"], "Model 'tiny_hook_project' has no champion to lock"),
        (["monitor", "--check", "nope"], "no check 'nope' in monitoring.checks"),
        (
            ["monitor"],
            "Error: give either --check NAME (mlops.yml's checks: production_batch, "
            "served_traffic, served_quality, batch_quality) or both --reference and --current\n",
        ),
        (["monitor", "--reference", "a.csv", "--current", "b.csv"], "Error: a.csv: no such file"),
        (["package", "--pipeline", "nope"], "Pipeline(s) 'nope' not registered in this project"),
        (["init"], "already exist(s); nothing was written"),
    ],
)
def test_input_errors_are_exit_2(tiny, args, message):
    _root, metadata = tiny
    code, output = code_and_output(metadata, *args)
    assert code == 2, output
    assert message in output


def test_rollout_promote_and_rollback_move_the_aliases(tiny):
    root, metadata = tiny
    name = "tiny_hook_project"
    store = f"sqlite:///{root / 'mlflow.db'}"
    client = MlflowClient(store)
    client.create_registered_model(name)
    for version in ("1", "2", "3"):
        client.create_model_version(name, source=str(root / version))
    client.set_registered_model_alias(name, "champion", "1")
    for command in ("promote", "rollback"):
        result = invoke(metadata, "rollout", command)
        assert (result.exit_code, result.stdout) == (2, "")
        assert result.stderr.splitlines()[-1] == (
            f"Error: Model '{name}' has no 'challenger' alias at {store}: nothing to try. A "
            "training run that does not beat the champion registers one."
        )

    client.set_registered_model_alias(name, "challenger", "2")
    result = invoke(metadata, "rollout", "promote", "--reason", "better live")
    assert (result.exit_code, result.stdout) == (0, f"{name} v2 is now champion (was v1)\n")
    assert client.get_registered_model(name).aliases == {"champion": 2}
    assert client.get_model_version(name, "2").tags["mlops.rollout.promoted"] == "better live"

    client.set_registered_model_alias(name, "challenger", "3")
    result = invoke(metadata, "rollout", "rollback")
    assert (result.exit_code, result.stdout) == (
        0,
        f"{name} v3 rolled back: no longer challenger, tagged mlops.rollout.rejected\n",
    )
    assert client.get_registered_model(name).aliases == {"champion": 2}
    assert client.get_model_version(name, "3").tags["mlops.rollout.rejected"] == "by hand"


def test_serve_on_a_busy_port_is_exit_2(tiny):
    _root, metadata = tiny
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        code, output = code_and_output(metadata, "serve", "--port", str(port))
    assert code == 2
    assert f"Port {port} on 127.0.0.1 is already in use" in output


def test_monitor_is_0_without_drift_and_1_with_drift_and_a_fail_policy(tiny):
    root, metadata = tiny
    rng = np.random.default_rng(0)
    reference = root / "reference.csv"
    pd.DataFrame({"x": rng.normal(0, 1, 500)}).to_csv(reference, index=False)
    same = root / "same.csv"
    pd.DataFrame({"x": rng.normal(0, 1, 500)}).to_csv(same, index=False)
    shifted = root / "shifted.csv"
    pd.DataFrame({"x": rng.normal(3, 1, 500)}).to_csv(shifted, index=False)

    files = ["monitor", "--reference", str(reference), "--no-html", "--current"]
    assert code_and_output(metadata, *files, str(same), "--fail-on-drift")[0] == 0
    code, output = code_and_output(metadata, *files, str(shifted))
    assert (code, "DRIFT (1/1 columns drifted" in output) == (0, True)  # policy: warn
    assert code_and_output(metadata, *files, str(shifted), "--fail-on-drift")[0] == 1


def test_monitor_follows_monitoring_html(tiny):
    root, metadata = tiny
    rng = np.random.default_rng(1)
    for name in ("a.csv", "b.csv"):
        pd.DataFrame({"x": rng.normal(0, 1, 200)}).to_csv(root / name, index=False)
    (root / "conf" / "local" / "mlops.yml").write_text("monitoring:\n  html: false\n")
    out = root / "out"
    args = ["monitor", "--reference", "a.csv", "--current", "b.csv", "--output", str(out)]
    assert code_and_output(metadata, *args)[0] == 0
    assert sorted(path.name for path in out.iterdir()) == ["summary.json"]


def test_project_loading_logs_show_only_with_verbose(tiny):
    """Kedro's and kedro-mlflow's INFO records while a command loads the project stay off the
    console unless --verbose; after each command the handler is as it was."""
    from kedro.logging import RichHandler  # noqa: PLC0415

    _root, metadata = tiny
    handler = RichHandler()
    logging.getLogger().addHandler(handler)
    try:
        runs = [invoke(metadata, *args) for args in (["status"], ["-v", "status"], ["status"])]
    finally:
        logging.getLogger().removeHandler(handler)
    assert [run.exit_code for run in runs] == [0, 0, 0]
    resolver = "Registering new custom resolver"  # kedro-mlflow's INFO, at every session
    assert [resolver in run.stderr for run in runs] == [False, True, False]
    assert all(resolver not in run.stdout for run in runs)
    assert handler.filters == []
