"""The CI/CD files of a project: the Makefile every CI job calls, the GitHub Actions workflow, the
GitLab CI pipeline (and its CD child pipeline), the Azure Pipelines and Cloud Build pipelines, a
README section. Rendered from the Jinja templates in ``templates/ci``; one writer puts them into
the project.

The starter (its post-generation hook) and ``kedro mlops ci`` both call :func:`render_files`, so
there is one copy of each file: the template.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kedro_mlops.errors import KedroMlopsError

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping

    from jinja2 import Environment

TEMPLATES = Path(__file__).resolve().parent.parent / "templates" / "ci"
PROVIDERS = ("github", "gitlab", "azure-devops", "cloudbuild")
# the starter's `ci` choice (kedro new --config) and `kedro mlops ci --provider`; both: the two
# the starter writes by default
CHOICES = ("both", *PROVIDERS, "none")
BOTH = PROVIDERS[:2]
DEFAULT_CHOICE = "both"
# the variable the gate's decision travels in: GitHub step output, GitLab dotenv and child pipeline
GATE_VARIABLE = "GATE_DECISION"
CI_DIR = "build/ci"
IMAGE_CACHE = ".cache/images"  # the CI cache directory of the dependency image (IMAGE_CACHE)
VALIDATE_PREFIX = "validate"  # `make validate` runs the nodes named so
MAKEFILE = "Makefile"
README = "README.md"
README_MARKER = "## CI > CT > CD"
# the first line of the Makefile template: an existing Makefile holding it was written by us
MAKEFILE_SIGNATURE = "one target per CI > CT > CD step"

_FILES = {
    "github": {".github/workflows/mlops.yml": "github-mlops.yml.j2"},
    "gitlab": {".gitlab-ci.yml": "gitlab-ci.yml.j2", ".gitlab/cd.yml": "gitlab-cd.yml.j2"},
    "azure-devops": {"azure-pipelines.yml": "azure-pipelines.yml.j2"},
    "cloudbuild": {"cloudbuild.yaml": "cloudbuild.yaml.j2"},
}
_PROVIDER_NAMES = {
    "github": "GitHub Actions",
    "gitlab": "GitLab CI",
    "azure-devops": "Azure Pipelines",
    "cloudbuild": "Cloud Build",
}


class CiError(KedroMlopsError):
    """CI files cannot be written as asked (exit code 2: a usage error)."""

    exit_code = 2


@dataclass(frozen=True)
class CiProject:
    """What the CI files say about the project. Every value comes from the project itself.

    Attributes:
        project_name: ``Churn Demo``.
        python_version: the Python the CI jobs set up (``3.11``).
        smoke_image: the image ``make smoke`` runs, without tag (``churn-demo-serving``), or
            ``None`` when the project packages no serving pipeline.
        workdir: where the images expect ``data/`` (the images' working directory).
        context_dir: the build context of ``kedro mlops package`` (``packaging.output``).
        validate_pipeline: the pipeline holding them (``data_engineering``).
        validate_nodes: the nodes ``make validate`` runs on the raw data.
        monitor_checks: the checks (drift and performance) ``make monitor`` runs and
            ``CT_TRAIN=on-alert`` asks.
        deploy_dir: where ``kedro mlops deploy`` writes the manifests and ``deploy.sh``.
        deploy_environments: the environments ``make deploy ENV=<env>`` rolls out to, in the
            order CD deploys them (each a job behind its protected environment).
    """

    project_name: str
    python_version: str
    smoke_image: str | None
    workdir: str
    context_dir: str = "dist/mlops"
    validate_pipeline: str = ""
    validate_nodes: tuple[str, ...] = ()
    monitor_checks: tuple[str, ...] = ()
    deploy_dir: str = "deploy/kubernetes"
    deploy_environments: tuple[str, ...] = ("staging", "production")
    extra: dict[str, Any] = field(default_factory=dict, compare=False)


def validation_nodes(pipelines: Mapping[str, Iterable[str]]) -> tuple[str, tuple[str, ...]]:
    """The first pipeline holding nodes named ``validate*`` and those nodes, for ``make
    validate``; ``("", ())`` when no pipeline has any."""
    for name, nodes in pipelines.items():
        found = tuple(node for node in nodes if node.startswith(VALIDATE_PREFIX))
        if found:
            return name, found
    return "", ()


def providers_for(choice: str) -> tuple[str, ...]:
    """The providers a choice stands for (``both`` -> github and gitlab, ``none`` -> none).

    Raises:
        CiError: for anything but the :data:`CHOICES`.
    """
    value = choice.strip().lower()
    if value not in CHOICES:
        raise CiError(
            f"Unknown CI provider choice {choice!r}: use one of {', '.join(CHOICES)} "
            f"(default: {DEFAULT_CHOICE})."
        )
    if value == "both":
        return BOTH
    return () if value == "none" else (value,)


def _environment() -> Environment:
    """Jinja with ``[[ ]]`` / ``[% %]`` delimiters: ``${{ }}`` and ``$(...)`` stay as they are."""
    from jinja2 import Environment, FileSystemLoader, StrictUndefined  # noqa: PLC0415

    return Environment(
        loader=FileSystemLoader(str(TEMPLATES)),
        undefined=StrictUndefined,
        keep_trailing_newline=True,
        autoescape=False,  # noqa: S701 - YAML, Makefile and Markdown, not HTML
        variable_start_string="[[",
        variable_end_string="]]",
        block_start_string="[%",
        block_end_string="%]",
        comment_start_string="[#",
        comment_end_string="#]",
    )


def _variables(project: CiProject, providers: tuple[str, ...]) -> dict[str, Any]:
    return {
        "project_name": project.project_name,
        "python_version": project.python_version,
        "smoke_image": project.smoke_image,
        "workdir": project.workdir,
        "context_dir": project.context_dir,
        "validate_pipeline": project.validate_pipeline,
        "validate_nodes": list(project.validate_nodes),
        "monitor_checks": list(project.monitor_checks),
        "providers": list(providers),
        "provider_names": _PROVIDER_NAMES,
        "gate_variable": GATE_VARIABLE,
        "ci_dir": CI_DIR,
        "image_cache": IMAGE_CACHE,
        "deploy_dir": project.deploy_dir,
        "deploy_environments": list(project.deploy_environments),
        "readme_marker": README_MARKER,
        "all_providers": PROVIDERS,
        **project.extra,
    }


def render_files(project: CiProject, providers: Iterable[str]) -> dict[str, str]:
    """The files to write, by path relative to the project root: the Makefile and each
    provider's pipeline files. Pure.

    Raises:
        CiError: for an unknown provider.
    """
    chosen = tuple(dict.fromkeys(providers))
    unknown = [name for name in chosen if name not in PROVIDERS]
    if unknown:
        raise CiError(f"Unknown CI provider(s) {unknown}: use {', '.join(PROVIDERS)}.")
    env = _environment()
    variables = _variables(project, chosen)
    files = {MAKEFILE: env.get_template("Makefile.j2").render(**variables)}
    for provider in chosen:
        for path, template in _FILES[provider].items():
            files[path] = env.get_template(template).render(**variables)
    return files


def readme_section(project: CiProject, providers: Iterable[str]) -> str:
    """The README section on the three stages, the secrets to set, running them locally."""
    variables = _variables(project, tuple(dict.fromkeys(providers)))
    return _environment().get_template("README-section.md.j2").render(**variables)


def readme_paragraphs(project: CiProject, providers: Iterable[str]) -> dict[str, str]:
    """The section's paragraph on each provider (its files, the secrets to set), by the
    provider's display name."""
    wanted = set(providers)
    chosen = [name for name in PROVIDERS if name in wanted]  # the section's order
    variables = _variables(project, tuple(chosen))
    env = _environment()
    return {
        _PROVIDER_NAMES[name]: env.get_template(f"README-{name}.md.j2").render(
            **variables, provider=name
        )
        for name in chosen
    }


# the paragraph after the providers' ones in the README section: new ones go before it
_AFTER_PROVIDERS = "\nWithout a tracking server"


def merge_readme(
    current: str, section: str, paragraphs: Mapping[str, str]
) -> tuple[str, list[str]]:
    """``current`` README text with the CI section, or, when it has one already, with the
    paragraphs of the providers it does not describe yet (before the paragraph that follows
    the providers' ones, else at the end of the section). Pure.

    Returns:
        The new text and what was added: ``[README_MARKER]`` for the whole section, else the
        names of the providers whose paragraph was added.
    """
    if README_MARKER not in current:
        text = current.rstrip("\n") + "\n" + section if current else section.lstrip("\n")
        return text, [README_MARKER]
    added = []
    start = current.index(README_MARKER) + len(README_MARKER)
    for name, paragraph in paragraphs.items():
        end = min(
            (at for at in (current.find(h, start) for h in ("\n# ", "\n## ")) if at >= 0),
            default=len(current),
        )
        if f"**{name}**" in current[start:end]:
            continue
        anchor = current.find(_AFTER_PROVIDERS, start, end)
        at = anchor if anchor >= 0 else end
        current = current[:at].rstrip("\n") + "\n\n" + paragraph.rstrip("\n") + "\n" + current[at:]
        added.append(name)
    return current, added


@dataclass
class WriteReport:
    """What :func:`write_files` did, by path relative to the project root."""

    written: list[str] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)
    # providers whose paragraph was added to a README that had the CI section already
    readme_added: list[str] = field(default_factory=list)


