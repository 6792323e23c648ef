"""Refuse project names that would not give an importable Python package."""

import keyword
import sys

PROJECT_NAME = "{{ cookiecutter.project_name }}"
PACKAGE = "{{ cookiecutter.python_package }}"

if not PACKAGE.isidentifier() or keyword.iskeyword(PACKAGE):
    sys.stderr.write(
        f"Invalid project name {PROJECT_NAME!r}: it gives the Python package name {PACKAGE!r}, "
        "which cannot be imported. Use a name that starts with a letter, e.g. 'Churn Demo'.\n"
    )
    sys.exit(1)
