from __future__ import annotations

import subprocess
from importlib.metadata import version
from pathlib import Path

import pytest
import tomllib

from kedro_mlops.config import DEFAULT_PRUNE, PackagingConfig
from kedro_mlops.packaging.context import (
    MARKER,
    PackageOptions,
    Project,
    ServeModel,
    check_pipelines,
    merge_options,
    removable_tools,
    resolve_output,
    write_context,
)
from kedro_mlops.packaging.errors import PackagingError
from kedro_mlops.packaging.requirements import Pin, installed
from kedro_mlops.packaging.sources import _public_url, copy_conf, git_info, is_forbidden

DEFAULTS = PackagingConfig()


ALL_DEFAULTS = {
    "pipelines": ["data_engineering", "data_science", "serving", "serve"],
    "output": "dist/mlops",
    "base_image": "python:3.11-slim",
    "builder": "auto",
    "tag": None,
    "wheels": False,
    "push": None,
    "bytecode": False,
    "prune": DEFAULT_PRUNE,
}


@pytest.mark.parametrize(
    ("config", "cli", "expected"),
    [
        ({}, {}, ALL_DEFAULTS),
        ({"wheels": True, "tag": "v1"}, {}, {"wheels": True, "tag": "v1"}),
        ({"wheels": True}, {"wheels": False}, {"wheels": False}),
        ({"pipelines": ["a", "b"]}, {"pipelines": ["c"]}, {"pipelines": ["c"]}),
        ({"builder": "podman"}, {"builder": "docker"}, {"builder": "docker"}),
        ({}, {"base_image": "x:1"}, {"base_image": "x:1"}),
        ({"push": "ghcr.io/a", "template": "t.j2"}, {}, {"push": "ghcr.io/a", "template": "t.j2"}),
        ({}, {"output": "out", "push": "r.io/b"}, {"output": "out", "push": "r.io/b"}),
        ({"bytecode": True}, {}, {"bytecode": True}),
        ({"bytecode": True}, {"bytecode": False}, {"bytecode": False}),
        ({"prune": ["a/tests"]}, {}, {"prune": ("a/tests",)}),
    ],
)
def test_cli_options_override_config(config, cli, expected):
    options = merge_options(PackagingConfig(**config), **cli)
    for key, value in expected.items():
        assert getattr(options, key) == value


def test_removable_tools_keeps_pinned_installers():
    assert removable_tools([Pin("pyyaml", "6"), Pin("setuptools", "80.0")]) == ("pip",)
    assert removable_tools([Pin("pip", "25.0"), Pin("pyyaml", "6")]) == ()


def test_check_pipelines():
    check_pipelines(["a", "b"], ["a", "b", "__default__"])
    with pytest.raises(
        PackagingError, match=r"Pipeline\(s\) 'x', 'y' not registered .*registered: __default__, a"
    ):
        check_pipelines(["a", "x", "y"], ["a", "__default__"])


@pytest.mark.parametrize(
    ("path", "forbidden"),
    [
        ("catalog.yml", False),
        ("parameters_data_science.yml", False),
        ("credentials.yml", True),
        ("my_Credentials.yaml", True),
        ("secrets/aws.yml", True),
        ("api_secret.txt", True),
        (".env", True),
        (".env.prod", True),
        ("notes/analysis.ipynb", True),
        ("environment.yml", False),
    ],
)
def test_is_forbidden(path, forbidden):
    assert is_forbidden(Path(path)) is forbidden


def test_resolve_output_refuses_dangerous_places(tmp_path):
    (tmp_path / "src").mkdir()
    for output in (".", "..", "src", "conf/base", "data/mlops"):
        with pytest.raises(PackagingError, match="Output"):
            resolve_output(tmp_path, output)
    foreign = tmp_path / "dist" / "other"
    foreign.mkdir(parents=True)
    (foreign / "keep.txt").write_text("mine")
    with pytest.raises(PackagingError, match="was not written by kedro mlops package"):
        resolve_output(tmp_path, "dist/other")
    (foreign / MARKER).write_text("")
    assert resolve_output(tmp_path, "dist/other") == foreign.resolve()
    assert resolve_output(tmp_path, "dist/new") == (tmp_path / "dist" / "new").resolve()


