"""Pinned runtime requirements of a project, resolved from the environment it runs in.

The project wheel's ``Requires-Dist`` are walked through the installed distributions (with
their extras and the markers of the target image), so the image gets exactly the versions the
project was run and tested with. Distributions that did not come from an index (editable
checkouts, local wheels, VCS URLs: PEP 610 ``direct_url.json``) are marked ``local`` and shipped
as wheels in the build context.
"""

from __future__ import annotations

import platform
import re
import sys
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from email.parser import Parser
from pathlib import Path
from typing import Protocol

from packaging.markers import Marker
from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name, parse_wheel_filename

from kedro_mlops.installed import local_source
from kedro_mlops.packaging.errors import PackagingError


class Installed(Protocol):
    """What is needed of an installed distribution (``importlib.metadata.Distribution``)."""

    @property
    def version(self) -> str: ...

    @property
    def requires(self) -> list[str] | None: ...

    def read_text(self, filename: str) -> str | None: ...


Lookup = Callable[[str], "Installed | None"]


@dataclass(frozen=True)
class Pin:
    """``name==version``; ``local`` is where a distribution not from an index came from."""

    name: str
    version: str
    local: str | None = None

    @property
    def line(self) -> str:
        return f"{self.name}=={self.version}"


def installed(name: str) -> Installed | None:
    """The distribution ``name`` of the running environment, or ``None``."""
    import importlib.metadata  # noqa: PLC0415

    try:
        return importlib.metadata.distribution(name)
    except importlib.metadata.PackageNotFoundError:
        return None


def wheel_requirements(wheel: Path) -> list[str]:
    """The ``Requires-Dist`` entries of a wheel's metadata."""
    import zipfile  # noqa: PLC0415

    with zipfile.ZipFile(wheel) as archive:
        names = [n for n in archive.namelist() if n.endswith(".dist-info/METADATA")]
        if len(names) != 1:
            raise PackagingError(f"{wheel.name} is not a wheel with one METADATA file.")
        metadata = Parser().parsestr(archive.read(names[0]).decode("utf-8"))
    return list(metadata.get_all("Requires-Dist") or [])


def target_environment(python_version: str | None = None) -> dict[str, str]:
    """Marker values of a Linux image with ``python_version`` (default: this interpreter's)."""
    version = python_version or _host_python()
    full = platform.python_version() if version == _host_python() else f"{version}.0"
    machine = linux_machine(platform.machine())
    return {
        "python_version": version,
        "python_full_version": full,
        "sys_platform": "linux",
        "platform_system": "Linux",
        "os_name": "posix",
        "platform_machine": machine,
        "implementation_name": "cpython",
        "platform_python_implementation": "CPython",
    }


def linux_machine(machine: str) -> str:
    """Linux's name of a machine architecture (macOS and Windows say ``arm64``, ``AMD64``)."""
    return {"arm64": "aarch64", "amd64": "x86_64"}.get(machine.lower(), machine)


def _host_python() -> str:
    return f"{sys.version_info.major}.{sys.version_info.minor}"


def _applies(requirement: Requirement, extras: Iterable[str], env: Mapping[str, str]) -> bool:
    if requirement.marker is None:
        return True
    marker: Marker = requirement.marker
    return any(marker.evaluate({**env, "extra": extra}) for extra in ("", *extras))


def pin_requirements(
    requirements: Iterable[str],
    lookup: Lookup = installed,
    environment: Mapping[str, str] | None = None,
    *,
    skip: Iterable[str] = (),
) -> list[Pin]:
    """Pin ``requirements`` and everything they need to the installed versions.

    Args:
        requirements: PEP 508 strings (the project's ``Requires-Dist``).
        lookup: finds an installed distribution by name.
        environment: marker values of the target (default: :func:`target_environment`).
        skip: names never pinned (the project itself).

    Returns:
        The closure, sorted by name.

    Raises:
        PackagingError: naming every requirement that is not installed or whose installed
            version does not satisfy it.
    """
    env = dict(environment or target_environment())
    skipped = {canonicalize_name(name) for name in skip}
    extras_seen: dict[str, set[str]] = {}
    pins: dict[str, Pin] = {}
    problems: list[str] = []
    todo: list[tuple[Requirement, str]] = []
    for raw in requirements:
        requirement = _parse(raw, "the project")
        if _applies(requirement, (), env):
            todo.append((requirement, "the project"))
    while todo:
        requirement, wanted_by = todo.pop()
        name = canonicalize_name(requirement.name)
        if name in skipped:
            continue
        dist = lookup(requirement.name)
        if dist is None:
            problems.append(f"{requirement} (needed by {wanted_by}) is not installed")
            continue
        if requirement.specifier and not requirement.specifier.contains(
            dist.version, prereleases=True
        ):
            problems.append(
                f"installed {name} {dist.version} does not satisfy {str(requirement)!r} "
                f"(needed by {wanted_by})"
            )
            continue
        new_extras = set(requirement.extras) - extras_seen.get(name, set())
        if name in pins and not new_extras:
            continue
        first_visit = name not in pins
        extras_seen.setdefault(name, set()).update(new_extras)
        pins[name] = Pin(name, dist.version, local_source(dist))
        for child in _needed(dist, name, env, new_extras, first_visit=first_visit):
            todo.append((child, name))
    if problems:
        listed = "\n".join(f"  - {problem}" for problem in sorted(set(problems)))
        raise PackagingError(
            "Cannot pin the project's runtime requirements from this environment "
            f"({sys.executable}):\n{listed}\nInstall the project's dependencies here "
            "(e.g. `pip install -e .`) and run `kedro mlops package` again."
        )
    return sorted(pins.values(), key=lambda pin: pin.name)


