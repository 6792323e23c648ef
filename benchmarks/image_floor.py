"""How small can an image of the starter's pipelines be? The bytes of Python packages it needs.

Runs the three pipelines of a fresh starter project in this environment (``kedro run
--pipelines X``, each in its own process) with an import trace, maps the imported modules to
their distributions, and sums the installed files of:

- every distribution the project's requirements pin (what ``kedro mlops package`` installs),
- the same after ``packaging.prune``'s default patterns, without bytecode (the default image),
- only the distributions a pipeline really imports, pruned, without bytecode: a floor for any
  image that installs whole distributions (no file of an imported package removed), and the same
  with every shared library stripped of its symbols (``strip --strip-unneeded``, when installed),
  for the record only: stripping the libraries auditwheel vendors into manylinux wheels breaks them
  (numpy's OpenBLAS then fails to load).

With ``--kedro-docker-mb`` and ``--base-mb`` (from ``benchmarks/image.py``) it prints the budget
that "<= 0.7x kedro-docker's image" leaves above the base image.

    python benchmarks/image_floor.py --kedro-docker-mb 1120 --base-mb 199
"""

from __future__ import annotations

import argparse
import fnmatch
import importlib.metadata
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from packaging.utils import canonicalize_name

from kedro_mlops.config import DEFAULT_PRUNE
from kedro_mlops.packaging.requirements import pin_requirements

try:
    import tomllib
except ImportError:  # Python 3.10: kedro requires tomli there
    import tomli as tomllib

PIPELINES = ("data_engineering", "data_science", "serving")
TRACE = """
import atexit, os, sys
def _dump():
    with open(os.environ["KEDRO_MLOPS_TRACE"], "a") as out:
        out.write("\\n".join(sorted({name.split(".")[0] for name in list(sys.modules)})) + "\\n")
atexit.register(_dump)
"""
ENV = {**os.environ, "KEDRO_DISABLE_TELEMETRY": "1", "DO_NOT_TRACK": "1"}


def traced_imports(workdir: Path) -> tuple[list[str], dict[str, set[str]]]:
    """The starter project's requirements, and the top-level modules imported by each
    pipeline's ``kedro run``."""
    bin_dir = Path(sys.executable).parent
    subprocess.run(
        [str(bin_dir / "kedro"), "new", "--starter=mlops", "--name", "Floor"],
        cwd=workdir, env=ENV, check=True, capture_output=True,
    )  # fmt: skip
    project = workdir / "floor"
    hook_dir = workdir / "trace"
    hook_dir.mkdir()
    (hook_dir / "sitecustomize.py").write_text(TRACE)
    imported: dict[str, set[str]] = {}
    for pipeline in PIPELINES:
        trace = workdir / f"{pipeline}.txt"
        env = {**ENV, "PYTHONPATH": str(hook_dir), "KEDRO_MLOPS_TRACE": str(trace)}
        subprocess.run(
            [str(bin_dir / "kedro"), "run", "--pipelines", pipeline],
            cwd=project, env=env, check=True, capture_output=True,
        )  # fmt: skip
        imported[pipeline] = set(trace.read_text().split())
    with (project / "pyproject.toml").open("rb") as handle:
        requirements = tomllib.load(handle)["project"]["dependencies"]
    return requirements, imported


def stripped_size(path: Path, scratch: Path) -> int:
    """The size of a shared library after ``strip --strip-unneeded`` (a copy is stripped)."""
    copy = scratch / "lib.so"
    shutil.copyfile(path, copy)
    subprocess.run(["strip", "--strip-unneeded", str(copy)], check=False, capture_output=True)
    return copy.stat().st_size


def sizes(name: str, scratch: Path | None) -> tuple[int, int, int]:
    """Installed bytes: all; without bytecode and the default prune patterns; the same with
    shared libraries stripped of symbols (when ``scratch`` is given and ``strip`` exists)."""
    dist = importlib.metadata.distribution(name)
    total = kept = stripped = 0
    for file in dist.files or []:
        path = Path(str(dist.locate_file(file)))
        try:
            size = path.stat().st_size
        except OSError:
            continue
        total += size
        relative = file.as_posix()
        parents = [relative, *(p.as_posix() for p in Path(relative).parents)]
        pruned = any(fnmatch.fnmatchcase(p, pattern) for p in parents for pattern in DEFAULT_PRUNE)
        if "__pycache__" not in relative and not pruned:
            kept += size
            shared = path.name.endswith(".so") or ".so." in path.name
            stripped += stripped_size(path, scratch) if shared and scratch else size
    return total, kept, stripped


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kedro-docker-mb", type=float)
    parser.add_argument("--base-mb", type=float)
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="kedro-mlops-floor-"))
    try:
        requirements, imported = traced_imports(workdir)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    owners = importlib.metadata.packages_distributions()
    pins = pin_requirements(requirements)
    with tempfile.TemporaryDirectory() as scratch:
        strip = Path(scratch) if shutil.which("strip") else None
        measured = {pin.name: sizes(pin.name, strip) for pin in pins}
    mb = 1e6
    installed = sum(s[0] for s in measured.values()) / mb
    kept = sum(s[1] for s in measured.values()) / mb
    print(
        f"{len(pins)} pinned distributions: {installed:,.0f} MB, {kept:,.0f} MB pruned, no bytecode"
    )
    for pipeline, modules in imported.items():
        needed = {canonicalize_name(d) for m in modules for d in owners.get(m, [])}
        needed &= set(measured)
        floor = sum(measured[name][1] for name in needed) / mb
        stripped = sum(measured[name][2] for name in needed) / mb
        print(
            f"{pipeline:<17} imports {len(needed):>3} of them: {floor:,.0f} MB pruned, no bytecode;"
            f" {stripped:,.0f} MB with shared libraries stripped"
        )
    if args.kedro_docker_mb and args.base_mb:
        budget = 0.7 * args.kedro_docker_mb - args.base_mb
        print(f"0.7 x kedro-docker ({args.kedro_docker_mb:,.0f} MB) leaves {budget:,.0f} MB above "
              f"the base image ({args.base_mb:,.0f} MB)")  # fmt: skip


if __name__ == "__main__":
    main()
