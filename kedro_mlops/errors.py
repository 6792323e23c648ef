"""The errors kedro-mlops raises. Each message names the thing at fault and what to do next.

Exit codes, the same for every command: 0 ok; 1 drift with a ``fail`` policy, or the work itself
failed (a container build, a pipeline node's unexpected error); 2 a usage, configuration or input
error (an unknown key, a missing file, a version that does not exist, data that fails validation).
"""

from __future__ import annotations

import click

EXIT_DRIFT = 1
EXIT_INPUT = 2


class KedroMlopsError(click.ClickException):
    """Base error. A ``click.ClickException`` so that the CLI prints the message and exits with
    ``exit_code`` (1 unless a subclass says otherwise).

    Kedro's own ``KedroCliError`` is printed as "NoneType: None" with click >= 8.5, which hides the
    message; click's exception is always printed.
    """


class InputError(KedroMlopsError):
    """Something the user gave (an option, a file, a name, a version) cannot be used: exit 2."""

    exit_code = EXIT_INPUT


class ConfigError(InputError):
    """``mlops.yml`` is missing a value, has an unknown key or a value of the wrong type."""


class ProjectError(InputError):
    """The Kedro project is not in the state a command needs (e.g. files already exist)."""
