"""`kedro mlops package` of a Spark project: a Java runtime in the pipeline images."""

from __future__ import annotations

import subprocess

import pytest

from kedro_mlops.packaging.render import render_dockerfile
from tests.packaging.test_render import SERVE_IMAGES, hadolint, make_spec, stage_text

JRE = "openjdk-17-jre-headless"


def test_a_spark_project_gets_java_in_its_runtime_base():
    dockerfile = render_dockerfile(make_spec(java=True))
    deps = stage_text(dockerfile, "deps")
    assert f"apt-get install --yes --no-install-recommends {JRE}" in deps
    assert deps.index(JRE) < deps.index("USER ")  # installed as root, before the user switch
    assert "rm -rf /var/lib/apt/lists/*" in deps
    assert JRE not in render_dockerfile(make_spec())


def test_the_serving_image_stays_without_java():
    dockerfile = render_dockerfile(make_spec(images=SERVE_IMAGES, java=True))
    assert JRE not in stage_text(dockerfile, "serve")


@pytest.mark.parametrize("images", [None, SERVE_IMAGES], ids=["pipelines", "serve"])
def test_hadolint_passes(tmp_path, images):
    spec = make_spec(java=True) if images is None else make_spec(images=images, java=True)
    dockerfile = tmp_path / "Dockerfile"
    dockerfile.write_text(render_dockerfile(spec))
    result = subprocess.run(
        [hadolint(), str(dockerfile)], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr
