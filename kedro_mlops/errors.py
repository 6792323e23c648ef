"""The errors kedro-mlops raises. Each message names the thing at fault and what to do next.

Exit codes, the same for every command: 0 ok; 1 drift with a ``fail`` policy, or the work itself
failed (a container build, a pipeline node's unexpected error); 2 a usage, configuration or input
error (an unknown key, a missing file, a version that does not exist, data that fails validation).

Plain exceptions: the entry floor (``cli.py``, ``hooks/``) alone turns them into click's output
("Error: <message>" on stderr, exit ``exit_code``), see ``kedro_mlops.hooks.cli.click_error``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Mapping

EXIT_DRIFT = 1
EXIT_INPUT = 2


def validation_message(error: Mapping[str, Any]) -> str:
    """A pydantic validation error's message, without the prefix pydantic gives a validator's
    own (``Value error, ``)."""
    return str(error["msg"]).removeprefix("Value error, ")


class KedroMlopsError(Exception):
    """Base error: a ``message`` for the user and the ``exit_code`` of a command it ends (1 unless
    a subclass says otherwise)."""

    exit_code: int = 1

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class InputError(KedroMlopsError):
    """Something the user gave (an option, a file, a name, a version) cannot be used: exit 2."""

    exit_code = EXIT_INPUT


class ConfigError(InputError):
    """``mlops.yml`` is missing a value, has an unknown key or a value of the wrong type."""


class ProjectError(InputError):
    """The Kedro project is not in the state a command needs (e.g. files already exist)."""
