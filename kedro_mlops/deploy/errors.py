"""The errors ``kedro mlops deploy`` raises (each says what failed and what to do next)."""

from __future__ import annotations

from kedro_mlops.errors import InputError


class DeployError(InputError):
    """The manifests cannot be written for this project and configuration (exit code 2)."""
