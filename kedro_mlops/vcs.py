"""The project's git state, read with the git CLI. Ground module: tracking (run lineage) and
packaging (image labels) both read it.
"""

from __future__ import annotations

import subprocess
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pathlib import Path


def git_output(path: Path, *args: str, timeout: float = 10) -> str | None:
    """The stripped output of ``git <args>`` run in ``path``; ``None`` when git is missing,
    fails, times out or prints nothing."""
    try:
        result = subprocess.run(
            ["git", *args], cwd=path, capture_output=True, text=True, timeout=timeout, check=False
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return result.stdout.strip() or None if result.returncode == 0 else None


def head_commit(path: Path, timeout: float = 10) -> tuple[str, bool] | None:
    """``(sha, dirty)`` of the work tree holding ``path``, ``None`` outside git. Dirty means
    uncommitted changes to tracked files (untracked files are not part of the commit's code)."""
    sha = git_output(path, "rev-parse", "HEAD", timeout=timeout)
    if sha is None:
        return None
    status = git_output(path, "status", "--porcelain", "--untracked-files=no", timeout=timeout)
    return sha, status is not None
