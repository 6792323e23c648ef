from __future__ import annotations

import json
import zipfile
from dataclasses import dataclass, field

import pytest

from kedro_mlops.packaging.errors import PackagingError
from kedro_mlops.packaging.requirements import (
    Pin,
    download_command,
    image_python,
    installed,
    local_source,
    local_wheel_command,
    missing_pins,
    pin_requirements,
    platform_flags,
    requirements_text,
    stale_wheels,
    target_environment,
    wheel_key,
    wheel_requirements,
)

LINUX_311 = target_environment("3.11")


@dataclass
class Dist:
    """An installed distribution as importlib.metadata describes it."""

    version: str
    requires: list[str] | None = None
    files: dict[str, str] = field(default_factory=dict)

    def read_text(self, filename: str) -> str | None:
        return self.files.get(filename)


def lookup_in(dists: dict[str, Dist]):
    return lambda name: dists.get(name.lower().replace("_", "-"))


ENV = {
    "app-lib": Dist(
        "1.0", ["numpy>=1.20", "pandas[parquet]>=2", "pywin32; sys_platform == 'win32'"]
    ),
    "numpy": Dist("2.4.6"),
    "pandas": Dist(
        "3.0.6",
        ["numpy>=1.22", "pyarrow>=10; extra == 'parquet'", "openpyxl; extra == 'excel'"],
    ),
    "pyarrow": Dist("25.0.1"),
    "openpyxl": Dist("3.1.0"),
    "tomli": Dist("2.0.0"),
    "local-pkg": Dist(
        "0.1.0",
        files={
            "direct_url.json": json.dumps(
                {"url": "file:///src/local-pkg", "dir_info": {"editable": True}}
            )
        },
    ),
}


def pins(requirements, dists=ENV, **kwargs):
    return {
        pin.name: pin.version
        for pin in pin_requirements(requirements, lookup_in(dists), LINUX_311, **kwargs)
    }


@pytest.mark.parametrize(
    ("requirements", "expected"),
    [
        (["numpy"], {"numpy": "2.4.6"}),
        (["pandas"], {"pandas": "3.0.6", "numpy": "2.4.6"}),
        (["pandas[parquet]"], {"pandas": "3.0.6", "numpy": "2.4.6", "pyarrow": "25.0.1"}),
        (["pandas", "pandas[parquet]"], {"pandas": "3.0.6", "numpy": "2.4.6", "pyarrow": "25.0.1"}),
        (["app-lib"], {"app-lib": "1.0", "pandas": "3.0.6", "numpy": "2.4.6", "pyarrow": "25.0.1"}),
        (["tomli; python_version < '3.11'"], {}),
        (["tomli; python_version >= '3.11'"], {"tomli": "2.0.0"}),
        (["numpy", "pytest; extra == 'test'"], {"numpy": "2.4.6"}),
    ],
)
def test_closure_with_extras_and_markers(requirements, expected):
    assert pins(requirements) == expected


def test_skip_the_project_itself():
    assert pins(["app-lib", "numpy"], skip=["App_Lib"]) == {"numpy": "2.4.6"}


def test_local_distributions_are_marked():
    (pin,) = pin_requirements(["local-pkg"], lookup_in(ENV), LINUX_311)
    assert pin == Pin("local-pkg", "0.1.0", "/src/local-pkg")


def test_missing_and_unsatisfied_requirements_are_all_named():
    with pytest.raises(PackagingError) as caught:
        pin_requirements(["numpy>=3", "pandas", "ghost>=1"], lookup_in(ENV), LINUX_311)
    message = str(caught.value)
    assert "installed numpy 2.4.6 does not satisfy 'numpy>=3' (needed by the project)" in message
    assert "ghost>=1 (needed by the project) is not installed" in message
    assert "pip install -e ." in message


def test_invalid_requirement_names_who_wants_it():
    with pytest.raises(PackagingError, match="Invalid requirement 'numpy ==' of the project"):
        pin_requirements(["numpy =="], lookup_in(ENV), LINUX_311)


def test_pins_this_environment_for_real():
    resolved = {pin.name: pin for pin in pin_requirements(["kedro-mlflow"])}
    assert {"kedro-mlflow", "mlflow", "kedro", "pandas"} <= set(resolved)
    assert resolved["mlflow"].version == installed("mlflow").version


