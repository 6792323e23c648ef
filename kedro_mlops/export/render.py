"""The files of ``kedro mlops export``: Jinja templates rendered with an :class:`ExportPlan`,
the KFP script compiled by running it, and the deploy notes."""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from kedro_mlops.export.errors import ExportError

if TYPE_CHECKING:
    from jinja2 import Environment

    from kedro_mlops.export.plan import ExportPlan

TEMPLATES = Path(__file__).resolve().parent.parent / "templates" / "export"
TEMPLATE_OF = {"airflow": "airflow_dag.py.j2", "kubeflow": "kubeflow_pipeline.py.j2"}
KFP_INSTALL = 'pip install "kedro-mlops[kubeflow]"'
_COMPILE_TIMEOUT_S = 300


@dataclass(frozen=True)
class ExportResult:
    """What was written (paths relative to the project when inside it) and the deploy notes."""

    files: list[Path]
    notes: str
    checks: list[str] = field(default_factory=list)  # which validator accepted the files

    def lines(self) -> list[str]:
        """What was written, what checked it, then how to deploy it."""
        return [f"Wrote {', '.join(map(str, self.files))}", *self.checks, self.notes.strip()]


def python_literal(value: object) -> str:
    """``value`` (None, bool, numbers, strings, lists, tuples, dicts of them) as Python source,
    strings in double quotes like the rest of the generated code."""
    if value is None or isinstance(value, (bool, int, float)):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)  # JSON string escapes are Python's too
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(map(python_literal, value)) + "]"
    if isinstance(value, dict):
        items = (f"{python_literal(k)}: {python_literal(v)}" for k, v in value.items())
        return "{" + ", ".join(items) + "}"
    raise ExportError(f"Cannot write {value!r} ({type(value).__name__}) as a Python literal.")


def environment(search_path: list[Path]) -> Environment:
    """Jinja over ``search_path``; ``py`` renders a Python literal, ``code`` a Markdown one.
    Undefined names are errors (a typo in a user template must not render as nothing)."""
    from jinja2 import Environment, FileSystemLoader, StrictUndefined  # noqa: PLC0415

    env = Environment(
        loader=FileSystemLoader([str(path) for path in search_path]),
        undefined=StrictUndefined,
        keep_trailing_newline=True,
        autoescape=False,  # noqa: S701 - Python sources and Markdown, not HTML
    )
    env.filters["py"] = python_literal
    env.filters["code"] = lambda value: f"`{value}`"
    return env


def template_path(target: str, user_template: Path | None) -> Path | None:
    """The user's template when given, else the built-in one of ``target`` (None: a target
    written from the plan, without a template).

    Raises:
        ExportError: if the user's file does not exist, or the target takes no template.
    """
    if target not in TEMPLATE_OF:
        if user_template is not None:
            raise ExportError(
                f"export.template / --template applies to {' and '.join(TEMPLATE_OF)}; the "
                f"{target} files are built from the plan: remove the template, or edit the "
                "files after exporting."
            )
        return None
    if user_template is None:
        return TEMPLATES / TEMPLATE_OF[target]
    if not user_template.is_file():
        raise ExportError(
            f"Template {str(user_template)!r} does not exist; fix export.template / --template, "
            f"or start from a copy of the built-in one: {TEMPLATES / TEMPLATE_OF[target]}"
        )
    return user_template


def render(plan: ExportPlan, template: Path) -> str:
    """The definition file of ``plan`` from ``template``.

    Raises:
        ExportError: if a user template does not parse or uses an unknown variable.
    """
    from jinja2 import TemplateError  # noqa: PLC0415

    variables = plan.variables()
    try:
        return environment([template.parent]).get_template(template.name).render(**variables)
    except TemplateError as exc:
        raise ExportError(
            f"Cannot render template {str(template)!r}: {exc}. Known variables: "
            f"{', '.join(sorted(variables))}."
        ) from None


def render_notes(plan: ExportPlan, files: list[str]) -> str:
    """How to deploy what was written (Markdown; also printed)."""
    template = environment([TEMPLATES]).get_template("README.md.j2")
    files_dir = files[0].rpartition("/")[0] or "."
    return template.render(**plan.variables(), files=files, files_dir=files_dir)


def compile_command(script: Path, output: Path, python: str = sys.executable) -> list[str]:
    """Runs the KFP script: it compiles its pipelines into ``output``."""
    return [python, str(script), str(output)]


def kfp_available(python: str = sys.executable) -> bool:
    """Whether ``python`` can import kfp and kfp-kubernetes (checked without importing them
    into this process)."""
    probe = "import importlib.util as u, sys; sys.exit(0 if u.find_spec('kfp.kubernetes') else 1)"
    try:
        result = subprocess.run(
            [python, "-c", probe], capture_output=True, check=False, timeout=60
        )  # without kfp, find_spec raises: a non-zero exit all the same
        return result.returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


def compile_kfp(
    script: Path, output: Path, python: str = sys.executable, *, shown: str | None = None
) -> list[Path]:
    """Compile the pipelines of ``script`` (KFP v2 YAML, one file per pipeline); ``shown`` is
    how messages name the script.

    Raises:
        ExportError: kfp is missing, or the compiler failed (its last lines are shown).
    """
    shown = shown or str(script)
    if not kfp_available(python):
        raise ExportError(
            f"The Kubeflow pipelines are written as a KFP script, {shown}, but kfp is not "
            f"installed here to compile them: `{KFP_INSTALL}` (kfp and kfp-kubernetes 2.17), then "
            "`kedro mlops export --target kubeflow` again."
        )
    try:
        result = subprocess.run(
            compile_command(script, output, python),
            capture_output=True,
            text=True,
            check=False,
            timeout=_COMPILE_TIMEOUT_S,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise ExportError(f"Cannot compile {shown}: {exc}") from None
    if result.returncode != 0:
        tail = "\n".join(f"  | {line}" for line in result.stderr.strip().splitlines()[-15:])
        raise ExportError(
            f"Compiling {shown} with kfp failed (exit code {result.returncode}):\n{tail}\n"
            "Fix the template (export.template) or report the error."
        )
    return [Path(line) for line in result.stdout.split("\n") if line.strip().endswith(".yaml")]


def write_export(
    plan: ExportPlan,
    directory: Path,
    *,
    template: Path | None,
    project_path: Path,
    python: str = sys.executable,
) -> ExportResult:
    """Write the definition of ``plan.target`` into ``directory`` (compiled for kubeflow,
    validated for the cloud targets), and the deploy notes beside it (``README.md``).

    Raises:
        ExportError: a template, the KFP compiler or a platform's validator failed.
    """
    checks = []
    directory.mkdir(parents=True, exist_ok=True)
    if template is None:  # a cloud target: its files are built from the plan
        from kedro_mlops.export import platforms  # noqa: PLC0415

        files = platforms.write_files(plan, directory, project_path)
        checks.append(platforms.validate(plan.target, files))
    else:
        text = render(plan, template)
        suffix = "" if plan.target == "airflow" else "_pipeline"
        source = directory / f"{plan.package}{suffix}.py"
        source.write_text(text, encoding="utf-8")
        files = [source]
        if plan.target == "kubeflow":
            files += compile_kfp(source, directory, python, shown=_relative(source, project_path))
    shown = [_relative(path, project_path) for path in files]
    notes = render_notes(plan, shown)
    readme = directory / "README.md"
    readme.write_text(notes, encoding="utf-8")
    written = [Path(name) for name in [*shown, _relative(readme, project_path)]]
    return ExportResult(written, notes, checks)


def _relative(path: Path, root: Path) -> str:
    try:
        return path.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return str(path)
