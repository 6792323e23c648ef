"""The registry gate's decision as CI outputs: a ``NAME=value`` line (a dotenv report on GitLab,
``$GITHUB_OUTPUT`` on GitHub Actions) and a GitLab CI include that sets the variable in the CD
child pipeline, whose rules run the CD jobs only for a new champion."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from kedro_mlops.cicd.files import GATE_VARIABLE, CiError

if TYPE_CHECKING:
    from pathlib import Path

_WORD = re.compile(r"^[a-z][a-z_-]*$")


def _checked(decision: str) -> str:
    if not _WORD.match(decision):
        raise CiError(f"Not a gate decision: {decision!r} (expected a lower-case word).")
    return decision


def env_line(decision: str) -> str:
    """``GATE_DECISION=<decision>``, one line."""
    return f"{GATE_VARIABLE}={_checked(decision)}\n"


def gitlab_include(decision: str) -> str:
    """A GitLab CI file that only sets ``GATE_DECISION`` (included by the CD child pipeline)."""
    return f"variables:\n  {GATE_VARIABLE}: {_checked(decision)}\n"


def write_outputs(
    decision: str, *, env_file: Path | None = None, yaml_file: Path | None = None
) -> list[Path]:
    """Append :func:`env_line` to ``env_file`` (it may be ``$GITHUB_OUTPUT``, which others write
    to as well) and write :func:`gitlab_include` to ``yaml_file``; returns the files written."""
    written = []
    if env_file is not None:
        env_file.parent.mkdir(parents=True, exist_ok=True)
        with env_file.open("a", encoding="utf-8") as handle:
            handle.write(env_line(decision))
        written.append(env_file)
    if yaml_file is not None:
        yaml_file.parent.mkdir(parents=True, exist_ok=True)
        yaml_file.write_text(gitlab_include(decision), encoding="utf-8")
        written.append(yaml_file)
    return written
