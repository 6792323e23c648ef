"""Domain errors are plain exceptions; the entry floor alone makes them click's output."""

from __future__ import annotations

import pickle

import click
import pytest
from click.testing import CliRunner

from kedro_mlops.errors import ConfigError, InputError, KedroMlopsError
from kedro_mlops.hooks.cli import click_error, click_errors
from kedro_mlops.tracking.uri import TrackingUnavailableError


def test_domain_errors_know_nothing_of_click():
    assert not issubclass(KedroMlopsError, click.ClickException)
    error = ConfigError("bad key")
    assert (str(error), error.message, error.exit_code) == ("bad key", "bad key", 2)
    # it crosses worker processes
    assert pickle.loads(pickle.dumps(error)).message == "bad key"  # noqa: S301 - our own bytes


@pytest.mark.parametrize(
    ("error", "code"),
    [(KedroMlopsError("work failed"), 1), (InputError("bad"), 2), (ConfigError("key"), 2)],
)
def test_click_error_keeps_the_class_message_and_code(error, code, capsys):
    converted = click_error(error)
    assert isinstance(converted, click.ClickException)
    assert isinstance(converted, type(error))  # `except ConfigError` still catches it
    assert (converted.exit_code, converted.message, str(converted)) == (
        code,
        error.message,
        error.message,
    )
    converted.show()
    assert capsys.readouterr().err == f"Error: {error.message}\n"


def test_click_errors_converts_domain_errors_only():
    with pytest.raises(TrackingUnavailableError) as raised, click_errors():
        raise TrackingUnavailableError("down")
    assert isinstance(raised.value, click.ClickException)
    with pytest.raises(ValueError, match="a bug") as bug, click_errors():
        raise ValueError("a bug")
    assert not isinstance(bug.value, click.ClickException)


def test_a_click_command_prints_and_exits_like_a_click_exception():
    @click.command()
    def fails() -> None:
        with click_errors():
            raise ConfigError("Invalid kedro-mlops configuration in mlops.yml")

    result = CliRunner().invoke(fails)
    assert result.exit_code == 2
    assert result.output == "Error: Invalid kedro-mlops configuration in mlops.yml\n"
