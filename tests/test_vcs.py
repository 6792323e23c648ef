from __future__ import annotations

import subprocess

from kedro_mlops.vcs import git_output, head_commit


def git(path, *args: str) -> str:
    config = ["-c", "user.name=t", "-c", "user.email=t@example.com"]
    return subprocess.run(
        ["git", *config, *args], cwd=path, capture_output=True, text=True, check=True
    ).stdout.strip()


def test_outside_git(tmp_path):
    assert head_commit(tmp_path) is None
    assert git_output(tmp_path, "rev-parse", "HEAD") is None


def test_head_commit_and_dirty_flag(tmp_path):
    git(tmp_path, "init", "-q", "-b", "main")
    (tmp_path / "a.txt").write_text("a")
    git(tmp_path, "add", "a.txt")
    git(tmp_path, "commit", "-qm", "first")
    sha = git(tmp_path, "rev-parse", "HEAD")
    (tmp_path / "new.txt").write_text("untracked")
    assert head_commit(tmp_path) == (sha, False)
    (tmp_path / "a.txt").write_text("changed")
    assert head_commit(tmp_path) == (sha, True)
    assert git_output(tmp_path, "rev-parse", "--abbrev-ref", "HEAD") == "main"
