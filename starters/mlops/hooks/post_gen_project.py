"""Write the CI > CT > CD files of the `ci` choice (both, github, gitlab, none): the same files
`kedro mlops ci` writes, rendered from kedro-mlops's templates, so there is one copy of each."""

import sys
from pathlib import Path

from kedro.framework.startup import bootstrap_project

from kedro_mlops.cli import add_ci_files
from kedro_mlops.errors import KedroMlopsError

CI = "{{ cookiecutter.ci }}"

project = Path.cwd()
metadata = bootstrap_project(project)
try:
    add_ci_files(project, metadata.project_name, CI)
except KedroMlopsError as exc:
    sys.stderr.write(f"{exc.message}\n")
    sys.exit(1)
