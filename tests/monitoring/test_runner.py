"""One runner of a configured check: in this process (`kedro mlops monitor --check`) or part by
part through a worker's ``submit`` (`kedro run`), the same result."""

from __future__ import annotations

from concurrent.futures import Future

import pytest

from kedro_mlops.config import DriftCheckConfig
from kedro_mlops.monitoring.runner import ConfiguredCheck, run_configured, run_now
from tests.monitoring.conftest import frames

CHECK = DriftCheckConfig(
    name="batch",
    reference="reference",
    current="current",
    columns=["stable_num", "shifted_num", "stable_cat", "shifted_cat"],
    categorical=["stable_cat", "shifted_cat"],
)


def test_the_hook_path_and_the_command_path_give_the_same_verdicts(tmp_path):
    reference, current = frames(400, 400)
    direct, paths = run_configured(
        CHECK,
        {"reference": reference, "current": current},
        features=None,
        directory=tmp_path / "direct",
        html=False,
        min_rows=10,
    )
    assert paths["summary"].is_file()

    submitted: list[str] = []

    def submit(function, /, *args, **kwargs) -> Future:
        submitted.append(function.__name__)
        return run_now(function, *args, **kwargs)

    run = ConfiguredCheck(CHECK, min_rows=10, directory=tmp_path / "hook", html=False, contain=True)
    run.produced = {"current"}
    loaded = []
    datasets = {"reference": reference, "current": current}

    def load(name):
        loaded.append(name)
        return datasets[name]

    run.advance(load=load, features=lambda: None, submit=submit, final=False)
    assert submitted == []  # the current data is not produced yet
    run.frames["current"] = current
    run.advance(load=load, features=lambda: None, submit=submit, final=False)
    assert submitted == ["feature_verdicts", "extra_verdicts"]
    assert loaded == ["reference"]
    by_hook = run.result()
    assert by_hook.status == direct.status
    assert [(c.column, c.drifted, c.score) for c in by_hook.columns] == [
        (c.column, c.drifted, c.score) for c in direct.columns
    ]


def test_unexpected_errors_are_contained_only_in_a_run(tmp_path):
    def broken(function, /, *args, **kwargs) -> Future:
        future: Future = Future()
        future.set_exception(RuntimeError("worker died"))
        return future

    reference, current = frames(50, 50)
    contained = ConfiguredCheck(CHECK, min_rows=10, directory=tmp_path, html=False, contain=True)
    contained.frames.update(reference=reference, current=current)
    contained.advance(load=dict().get, features=lambda: None, submit=broken, final=True)
    result = contained.result()
    assert (result.status, result.error) == ("error", "RuntimeError: worker died")

    raised = ConfiguredCheck(CHECK, min_rows=10, directory=tmp_path, html=False)
    raised.frames.update(reference=reference, current=current)
    raised.advance(load=dict().get, features=lambda: None, submit=broken, final=True)
    with pytest.raises(RuntimeError, match="worker died"):
        raised.result()


def test_a_check_whose_data_never_came_is_an_error(tmp_path):
    run = ConfiguredCheck(CHECK, min_rows=10, directory=tmp_path, html=False, contain=True)
    assert run.result().error == "its datasets were not produced"