def report_lines(project: CiProject, report: WriteReport) -> list[str]:
    """What ``kedro mlops ci`` prints: the files written and kept, what the user must still set."""
    lines = [f"Wrote {name}" for name in report.written]
    lines += [f"Kept {name}: it already has what the pipelines need" for name in report.kept]
    if report.readme_added:
        plural = "s" if len(report.readme_added) > 1 else ""
        lines.append(
            f"Added to {README}: the {' and '.join(report.readme_added)} paragraph{plural}"
        )
    if not project.validate_nodes:
        lines.append(
            "  warning: no plain pipeline has a node named validate*: `make validate` (part of "
            "`make ci`) fails until VALIDATE_NODES and VALIDATE_PIPELINE are set in the Makefile"
        )
    if not project.smoke_image:
        lines.append(
            "  warning: no `serve` image among packaging.pipelines: `make smoke` fails "
            "until SMOKE_IMAGE is set in the Makefile"
        )
    lines.append(
        "Every CI job runs a `make` target: `make help` lists them; README.md says which secrets "
        "to set."
    )
    return lines


def _ours(path: Path) -> bool:
    return MAKEFILE_SIGNATURE in path.read_text(encoding="utf-8", errors="replace")[:400]


def write_files(
    root: Path,
    files: Mapping[str, str],
    *,
    readme: str | None = None,
    paragraphs: Mapping[str, str] | None = None,
    force: bool = False,
) -> WriteReport:
    """Write ``files`` under ``root`` and add the ``readme`` section to ``README.md`` unless it
    has it, else the provider ``paragraphs`` it lacks (:func:`merge_readme`).

    A Makefile written by kedro-mlops is kept as it is (the targets are the same for every
    provider); any other existing file is only replaced with ``force``.

    Raises:
        CiError: naming the files that exist, before anything is written.
    """
    report = WriteReport()
    blocking = []
    for name in files:
        path = root / name
        if not path.exists() or force:
            continue
        if name == MAKEFILE and _ours(path):
            report.kept.append(name)
        else:
            blocking.append(name)
    if blocking:
        raise CiError(
            f"{', '.join(blocking)} already exist(s) in {root}; nothing was written. Move them "
            "away, or re-run with --force to replace them."
        )
    for name, text in files.items():
        if name in report.kept:
            continue
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        report.written.append(name)
    if readme is not None:
        target = root / README
        current = target.read_text(encoding="utf-8") if target.exists() else ""
        text, added = merge_readme(current, readme, paragraphs or {})
        if added == [README_MARKER]:
            report.written.append(README)
        elif added:
            report.readme_added = added
        else:
            report.kept.append(README)
        if added:
            target.write_text(text, encoding="utf-8")
    return report
