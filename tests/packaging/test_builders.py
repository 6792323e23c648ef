from __future__ import annotations

import sys
from pathlib import Path

import pytest

from kedro_mlops.packaging.builders import (
    archive_name,
    build_command,
    choose_builder,
    docker_probe_command,
    image_exists_command,
    load_command,
    needs_dependency_image,
    push_command,
    run_streaming,
    save_command,
    tag_command,
)
from kedro_mlops.packaging.errors import BuildError, PackagingError
from kedro_mlops.packaging.images import ImageSpec

CTX = Path("/p/dist/mlops")


def which_of(*installed):
    return lambda name: f"/usr/bin/{name}" if name in installed else None


@pytest.mark.parametrize(
    ("requested", "installed", "engine_up", "expected"),
    [
        ("auto", ("docker", "podman", "buildah"), True, "docker"),
        ("auto", ("docker", "podman", "buildah"), False, "podman"),  # a CLI without an engine
        ("auto", ("docker", "buildah"), False, "buildah"),
        ("auto", ("buildah",), False, "buildah"),
        ("auto", ("docker",), False, None),
        ("auto", (), False, None),
        ("podman", ("docker", "podman"), True, "podman"),
        ("docker", ("docker",), False, "docker"),  # asked for: its own error will say why
        ("buildah", ("podman",), False, None),
    ],
)
def test_choose_builder(requested, installed, engine_up, expected):
    assert choose_builder(requested, which_of(*installed), lambda: engine_up) == expected


def test_choose_builder_only_probes_docker_when_it_is_installed():
    def probe():
        raise AssertionError("probed")

    assert choose_builder("auto", which_of("podman"), probe) == "podman"


def test_choose_builder_refuses_unknown():
    with pytest.raises(PackagingError, match="Unknown builder 'kaniko'"):
        choose_builder("kaniko", which_of("kaniko"), lambda: False)


@pytest.mark.parametrize(
    ("builder", "offline", "expected"),
    [
        ("docker", False, ["docker", "build"]),
        ("podman", False, ["podman", "build", "--format", "docker"]),
        ("buildah", False, ["buildah", "build", "--format", "docker", "--layers"]),
        ("podman", True, ["podman", "build", "--format", "docker"]),
    ],
)
def test_build_command(builder, offline, expected):
    command = build_command(builder, CTX, "pipeline-serving", "p-serving:1", offline=offline)
    common = [
        "--file",
        "/p/dist/mlops/Dockerfile",
        "--target",
        "pipeline-serving",
        "--tag",
        "p-serving:1",
    ]
    network = ["--network", "none"] if offline else []
    assert command == [*expected, *common, *network, "/p/dist/mlops"]


@pytest.mark.parametrize(
    ("builder", "expected"),
    [
        ("docker", ["docker", "image", "inspect", "--format", "{{.Id}}", "p-deps:ab"]),
        ("podman", ["podman", "image", "exists", "p-deps:ab"]),
        (
            "buildah",
            ["buildah", "inspect", "--type", "image", "--format", "{{.FromImageID}}", "p-deps:ab"],
        ),
    ],
)
def test_image_exists_command(builder, expected):
    assert image_exists_command(builder, "p-deps:ab") == expected


@pytest.mark.parametrize("builder", ["docker", "podman", "buildah"])
def test_tag_and_push(builder):
    assert tag_command(builder, "a:1", "r.io/a:1") == [builder, "tag", "a:1", "r.io/a:1"]
    assert push_command(builder, "r.io/a:1") == [builder, "push", "r.io/a:1"]


def test_docker_probe_asks_the_engine():
    assert docker_probe_command() == ["docker", "version", "--format", "{{.Server.Version}}"]


def test_run_streaming_passes_every_line():
    lines: list[str] = []
    run_streaming([sys.executable, "-c", "print('a'); print('b')"], lines.append, what="print")
    assert lines == ["a", "b"]


def test_run_streaming_failure_shows_the_tail_of_the_output():
    script = "import sys\nfor i in range(40): print(f'line {i}')\nsys.exit(3)"
    with pytest.raises(BuildError) as caught:
        run_streaming([sys.executable, "-c", script], lambda _line: None, what="build x:1")
    message = str(caught.value)
    assert "failed to build x:1 (exit code 3)" in message
    assert "  | line 39" in message
    assert "line 10\n" not in message  # only the tail
    assert "run `kedro mlops package --build` again" in message


def test_run_streaming_missing_program_says_what_to_install():
    with pytest.raises(BuildError, match="Install one of: Docker"):
        run_streaming(["no-such-builder-here"], lambda _line: None, what="build x:1")


@pytest.mark.parametrize("builder", ["docker", "podman"])
def test_cache_archive_commands(builder):
    archive = Path("/c/bar-demo-deps_0123456789ab.tar")
    assert archive_name("bar-demo-deps:0123456789ab") == archive.name
    assert archive_name("localhost/x/y:1.0") == "localhost_x_y_1.0.tar"
    assert save_command(builder, "bar-demo-deps:0123456789ab", archive) == [
        builder, "save", "--output", str(archive), "bar-demo-deps:0123456789ab",
    ]  # fmt: skip
    assert load_command(builder, archive) == [builder, "load", "--input", str(archive)]


PIPELINE = ImageSpec("serving", "p-serving", "ab")
SERVER = ImageSpec("serve", "p-serve", "ab", http_port=8080, server=True)


@pytest.mark.parametrize(
    ("deps_image", "images", "expected"),
    [
        ("p-deps:ab", [PIPELINE], True),
        ("p-deps:ab", [PIPELINE, SERVER], True),
        ("p-deps:ab", [SERVER], False),  # the serving image has a venv of its own
        ("p-deps:ab", [], True),  # the dependency image alone (CI's cache)
        (None, [PIPELINE], False),
    ],
)
def test_needs_dependency_image(deps_image, images, expected):
    assert needs_dependency_image(deps_image, images) is expected
