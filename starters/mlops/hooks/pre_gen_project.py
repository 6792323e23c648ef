"""Refuse project names that would not give an importable Python package, and unknown `ci`
and `engine` choices, before anything is written.

`kedro new --starter=mlops` checks the name before cookiecutter runs (kedro-mlops' CLI hook);
this covers cookiecutter used on the template directly.
"""

import sys

from kedro_mlops.cicd import CHOICES
from kedro_mlops.names import ENGINES, project_name_problem

CI = "{{ cookiecutter.ci }}"
ENGINE = "{{ cookiecutter.engine }}"
PROBLEM = project_name_problem("{{ cookiecutter.project_name }}")

if PROBLEM:
    sys.stderr.write(PROBLEM + "\n")
    sys.exit(1)

if CI.strip().lower() not in CHOICES:
    sys.stderr.write(
        f"Invalid value {CI!r} for `ci` in the kedro new configuration: use one of "
        f"{', '.join(CHOICES)} (the CI pipelines to write; default both).\n"
    )
    sys.exit(1)

if ENGINE.strip().lower() not in ENGINES:
    sys.stderr.write(
        f"Invalid value {ENGINE!r} for `engine` in the kedro new configuration: use one of "
        f"{', '.join(ENGINES)} (where the pipelines process data; default pandas).\n"
    )
    sys.exit(1)
