"""The errors ``kedro mlops package`` raises (each says what failed and what to do next)."""

from __future__ import annotations

from kedro_mlops.errors import InputError


class PackagingError(InputError):
    """The build context cannot be written: a bad option, a missing dependency (exit 2)."""


class BuilderNotFoundError(PackagingError):
    """``--build`` was asked for but no container builder is usable on this machine."""


class BuildError(PackagingError):
    """A build step or the container builder failed; the message ends with the tail of its
    output (exit 1: the work failed, not the input)."""

    exit_code = 1


class NoServeModelError(PackagingError):
    """There is no model to put inside the serving image (none trained, registered or given)."""
