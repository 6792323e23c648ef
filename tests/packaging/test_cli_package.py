"""The click wiring of `kedro mlops package` (the real runs are in tests/e2e/test_package.py)."""

from __future__ import annotations

from types import SimpleNamespace

from click.testing import CliRunner

from kedro_mlops.cli import commands


def invoke(project_path, *args):
    metadata = SimpleNamespace(project_path=project_path)
    return CliRunner().invoke(commands, ["mlops", *args], obj=metadata)


def test_package_is_listed():
    result = invoke(".", "--help")
    assert result.exit_code == 0
    assert "package" in result.output


def test_package_help_lists_every_option():
    result = invoke(".", "package", "--help")
    assert result.exit_code == 0, result.output
    for option in ("--pipeline", "--output", "--build", "--builder", "--base-image", "--tag",
                   "--wheels / --no-wheels", "--template", "--push", "--env"):  # fmt: skip
        assert option in result.output
    assert "auto: a responding Docker engine, else podman," in result.output


def test_package_refuses_an_unknown_builder():
    result = invoke(".", "package", "--builder", "kaniko")
    assert result.exit_code == 2
    assert "'kaniko' is not one of 'auto', 'docker', 'podman', 'buildah'" in result.output
