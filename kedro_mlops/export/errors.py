"""The errors ``kedro mlops export`` raises (each says what failed and what to do next)."""

from __future__ import annotations

from kedro_mlops.errors import KedroMlopsError


class ExportError(KedroMlopsError):
    """A definition cannot be made from this project and configuration (exit code 2)."""

    exit_code = 2