def test_copy_conf_leaves_credentials_and_secrets_out(tmp_path):
    conf = tmp_path / "conf"
    for name in ("base/catalog.yml", "base/credentials.yml", "base/secrets/key.yml",
                 "base/sub/params.yml", "base/.env", "local/credentials.yml"):  # fmt: skip
        (conf / name).parent.mkdir(parents=True, exist_ok=True)
        (conf / name).write_text("x: 1\n")
    left_out = copy_conf(conf, "base", tmp_path / "ctx" / "conf")
    copied = sorted(
        p.relative_to(tmp_path / "ctx").as_posix()
        for p in (tmp_path / "ctx").rglob("*")
        if p.is_file()
    )
    assert copied == ["conf/base/catalog.yml", "conf/base/sub/params.yml"]
    assert sorted(left_out) == ["base/.env", "base/credentials.yml", "base/secrets"]


def test_copy_conf_needs_the_base_environment(tmp_path):
    with pytest.raises(
        PackagingError, match="does not exist: the images need the base configuration"
    ):
        copy_conf(tmp_path, "base", tmp_path / "ctx")


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://user:ghp_token@github.com/acme/x.git", "https://github.com/acme/x.git"),
        ("https://github.com/acme/x.git", "https://github.com/acme/x.git"),
        ("ssh://git@host:2222/acme/x", "ssh://host:2222/acme/x"),
        ("git@github.com:acme/x.git", "git@github.com:acme/x.git"),
        (None, None),
    ],
)
def test_public_url_drops_credentials(url, expected):
    assert _public_url(url) == expected


def git(path: Path, *args: str) -> str:
    config = ["-c", "user.name=ci", "-c", "user.email=ci@example.com"]
    return subprocess.run(
        ["git", *config, *args], cwd=path, capture_output=True, text=True, check=True
    ).stdout.strip()


def test_git_info(tmp_path):
    assert git_info(tmp_path) == (None, None, False)
    git(tmp_path, "init", "-q", "-b", "main")
    (tmp_path / "f").write_text("x")
    git(tmp_path, "add", "f")
    git(tmp_path, "commit", "-qm", "x")
    git(tmp_path, "remote", "add", "origin", "https://bob:s3cret@example.com/acme/p.git")
    sha = git(tmp_path, "rev-parse", "HEAD")
    assert git_info(tmp_path) == (sha, "https://example.com/acme/p.git", False)
    (tmp_path / "f").write_text("changed")
    assert git_info(tmp_path).dirty is True
    (tmp_path / "untracked").write_text("y")
    (tmp_path / "f").write_text("x")
    assert git_info(tmp_path).dirty is False  # untracked files are not part of the image's code


@pytest.fixture
def mini_project(tmp_path) -> Project:
    """A tiny installable project depending on PyYAML (installed here), with conf and secrets."""
    root = tmp_path / "mini"
    (root / "src" / "mini").mkdir(parents=True)
    (root / "src" / "mini" / "__init__.py").write_text('__version__ = "0.3"\n')
    (root / "pyproject.toml").write_text(
        '[build-system]\nrequires = ["setuptools"]\nbuild-backend = "setuptools.build_meta"\n'
        '[project]\nname = "mini"\nversion = "0.3"\ndependencies = ["pyyaml>=5"]\n'
        '[tool.setuptools.packages.find]\nwhere = ["src"]\n'
    )
    for name in ("base/catalog.yml", "base/credentials.yml", "local/credentials.yml"):
        (root / "conf" / name).parent.mkdir(parents=True, exist_ok=True)
        (root / "conf" / name).write_text("x: 1\n")
    return Project(path=root, name="Mini Demo", package="mini", conf_source=root / "conf")


def options(**overrides) -> PackageOptions:
    return merge_options(PackagingConfig(pipelines=["a", "b"]), **overrides)


