"""After generation: write the CI > CT > CD files of the `ci` choice (both, github, gitlab,
azure-devops, cloudbuild, none): the same files `kedro mlops ci` writes, rendered from
kedro-mlops's templates, so there is one copy of each; then put the files of the `engine` choice in
place (`_engines/<engine>/` over the pandas project, then `_engines/` removed), and say in the
README how to install kedro-mlops when it did not come from an index.

`pip install -r requirements.txt` finds kedro-mlops on a package index only; a kedro-mlops
installed from a wheel file, a source folder or a git URL must be installed from there first.

cookiecutter runs this file in a Python process of its own, where kedro-mlops' `kedro.init`
warning filters are not installed: it installs them itself before it reads the project's
configuration (kedro's config loader calls a deprecated OmegaConf function).
"""

import shutil
import sys
from importlib import metadata
from pathlib import Path

from kedro_mlops.hooks.cli import filter_known_warnings
from kedro_mlops.installed import local_source

INSTALL = "pip install -r requirements.txt"
CI = "{{ cookiecutter.ci }}"
ENGINE = "{{ cookiecutter.engine }}".strip().lower()
ENGINES_DIR = Path("_engines")


def engine_files() -> None:
    """The files of ``_engines/<engine>/`` replace (or join) the pandas project's."""
    overlay = ENGINES_DIR / ENGINE
    if overlay.is_dir():
        for source in sorted(overlay.rglob("*")):
            if source.is_file():
                target = source.relative_to(overlay)
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(source, target)
    shutil.rmtree(ENGINES_DIR, ignore_errors=True)


def install_note() -> None:
    try:
        source = local_source(metadata.distribution("kedro-mlops"))
    except metadata.PackageNotFoundError:
        return
    if not source:
        return
    readme = Path("README.md")
    text = readme.read_text(encoding="utf-8")
    first = (
        f'pip install "{source}"   # kedro-mlops, from where it was installed when this project '
        "was made"
    )
    readme.write_text(text.replace(f"\n{INSTALL}\n", f"\n{first}\n{INSTALL}\n", 1), "utf-8")


def ci_files() -> None:
    from kedro.framework.startup import bootstrap_project  # noqa: PLC0415

    from kedro_mlops.cli import add_ci_files  # noqa: PLC0415
    from kedro_mlops.errors import KedroMlopsError  # noqa: PLC0415

    project = Path.cwd()
    project_metadata = bootstrap_project(project)
    try:
        add_ci_files(project, project_metadata.project_name, CI)
    except KedroMlopsError as exc:
        sys.stderr.write(f"{exc.message}\n")
        sys.exit(1)


sys.dont_write_bytecode = True  # the project's modules are imported below: no __pycache__ left
filter_known_warnings()
# the CI files are rendered from the pandas project's pipelines, before the engine's files replace
# them: an engine's packages (pyspark) are installed after `kedro new`, with the requirements. What
# the CI files take from the pipelines (the validation nodes, the checked datasets) is the same in
# every engine: tests/e2e/test_spark.py runs `kedro mlops ci` in a Spark project and compares.
ci_files()
engine_files()
install_note()
