"""What goes into a build context, gathered at the edges: the project wheel, the wheels of the
requirements, ``conf/base`` without secrets, the git commit. Subprocesses and file copies only.
"""

from __future__ import annotations

import fnmatch
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import NamedTuple
from urllib.parse import urlsplit, urlunsplit

from kedro_mlops.packaging.errors import BuildError, PackagingError
from kedro_mlops.packaging.requirements import (
    Pin,
    download_command,
    local_wheel_command,
    missing_pins,
    stale_wheels,
    wheel_key,
)
from kedro_mlops.vcs import git_output, head_commit

# file or folder names never copied from conf/base (matched case-insensitively)
FORBIDDEN_NAMES = ("*credential*", "*secret*", ".env", ".env.*", "*.ipynb", ".ipynb_checkpoints")
_STEP_TIMEOUT_S = 1800


def is_forbidden(relative: Path) -> bool:
    """Whether a path under conf/base has a name that must never go into an image."""
    return any(
        fnmatch.fnmatch(part.lower(), pattern)
        for part in relative.parts
        for pattern in FORBIDDEN_NAMES
    )


def _run(command: list[str], *, cwd: Path | None, what: str) -> str:
    try:
        result = subprocess.run(
            command, cwd=cwd, capture_output=True, text=True, check=False, timeout=_STEP_TIMEOUT_S
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise BuildError(f"Cannot {what}: {exc}") from None
    if result.returncode != 0:
        output = (result.stdout + result.stderr).strip().splitlines()[-20:]
        tail = "\n".join(f"  | {line}" for line in output)
        raise BuildError(
            f"Cannot {what} (exit code {result.returncode}).\nCommand: {' '.join(command)}\n{tail}"
        )
    return result.stdout


def build_project_wheel(project_path: Path, dest: Path, python: str = sys.executable) -> Path:
    """The project wheel, built like ``kedro package`` does (``python -m build --wheel``)."""
    with tempfile.TemporaryDirectory(prefix="kedro-mlops-wheel-") as tmp:
        _run(
            [python, "-m", "build", "--wheel", "--outdir", tmp, str(project_path)],
            cwd=project_path,
            what=f"build the project wheel of {project_path} (`python -m build --wheel`)",
        )
        wheels = sorted(Path(tmp).glob("*.whl"))
        if len(wheels) != 1:
            raise PackagingError(f"`python -m build --wheel` made {len(wheels)} wheels, not one.")
        dest.mkdir(parents=True, exist_ok=True)
        for old in dest.glob("*.whl"):
            old.unlink()
        return Path(shutil.copy2(wheels[0], dest / wheels[0].name))


_METADATA_VERSION = (
    "import sys, build.util; "
    "print(build.util.project_wheel_metadata(sys.argv[1], isolated=sys.argv[2] == '1')['Version'])"
)


def project_version(project_path: Path, python: str = sys.executable) -> str:
    """The version of the project wheel (what the images are tagged with by default), read from
    its build backend's metadata without building the wheel: with the backend installed in
    ``python``'s environment if it is, else in an isolated build environment.

    Raises:
        PackagingError: when the backend cannot tell (the message says to give a tag).
    """
    from packaging.version import InvalidVersion, Version  # noqa: PLC0415

    command = [python, "-c", _METADATA_VERSION, str(project_path)]
    try:
        raw = _run([*command, "0"], cwd=project_path, what="read the project version")
    except PackagingError:
        try:
            raw = _run([*command, "1"], cwd=project_path, what="read the project version")
        except PackagingError as exc:
            raise PackagingError(
                f"{exc.message}\nGive the image tag instead (--image-tag, or packaging.tag)."
            ) from None
    text = raw.strip().splitlines()[-1]
    try:
        return str(Version(text))  # normalised, as in the wheel's file name
    except InvalidVersion:
        return text


class GitInfo(NamedTuple):
    """Where the images come from: commit, remote URL without credentials, uncommitted changes."""

    revision: str | None
    source: str | None
    dirty: bool = False


def git_info(project_path: Path) -> GitInfo:
    """The project's commit, remote and dirty flag; ``None``s outside a git repository."""
    head = head_commit(project_path, timeout=30)
    if head is None:
        return GitInfo(None, None)
    revision, dirty = head
    remote = git_output(project_path, "remote", "get-url", "origin", timeout=30)
    return GitInfo(revision, _public_url(remote), dirty)


def _public_url(url: str | None) -> str | None:
    """``url`` without ``user:token@`` (a remote URL may carry a secret)."""
    if not url or "://" not in url:
        return url
    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    return urlunsplit((parts.scheme, host, parts.path, "", ""))


def copy_conf(conf_root: Path, relative: str, dest: Path) -> list[str]:
    """Copy ``conf_root/relative`` (the base environment) to ``dest/relative`` without
    forbidden names.

    Returns:
        The files and folders left out, relative to ``conf_root``.
    """
    source = conf_root / relative
    if not source.is_dir():
        raise PackagingError(f"{source} does not exist: the images need the base configuration.")
    left_out: list[str] = []
    target = dest / relative
    for path in sorted(source.rglob("*")):
        rel = path.relative_to(source)
        if is_forbidden(rel):
            if is_forbidden(Path(rel.name)):  # report the outermost forbidden name only
                left_out.append((Path(relative) / rel).as_posix())
            continue
        if path.is_dir():
            (target / rel).mkdir(parents=True, exist_ok=True)
        elif path.is_file():
            (target / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(path, target / rel)
    target.mkdir(parents=True, exist_ok=True)
    return left_out


def fill_wheels(
    pins: list[Pin],
    wheels_dir: Path,
    *,
    download: bool,
    flags: list[str],
    python: str = sys.executable,
) -> None:
    """Put the wheels the build needs in ``wheels_dir``.

    Packages that are not on an index are always built (or copied) here; with ``download``
    every other pinned wheel is fetched too (once: wheels already there are kept). Wheels no pin
    asks for are removed.
    """
    wheels_dir.mkdir(parents=True, exist_ok=True)
    for pin in pins:
        if pin.local is None:
            continue
        for old in wheels_dir.glob("*.whl"):
            if (key := wheel_key(old.name)) and key[0] == pin.name:
                old.unlink()
        source = Path(pin.local)
        if source.suffix == ".whl" and source.is_file():
            shutil.copy2(source, wheels_dir / source.name)
        else:
            _run(
                local_wheel_command(python, pin.local, wheels_dir),
                cwd=None,
                what=f"build a wheel of {pin.name} {pin.version} from {pin.local}",
            )
    if download:
        needed = missing_pins(pins, (path.name for path in wheels_dir.iterdir()))
        if needed:
            _run(
                download_command(python, needed, wheels_dir, flags),
                cwd=None,
                what=f"download {len(needed)} wheels into {wheels_dir} with `pip download` "
                "(check that your package index is reachable, or package without --wheels)",
            )
        _wheels_from_sdists(wheels_dir, python)
    for name in stale_wheels(pins, (path.name for path in wheels_dir.iterdir())):
        (wheels_dir / name).unlink()


def _wheels_from_sdists(wheels_dir: Path, python: str) -> None:
    """pip download fetches an sdist when a package has no wheel: build it here."""
    for sdist in [*wheels_dir.glob("*.tar.gz"), *wheels_dir.glob("*.zip")]:
        _run(
            local_wheel_command(python, str(sdist), wheels_dir),
            cwd=None,
            what=f"build a wheel of {sdist.name}",
        )
        sdist.unlink()
