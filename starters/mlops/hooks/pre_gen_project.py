"""Refuse project names that would not give an importable Python package.

`kedro new --starter=mlops` checks the name before cookiecutter runs (kedro-mlops' CLI hook);
this covers cookiecutter used on the template directly.
"""

import sys

from kedro_mlops.names import project_name_problem

PROBLEM = project_name_problem("{{ cookiecutter.project_name }}")

if PROBLEM:
    sys.stderr.write(PROBLEM + "\n")
    sys.exit(1)
