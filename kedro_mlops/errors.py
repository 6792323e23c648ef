"""The errors kedro-mlops raises. Each message names the thing at fault and what to do next."""

from __future__ import annotations

import click


class KedroMlopsError(click.ClickException):
    """Base error. A ``click.ClickException`` so that the CLI prints the message and exits 1.

    Kedro's own ``KedroCliError`` is printed as "NoneType: None" with click >= 8.5, which hides the
    message; click's exception is always printed.
    """


class ConfigError(KedroMlopsError):
    """``mlops.yml`` is missing a value, has an unknown key or a value of the wrong type."""


class ProjectError(KedroMlopsError):
    """The Kedro project is not in the state a command needs (e.g. files already exist)."""
