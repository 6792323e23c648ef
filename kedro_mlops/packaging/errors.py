"""The errors ``kedro mlops package`` raises (each says what failed and what to do next)."""

from __future__ import annotations

from kedro_mlops.errors import KedroMlopsError


class PackagingError(KedroMlopsError):
    """The build context cannot be written: a bad option, a missing dependency, a failed step."""


class BuilderNotFoundError(PackagingError):
    """``--build`` was asked for but no container builder is usable on this machine."""


class BuildError(PackagingError):
    """The container builder failed; the message ends with the tail of its output."""
