"""``kedro mlops smoke``: its command lines, and a container that never starts."""

from __future__ import annotations

import subprocess

import pandas as pd
import pytest

from kedro_mlops.serving.smoke import (
    SmokeTestError,
    logs_command,
    run_command,
    sample_rows,
    smoke_test,
    stop_command,
)


@pytest.mark.parametrize(
    ("container", "expected"),
    [
        (
            "docker",
            [
                "docker",
                "run",
                "-d",
                "--rm",
                "--name",
                "n",
                "--network",
                "host",
                "img:1",
                "--port",
                "18080",
            ],
        ),
        (
            "podman",
            [
                "podman",
                "run",
                "-d",
                "--rm",
                "--name",
                "n",
                "--network",
                "host",
                "img:1",
                "--port",
                "18080",
            ],
        ),
    ],
)
def test_run_command(container, expected):
    assert run_command(container, "img:1", "n", 18080) == expected
    assert stop_command(container, "n") == [container, "rm", "--force", "n"]
    assert logs_command(container, "n") == [container, "logs", "n"]


def test_sample_rows_are_json_objects_with_nulls():
    frame = pd.DataFrame({"a": [1, 2], "b": [None, "x"]})
    assert sample_rows(frame, 1) == [{"a": 1, "b": None}]


def test_a_container_that_does_not_start_is_named_and_stopped():
    calls: list[list[str]] = []

    def run(command, **_kwargs):
        calls.append(command)
        failed = command[1] == "run"
        return subprocess.CompletedProcess(command, 125 if failed else 0, "", "no such image")

    with pytest.raises(SmokeTestError, match=r"^img:1 did not start: no such image$"):
        smoke_test("img:1", [{"a": 1}], container="podman", run=run)
    assert [command[1] for command in calls] == ["run"]