def _needed(
    dist: Installed,
    name: str,
    env: Mapping[str, str],
    new_extras: set[str],
    *,
    first_visit: bool,
) -> list[Requirement]:
    """The requirements of ``dist`` to walk: all that apply on a first visit, then only those
    that the newly asked extras add."""
    needed: list[Requirement] = []
    for raw in dist.requires or []:
        child = _parse(raw, name)
        if first_visit and (child.marker is None or child.marker.evaluate({**env, "extra": ""})):
            needed.append(child)
        elif child.marker is not None and any(
            child.marker.evaluate({**env, "extra": extra}) for extra in new_extras
        ):
            needed.append(child)
    return needed


def _parse(raw: str, wanted_by: str) -> Requirement:
    try:
        return Requirement(raw)
    except InvalidRequirement as exc:
        raise PackagingError(f"Invalid requirement {raw!r} of {wanted_by}: {exc}") from None


def requirements_text(pins: Iterable[Pin], header: str) -> str:
    """``requirements.txt`` content: a comment header, then one ``name==version`` a line."""
    lines = [f"# {line}" if line else "#" for line in header.splitlines()]
    for pin in pins:
        note = "  # not from an index: its wheel is in wheels/" if pin.local else ""
        lines.append(f"{pin.line}{note}")
    return "\n".join(lines) + "\n"


def wheel_key(filename: str) -> tuple[str, str] | None:
    """``(canonical name, version)`` of a wheel file name, ``None`` for anything else."""
    if not filename.endswith(".whl"):
        return None
    try:
        name, version, _build, _tags = parse_wheel_filename(filename)
    except ValueError:
        return None
    return str(name), str(version)


def missing_pins(pins: Iterable[Pin], wheel_files: Iterable[str]) -> list[Pin]:
    """The index pins with no wheel among ``wheel_files`` yet (local pins are built apart)."""
    present = {key for key in map(wheel_key, wheel_files) if key}
    return [
        pin
        for pin in pins
        if pin.local is None and (canonicalize_name(pin.name), _norm(pin.version)) not in present
    ]


def stale_wheels(pins: Iterable[Pin], wheel_files: Iterable[str]) -> list[str]:
    """Wheel files of the context that no pin asks for (left from an earlier version)."""
    wanted = {(canonicalize_name(pin.name), _norm(pin.version)) for pin in pins}
    return [name for name in wheel_files if (key := wheel_key(name)) and key not in wanted]


def _norm(version: str) -> str:
    from packaging.version import InvalidVersion, Version  # noqa: PLC0415

    try:
        return str(Version(version))
    except InvalidVersion:
        return version


_PYTHON_TAG = re.compile(r"(?:^|/)python:(\d+\.\d+)")


def image_python(base_image: str) -> str | None:
    """The Python version an official ``python:X.Y...`` image holds, ``None`` when unknown."""
    match = _PYTHON_TAG.search(base_image)
    return match.group(1) if match else None


def platform_flags(
    image_python_version: str | None,
    *,
    host_python: str,
    host_system: str,
    host_machine: str,
) -> list[str]:
    """``pip download`` options that fetch wheels for a Linux image from any host.

    None when this host is Linux with the image's Python (its own wheels fit, and sdists can be
    built here); otherwise binary wheels for manylinux on the host's architecture.
    """
    version = image_python_version or host_python
    if host_system == "Linux" and version == host_python:
        return []
    arch = linux_machine(host_machine)
    abi = "cp" + version.replace(".", "")
    flags = ["--only-binary=:all:", "--implementation", "cp", "--python-version", version]
    flags += ["--abi", abi, "--abi", "abi3", "--abi", "none"]
    for tag in ("manylinux_2_28", "manylinux_2_17", "manylinux2014", "linux"):
        flags += ["--platform", f"{tag}_{arch}"]
    return flags


def download_command(python: str, pins: Iterable[Pin], dest: Path, flags: list[str]) -> list[str]:
    """``pip download`` of exactly ``pins`` (the closure is already resolved: ``--no-deps``)."""
    return [
        python,
        "-m",
        "pip",
        "download",
        "--no-deps",
        "--disable-pip-version-check",
        "--dest",
        str(dest),
        *flags,
        *(pin.line for pin in pins),
    ]


def local_wheel_command(python: str, source: str, dest: Path) -> list[str]:
    """``pip wheel`` of a distribution that is not on an index (a checkout, an sdist, a URL)."""
    return [
        python,
        "-m",
        "pip",
        "wheel",
        "--no-deps",
        "--disable-pip-version-check",
        "--wheel-dir",
        str(dest),
        source,
    ]
