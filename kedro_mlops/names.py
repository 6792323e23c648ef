"""Project names the starter accepts. Pure (no Kedro import): the starter's cookiecutter hook
imports it."""

from __future__ import annotations

import keyword
import re

# `engine` in `kedro new --config`: where the data engineering, batch scoring and drift checks
# run (the first is the default)
ENGINES = ("pandas", "spark")

# the registry aliases: the version that serves, and the one tried against it
CHAMPION = "champion"
CHALLENGER = "challenger"

# run tags: the registered version a training run's model became, and the content version of
# that model (its `model_info` output's `version`, which the predictions it makes carry)
MODEL_TAG = "mlops.registry.model"
VERSION_TAG = "mlops.registry.version"
CONTENT_VERSION_TAG = "mlops.model.content_version"
# `kedro mlops monitor`'s flag: exit 1 on drift or a degraded model (what CT branches on;
# `--fail-on-drift`, its first name, is kept)
FAIL_ON_ALERT = "--fail-on-alert"
# the node output whose `version` is the trained model's content version (the starter's)
MODEL_INFO = "model_info"

_K8S_INVALID = re.compile(r"[^a-z0-9-]+")
_K8S_NAME_MAX = 63


def package_name(project_name: str) -> str:
    """The Python package a project name gives (the rule of the starter's cookiecutter.json)."""
    return project_name.strip().replace(" ", "_").replace("-", "_").lower()


def project_name_problem(project_name: str) -> str | None:
    """Why ``project_name`` cannot name a project of the starter, or ``None`` when it can."""
    package = package_name(project_name)
    if package.isidentifier() and not keyword.iskeyword(package):
        return None
    return (
        f"Invalid project name {project_name!r}: it gives the Python package name {package!r}, "
        "which cannot be imported. Start with a letter; use letters, digits, spaces, '-' and "
        "'_', e.g. 'Churn Demo'."
    )


def k8s_name(*parts: str) -> str:
    """A Kubernetes object name (RFC 1123 label) of ``parts``: ``("Bar Demo", "data_science")``
    -> ``"bar-demo-data-science"``; ``_``, ``.`` and spaces become ``-``.

    Raises:
        ValueError: when nothing valid is left.
    """
    text = "-".join(parts).lower()
    name = _K8S_INVALID.sub("-", text).strip("-")
    name = re.sub(r"-{2,}", "-", name)[:_K8S_NAME_MAX].rstrip("-")
    if not name:
        raise ValueError(f"Cannot make a Kubernetes name of {text!r}: no letter or digit in it.")
    return name
