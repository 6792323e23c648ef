"""The text files of a build context: Dockerfile, ``.dockerignore``, README (Jinja templates)."""

from __future__ import annotations

import hashlib
import json
import re
import shlex
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kedro_mlops.packaging.errors import PackagingError

if TYPE_CHECKING:
    from collections.abc import Iterable

    from jinja2 import Environment

    from kedro_mlops.packaging.images import ImageSpec

TEMPLATES = Path(__file__).resolve().parent.parent / "templates" / "packaging"
DOCKERFILE_TEMPLATE = TEMPLATES / "Dockerfile.j2"
WORKDIR = "/app"  # the images' working directory: data/ and conf/ are mounted under it
_DEPS_STAGE = re.compile(r"^\s*FROM\s+\S+\s+AS\s+deps\s*$", re.IGNORECASE | re.MULTILINE)


WORKDIR = "/app"


@dataclass(frozen=True)
class ContainerPaths:
    """Where a container of these images works: mount points and the default tracking store."""

    workdir: str = WORKDIR

    @property
    def data(self) -> str:
        """The project's ``data/`` (mount the host's data here)."""
        return f"{self.workdir}/data"

    @property
    def mlflow(self) -> str:
        """The directory of the default SQLite MLflow store (mount a directory here)."""
        return f"{self.workdir}/mlflow"

    @property
    def tracking_uri(self) -> str:
        """``MLFLOW_TRACKING_URI`` of the images unless the deployment sets another one."""
        return f"sqlite:///{self.mlflow}/mlflow.db"


@dataclass(frozen=True)
class ContextSpec:
    """Everything the templates use. The Dockerfile template gets these names as variables."""

    project_name: str
    project_slug: str
    package_name: str
    version: str
    images: tuple[ImageSpec, ...]
    base_image: str
    project_wheel: str
    deps_image: str = ""
    offline: bool = False
    bytecode: bool = False
    prune: tuple[str, ...] = ()
    venv_tools: tuple[str, ...] = ()  # installers removed from the venv after the install
    conf_dir: str = "conf/base"
    base_env: str = "base"
    revision: str | None = None
    source: str | None = None
    dirty: bool = False  # uncommitted changes to tracked files when packaged
    kedro_mlops_version: str = ""
    serve_labels: tuple[tuple[str, str], ...] = ()  # model name, version, run id, git sha
    # serving.rollout: the serving image's environment naming the mode and the challenger
    rollout: tuple[tuple[str, str], ...] = ()
    kedro_init_version: str = ""
    user: str = "kedro"
    uid: int = 10001
    gid: int = 10001
    workdir: str = WORKDIR
    java: bool = False  # a Java runtime in the images (the requirements hold JAVA_DISTRIBUTIONS)
    extra: dict[str, Any] = field(default_factory=dict, compare=False)

    @property
    def mlflow_dir(self) -> str:
        """Where the default SQLite MLflow store lives in a container (mount a directory here)."""
        return ContainerPaths(self.workdir).mlflow

    def variables(self) -> dict[str, Any]:
        """The template variables: every field, ``mlflow_dir``, ``tracking_uri`` and ``extra``."""
        values = {name: getattr(self, name) for name in self.__dataclass_fields__}
        values.pop("extra")
        values["mlflow_dir"] = self.mlflow_dir
        values["tracking_uri"] = ContainerPaths(self.workdir).tracking_uri
        return {**values, **self.extra}


def quote(value: object) -> str:
    """A double-quoted Dockerfile word (``LABEL`` values): ``\\``, ``"`` and ``$`` escaped.

    Raises:
        PackagingError: for a value with a line break (it would end the instruction).
    """
    text = str(value)
    if "\n" in text or "\r" in text:
        raise PackagingError(f"A label value cannot hold a line break: {text!r}")
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("$", "\\$")
    return f'"{escaped}"'


def shell_word(value: object) -> str:
    """A single-quoted ``sh`` word (``'`` inside becomes ``'\\''``)."""
    return shlex.quote(str(value))