@pytest.mark.parametrize(
    ("direct_url", "expected"),
    [
        (None, None),
        (
            {"url": "file:///srv/w/kedro_mlops-0.1.0-py3-none-any.whl", "archive_info": {}},
            "/srv/w/kedro_mlops-0.1.0-py3-none-any.whl",
        ),
        ({"url": "file:///srv/my%20lib", "dir_info": {"editable": True}}, "/srv/my lib"),
        (
            {"url": "https://example.com/x-1.0.tar.gz", "archive_info": {}},
            "https://example.com/x-1.0.tar.gz",
        ),
        (
            {"url": "https://github.com/a/b", "vcs_info": {"vcs": "git", "commit_id": "abc"}},
            "git+https://github.com/a/b@abc",
        ),
    ],
)
def test_local_source(direct_url, expected):
    files = {} if direct_url is None else {"direct_url.json": json.dumps(direct_url)}
    assert local_source(Dist("1", files=files)) == expected


def test_requirements_text():
    text = requirements_text([Pin("a", "1"), Pin("b", "2", "/src/b")], "made here\nby us")
    assert (
        text == "# made here\n# by us\na==1\nb==2  # not from an index: its wheel is in wheels/\n"
    )


def test_wheel_requirements(tmp_path):
    wheel = tmp_path / "demo-0.1-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as archive:
        archive.writestr(
            "demo-0.1.dist-info/METADATA",
            "Metadata-Version: 2.1\nName: demo\nVersion: 0.1\nRequires-Dist: kedro~=1.7.0\n"
            "Requires-Dist: kedro-mlops\n",
        )
    assert wheel_requirements(wheel) == ["kedro~=1.7.0", "kedro-mlops"]


@pytest.mark.parametrize(
    ("filename", "expected"),
    [
        ("kedro_mlops-0.1.0-py3-none-any.whl", ("kedro-mlops", "0.1.0")),
        (
            "numpy-2.4.6-cp311-cp311-manylinux_2_27_x86_64.manylinux_2_28_x86_64.whl",
            ("numpy", "2.4.6"),
        ),
        ("pandas-3.0.6.tar.gz", None),
        ("not-a-wheel.whl", None),
    ],
)
def test_wheel_key(filename, expected):
    assert wheel_key(filename) == expected


def test_missing_and_stale_wheels():
    wanted = [Pin("numpy", "2.4.6"), Pin("kedro-mlops", "0.1.0", "/src"), Pin("Jinja2", "3.1.6")]
    files = [
        "numpy-2.4.6-cp311-cp311-linux_x86_64.whl",
        "numpy-2.4.5-cp311-cp311-linux_x86_64.whl",
        "README",
    ]
    assert missing_pins(wanted, files) == [Pin("Jinja2", "3.1.6")]
    assert stale_wheels(wanted, files) == ["numpy-2.4.5-cp311-cp311-linux_x86_64.whl"]


@pytest.mark.parametrize(
    ("base_image", "expected"),
    [
        ("python:3.11-slim", "3.11"),
        ("docker.io/library/python:3.12-slim-bookworm", "3.12"),
        ("localhost/python-base:bookworm", None),
        ("ghcr.io/acme/python:3.10", "3.10"),
    ],
)
def test_image_python(base_image, expected):
    assert image_python(base_image) == expected


@pytest.mark.parametrize(
    ("image_version", "system", "machine", "expected_head", "platforms"),
    [
        ("3.11", "Linux", "x86_64", [], []),
        (None, "Linux", "x86_64", [], []),
        (
            "3.12",
            "Linux",
            "x86_64",
            ["--only-binary=:all:"],
            ["manylinux_2_28_x86_64", "manylinux2014_x86_64"],
        ),
        (
            "3.11",
            "Darwin",
            "arm64",
            ["--only-binary=:all:"],
            ["manylinux_2_28_aarch64", "linux_aarch64"],
        ),
    ],
)
def test_platform_flags(image_version, system, machine, expected_head, platforms):
    flags = platform_flags(
        image_version, host_python="3.11", host_system=system, host_machine=machine
    )
    assert flags[: len(expected_head)] == expected_head
    for platform_tag in platforms:
        assert platform_tag in flags
    if flags:
        version = image_version or "3.11"
        assert flags[flags.index("--python-version") + 1] == version
        assert f"cp{version.replace('.', '')}" in flags


def test_download_and_local_wheel_commands(tmp_path):
    assert download_command("py", [Pin("a", "1")], tmp_path, ["--only-binary=:all:"]) == [
        "py", "-m", "pip", "download", "--no-deps", "--disable-pip-version-check",
        "--dest", str(tmp_path), "--only-binary=:all:", "a==1",
    ]  # fmt: skip
    assert local_wheel_command("py", "/src/b", tmp_path) == [
        "py", "-m", "pip", "wheel", "--no-deps", "--disable-pip-version-check",
        "--wheel-dir", str(tmp_path), "/src/b",
    ]  # fmt: skip
