from __future__ import annotations

import subprocess
import sys
from importlib import metadata

import pandas as pd
import pytest

from kedro_mlops.tracking import lineage
from kedro_mlops.tracking.lineage import frame_digest, git_tags, library_versions, run_tags


def git(path, *args):
    subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@example.com", *args],
        cwd=path,
        check=True,
        capture_output=True,
    )


def test_git_tags_in_a_repository(tmp_path):
    git(tmp_path, "init", "-q", "-b", "main")
    (tmp_path / "a.txt").write_text("a")
    git(tmp_path, "add", "a.txt")
    git(tmp_path, "commit", "-qm", "first")
    sha = subprocess.run(
        ["git", "rev-parse", "HEAD"], cwd=tmp_path, capture_output=True, text=True, check=True
    ).stdout.strip()
    tags = git_tags(tmp_path)
    assert tags["mlops.git.sha"] == sha
    assert tags["mlflow.source.git.commit"] == sha
    assert tags["mlops.git.branch"] == "main"
    assert tags["mlops.git.dirty"] == "false"
    (tmp_path / "a.txt").write_text("changed")
    assert git_tags(tmp_path)["mlops.git.dirty"] == "true"


def test_no_git_tags_and_no_error_outside_a_repository(tmp_path):
    assert git_tags(tmp_path) == {}
    assert git_tags(tmp_path, {"KEDRO_MLOPS_GIT_SHA": " "}) == {}


def test_git_tags_from_the_image_environment_outside_a_repository(tmp_path):
    """Images hold no .git: `kedro mlops package` writes the commit into their environment."""
    environ = {"KEDRO_MLOPS_GIT_SHA": "4f1c2d3e", "KEDRO_MLOPS_GIT_DIRTY": "true"}
    assert git_tags(tmp_path, environ) == {
        "mlops.git.sha": "4f1c2d3e",
        "mlops.git.dirty": "true",
        "mlops.git.from": "KEDRO_MLOPS_GIT_SHA",
        "mlflow.source.git.commit": "4f1c2d3e",
    }
    assert git_tags(tmp_path, {"KEDRO_MLOPS_GIT_SHA": "4f1c"})["mlops.git.dirty"] == "false"


def test_a_repository_wins_over_the_image_environment(tmp_path):
    git(tmp_path, "init", "-q", "-b", "main")
    (tmp_path / "a.txt").write_text("a")
    git(tmp_path, "add", "a.txt")
    git(tmp_path, "commit", "-qm", "first")
    tags = git_tags(tmp_path, {"KEDRO_MLOPS_GIT_SHA": "4f1c2d3e"})
    assert tags["mlops.git.sha"] != "4f1c2d3e"
    assert "mlops.git.from" not in tags


def test_library_versions():
    versions = library_versions()
    assert versions["mlops.version.kedro"] == metadata.version("kedro")
    assert versions["mlops.version.mlflow"] == metadata.version("mlflow")
    assert versions["mlops.version.python"] == ".".join(map(str, sys.version_info[:3]))
    assert {"mlops.version.kedro-mlops", "mlops.version.scikit-learn"} <= set(versions)


@pytest.mark.parametrize(
    ("runner", "expected"),
    [
        (None, "SequentialRunner"),
        ("<kedro.runner.thread_runner.ThreadRunner object at 0x7f>", "ThreadRunner"),
        ("ParallelRunner", "ParallelRunner"),
    ],
)
def test_run_tags(runner, expected):
    tags = run_tags(
        {"pipeline_names": ["data_science"], "env": "prod", "runner": runner},
        argv=["/venv/bin/kedro", "run", "--pipeline", "data_science"],
    )
    assert tags == {
        "mlops.command": "kedro run --pipeline data_science",
        "mlops.pipeline": "data_science",
        "mlops.env": "prod",
        "mlops.runner": expected,
    }


FRAME = pd.DataFrame(
    {"id": [1, 2, 3], "x": [0.5, None, 2.0], "c": ["a", "b", None], "t": ["2024-01-01"] * 3}
)


def test_digest_is_stable_and_content_sensitive():
    assert frame_digest(FRAME) == frame_digest(FRAME.copy())
    changed = FRAME.copy()
    changed.loc[1, "c"] = "z"
    assert frame_digest(changed) != frame_digest(FRAME)
    assert frame_digest(FRAME.rename(columns={"x": "y"})) != frame_digest(FRAME)
    assert frame_digest(FRAME.iloc[:2]) != frame_digest(FRAME)
    assert frame_digest(FRAME.set_index("id")) != frame_digest(FRAME)  # the id column is data
    assert frame_digest(FRAME.set_axis([7, 8, 9])) == frame_digest(FRAME)  # the index is not


def test_digest_does_not_depend_on_chunking(monkeypatch):
    whole = frame_digest(FRAME)
    monkeypatch.setattr(lineage, "DIGEST_CHUNK_ROWS", 2)
    assert frame_digest(FRAME) == whole


def test_digest_is_the_same_in_another_process(tmp_path):
    path = tmp_path / "frame.csv"
    FRAME.to_csv(path, index=False)
    code = (
        "import pandas as pd; from kedro_mlops.tracking.lineage import frame_digest; "
        f"print(frame_digest(pd.read_csv({str(path)!r})))"
    )
    other = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.strip()
    assert other == frame_digest(pd.read_csv(path))


def test_dataset_input_carries_digest_source_and_schema():
    entry = lineage.dataset_input(FRAME, "raw_data", "data/01_raw/x.csv")
    assert entry.dataset.name == "raw_data"
    assert entry.dataset.digest == frame_digest(FRAME)
    assert "data/01_raw/x.csv" in entry.dataset.source
    assert '"name": "x"' in entry.dataset.schema
    assert {(tag.key, tag.value) for tag in entry.tags} == {("mlflow.data.context", "input")}