def as_json(value: object) -> str:
    """JSON for exec-form ``ENTRYPOINT``/``CMD`` arrays (plain JSON, not HTML-escaped)."""
    return json.dumps(value)


def environment(search_path: Iterable[Path]) -> Environment:
    """A Jinja environment over ``search_path`` with the ``quote`` and ``json`` filters.

    Undefined names are errors (a typo in a user template must not render as nothing).
    """
    from jinja2 import Environment, FileSystemLoader, StrictUndefined  # noqa: PLC0415

    env = Environment(
        loader=FileSystemLoader([str(path) for path in search_path]),
        undefined=StrictUndefined,
        keep_trailing_newline=True,
        autoescape=False,  # noqa: S701 - Dockerfiles and Markdown, not HTML
    )
    env.filters["quote"] = quote
    env.filters["json"] = as_json
    env.filters["shell"] = shell_word
    return env


def dockerfile_template(user_template: Path | None) -> Path:
    """The template to render: the user's file when given, else the built-in one.

    Raises:
        PackagingError: if the user's file does not exist.
    """
    if user_template is None:
        return DOCKERFILE_TEMPLATE
    if not user_template.is_file():
        raise PackagingError(
            f"Dockerfile template {str(user_template)!r} does not exist; fix packaging.template "
            f"/ --template, or start from a copy of the built-in one: {DOCKERFILE_TEMPLATE}"
        )
    return user_template


def render_dockerfile(spec: ContextSpec, template: Path = DOCKERFILE_TEMPLATE) -> str:
    """Render the Dockerfile ``template`` with ``spec``.

    Raises:
        PackagingError: if a user template does not parse or uses an unknown variable.
    """
    from jinja2 import TemplateError  # noqa: PLC0415

    env = environment([template.parent])
    try:
        return env.get_template(template.name).render(**spec.variables())
    except TemplateError as exc:
        raise PackagingError(
            f"Cannot render Dockerfile template {str(template)!r}: {exc}. Known variables: "
            f"{', '.join(sorted(spec.variables()))}."
        ) from None


def render_dockerignore(spec: ContextSpec) -> str:
    """The ``.dockerignore`` of the context."""
    return environment([TEMPLATES]).get_template("dockerignore.j2").render(**spec.variables())


def render_readme(spec: ContextSpec) -> str:
    """The context's README: the images, how to build them, how to run each one."""
    return environment([TEMPLATES]).get_template("README.md.j2").render(**spec.variables())


def render_kedro_pyproject(spec: ContextSpec) -> str:
    """A ``pyproject.toml`` holding only ``[tool.kedro]``: the images' working directory is then
    a Kedro project, so ``kedro`` commands (``kedro mlops monitor``) run in a container."""
    return environment([TEMPLATES]).get_template("pyproject.toml.j2").render(**spec.variables())


def has_deps_stage(dockerfile: str) -> bool:
    """Whether a Dockerfile defines the ``deps`` stage (built and tagged once per requirements)."""
    return bool(_DEPS_STAGE.search(dockerfile))


def deps_digest(
    *,
    template_text: str,
    base_image: str,
    requirements: str,
    wheels: Iterable[Path],
    offline: bool,
    user: tuple[str, int, int],
    slimming: tuple[bool, tuple[str, ...]] = (False, ()),
) -> str:
    """A short content hash of everything the ``deps`` stage is built from.

    The dependency image is tagged with it: same requirements, wheels, base image, template and
    slimming (``bytecode``, ``prune``), same tag, so the builder is not asked again (podman 4.3
    re-reads the whole venv to check the cache of a ``COPY --from``: ~30 s for a 1 GB venv).
    """
    digest = hashlib.sha256()
    for part in (template_text, base_image, requirements, str(offline), repr(user), repr(slimming)):
        digest.update(part.encode("utf-8"))
        digest.update(b"\0")
    for wheel in sorted(wheels, key=lambda path: path.name):
        digest.update(wheel.name.encode("utf-8"))
        with wheel.open("rb") as handle:
            for chunk in iter(lambda: handle.read(1 << 20), b""):
                digest.update(chunk)
    return digest.hexdigest()[:12]