def test_write_context(mini_project):
    messages: list[str] = []
    result = write_context(mini_project, options(tag="t1"), echo=messages.append)
    ctx = mini_project.path / "dist" / "mlops"
    assert result.directory == ctx.resolve()
    expected = {".dockerignore", MARKER, "Dockerfile", "README.md", "conf", "project"}
    assert {p.name for p in ctx.iterdir()} == expected | {"requirements.txt", "wheels"}
    assert sorted(p.name for p in (ctx / "project").iterdir()) == [
        "mini-0.3-py3-none-any.whl",
        "pyproject.toml",
    ]
    # [tool.kedro] alone: `kedro` commands run in the images' working directory
    kedro_table = tomllib.loads((ctx / "project" / "pyproject.toml").read_text())
    assert kedro_table == {
        "tool": {
            "kedro": {
                "package_name": "mini",
                "project_name": "Mini Demo",
                "kedro_init_version": version("kedro"),
                "source_dir": "src",
            }
        }
    }
    pyyaml = installed("pyyaml").version
    assert f"pyyaml=={pyyaml}\n" in (ctx / "requirements.txt").read_text()
    assert "mini==" not in (ctx / "requirements.txt").read_text()
    assert result.spec.venv_tools == ("pip",)  # pyyaml does not pin pip
    assert [p.relative_to(ctx).as_posix() for p in (ctx / "conf").rglob("*") if p.is_file()] == [
        "conf/base/catalog.yml"
    ]
    assert result.left_out == ["conf/base/credentials.yml"]
    assert [image.reference for image in result.images] == ["mini-demo-a:t1", "mini-demo-b:t1"]
    assert result.deps_image == result.spec.deps_image
    assert result.deps_image.startswith("mini-demo-deps:")
    dockerfile = (ctx / "Dockerfile").read_text()
    assert f"ARG DEPS_IMAGE={result.deps_image}" in dockerfile
    assert "COPY project/mini-0.3-py3-none-any.whl" in dockerfile
    assert '"--pipelines", "b"]' in dockerfile
    assert "mini-demo-b:t1" in (ctx / "README.md").read_text()
    assert any("project wheel" in message for message in messages)

    # again: the same dependency image, a kept wheels/ folder, nothing stale left behind
    (ctx / "wheels" / "keep-1.0-py3-none-any.whl").write_bytes(b"")
    (ctx / "stray.txt").write_text("old")
    again = write_context(mini_project, options(tag="t1"), echo=messages.append)
    assert again.deps_image == result.deps_image
    assert not (ctx / "stray.txt").exists()
    assert list((ctx / "wheels").iterdir()) == []  # no pin asks for keep==1.0

    # bytecode and prune change what the dependency image holds: another tag
    with_pyc = write_context(mini_project, options(tag="t1", bytecode=True))
    assert with_pyc.deps_image != result.deps_image
    assert "--no-compile" not in with_pyc.dockerfile
    assert "--no-compile" in dockerfile
    unpruned = write_context(
        mini_project, merge_options(PackagingConfig(pipelines=["a"], prune=[]), tag="t1")
    )
    assert unpruned.deps_image not in (result.deps_image, with_pyc.deps_image)
    assert "site-packages/numpy" not in unpruned.dockerfile and "site-packages/numpy" in dockerfile


def test_write_context_refuses_a_bad_registry_before_building(mini_project):
    with pytest.raises(PackagingError, match=r"Invalid registry 'https://r\.io'"):
        write_context(mini_project, options(push="https://r.io"))
    assert not (mini_project.path / "dist").exists()


def test_write_context_with_a_user_template(mini_project):
    (mini_project.path / "my.j2").write_text(
        "FROM {{ base_image }}\n{% for image in images %}# {{ image.reference }}\n{% endfor %}"
    )
    result = write_context(mini_project, options(template="my.j2", base_image="x/y:1"))
    assert result.dockerfile == "FROM x/y:1\n# mini-demo-a:0.3\n# mini-demo-b:0.3\n"
    assert result.deps_image is None  # no deps stage: nothing to build apart


def test_the_serving_image_needs_a_model(mini_project):
    with pytest.raises(PackagingError, match=r"The 'serve' image carries a model but none"):
        write_context(mini_project, options(pipelines=["serve"]))


def test_write_context_for_the_serving_image(mini_project, tmp_path):
    bundle = tmp_path / "bundle"
    bundle.mkdir()
    (bundle / "serving.json").write_text("{}")
    model = ServeModel(bundle=bundle, name="mini", version="3", run_id="abc", git_sha="f00")
    result = write_context(mini_project, options(pipelines=["a", "serve"]), serve_model=model)
    serve = result.directory / "serve"
    assert (serve / "model" / "serving.json").read_text() == "{}"
    assert (serve / "kedro_mlops" / "serving" / "app.py").is_file()
    assert not (serve / "kedro_mlops" / "tracking").exists()  # only what serving runs
    lines = (serve / "requirements.txt").read_text().splitlines()
    pinned = {line.split("==")[0] for line in lines if line and not line.startswith("#")}
    assert {"kedro", "scikit-learn", "pandas", "fastapi", "uvicorn", "prometheus-client"} <= pinned
    assert not pinned & {"mlflow", "evidently", "matplotlib", "plotly", "kedro-mlops", "mini"}
    assert ("org.kedro.model.version", "3") in result.spec.serve_labels
    assert [image.stage for image in result.images] == ["pipeline-a", "serve"]
