"""Refuse project names that would not give an importable Python package, and unknown `ci`
choices, before anything is written."""

import keyword
import sys

from kedro_mlops.cicd import CHOICES

PROJECT_NAME = "{{ cookiecutter.project_name }}"
PACKAGE = "{{ cookiecutter.python_package }}"
CI = "{{ cookiecutter.ci }}"

if not PACKAGE.isidentifier() or keyword.iskeyword(PACKAGE):
    sys.stderr.write(
        f"Invalid project name {PROJECT_NAME!r}: it gives the Python package name {PACKAGE!r}, "
        "which cannot be imported. Use a name that starts with a letter, e.g. 'Churn Demo'.\n"
    )
    sys.exit(1)

if CI.strip().lower() not in CHOICES:
    sys.stderr.write(
        f"Invalid value {CI!r} for `ci` in the kedro new configuration: use one of "
        f"{', '.join(CHOICES)} (the CI pipelines to write; default both).\n"
    )
    sys.exit(1)
