"""`packaging.package_project`: the whole `kedro mlops package` from Python, without click."""

from __future__ import annotations

import pytest

from kedro_mlops.config import PackagingConfig
from kedro_mlops.packaging import (
    BuilderNotFoundError,
    NoServeModelError,
    PackagingError,
    merge_options,
    package_project,
)
from kedro_mlops.packaging.serve import ServeModel
from tests.packaging.test_context import mini_project  # noqa: F401 - a fixture

REGISTERED = ("a", "b")


def no_model(_directory):
    raise NoServeModelError("no tracked model and no local files")


def test_a_missing_model_leaves_the_serving_image_out_and_says_why(mini_project):  # noqa: F811
    notes, progress = [], []
    report = package_project(
        mini_project,
        merge_options(PackagingConfig(pipelines=["a", "serve"])),
        registered=REGISTERED,
        serve_model=no_model,
        echo=progress.append,
        warn=notes.append,
    )
    assert notes == [
        "  left out the 'serve' image: no model to put inside yet (no tracked model and no local "
        "files)"
    ]
    assert [image.pipeline for image in report.context.images] == ["a"]
    assert report.build is None and report.serve_model is None
    assert str(report.where) == "dist/mlops"
    lines = report.context_lines()
    assert lines[0].startswith("Build context written: dist/mlops/ (")
    assert lines[-1].split() == ["mini-demo-a:0.3", "kedro", "run", "--pipelines", "a"]
    assert report.build_lines()[0].startswith("Build them with `kedro mlops package --build`")
    assert any("project wheel" in line for line in progress)


def test_a_serving_image_asked_for_by_name_needs_its_model(mini_project):  # noqa: F811
    with pytest.raises(NoServeModelError, match="no tracked model"):
        package_project(
            mini_project,
            merge_options(PackagingConfig(pipelines=["serve"])),
            registered=REGISTERED,
            serve_model=no_model,
            serve_asked=True,
        )
    assert not (mini_project.path / "dist").exists()


def test_the_model_goes_into_the_serving_image(mini_project, tmp_path):  # noqa: F811
    def saved(directory):
        (directory / "model").mkdir()
        (directory / "model" / "MLmodel").write_text("flavors: {}\n")
        return ServeModel(bundle=directory / "model", name="mini", version="4")

    report = package_project(
        mini_project,
        merge_options(PackagingConfig(pipelines=["serve"])),
        registered=REGISTERED,
        serve_model=saved,
    )
    assert (report.context.directory / "serve" / "model" / "MLmodel").exists()
    assert report.context_lines()[-1].split()[1:] == ["serves", "mini", "v4", "on", "port", "8080"]


def test_unknown_pipelines_are_refused_before_anything_is_written(mini_project):  # noqa: F811
    with pytest.raises(PackagingError, match=r"Pipeline\(s\) 'c' not registered"):
        package_project(
            mini_project,
            merge_options(PackagingConfig(pipelines=["c"])),
            registered=REGISTERED,
            serve_model=no_model,
        )
    assert not (mini_project.path / "dist").exists()


def test_no_builder_says_the_context_is_written(mini_project, monkeypatch):  # noqa: F811
    monkeypatch.setenv("PATH", "")
    monkeypatch.delenv("DOCKER_HOST", raising=False)
    progress = []
    with pytest.raises(BuilderNotFoundError) as caught:
        package_project(
            mini_project,
            merge_options(PackagingConfig(pipelines=["a"]), builder="podman"),
            registered=REGISTERED,
            serve_model=no_model,
            build=True,
            echo=progress.append,
        )
    assert caught.value.message.endswith(
        "The build context is written: dist/mlops/ (its README.md shows the build commands)."
    )
    assert caught.value.exit_code == 2
    assert any(line.startswith("Build context written: dist/mlops/") for line in progress)
