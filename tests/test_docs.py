"""The documentation site: built strictly (broken links and missing pages fail), its references
generated from the code, and the README an overview that links into it."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
STARTER = ROOT / "starters" / "mlops"
TEMPLATE_README = STARTER / "{{ cookiecutter.repo_name }}" / "README.md"


def build(root: Path, site: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(site)],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1", "KEDRO_DISABLE_TELEMETRY": "1"},
        check=False,
    )


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    directory = tmp_path_factory.mktemp("site")
    result = build(ROOT, directory)
    assert result.returncode == 0, result.stdout + result.stderr
    return directory


def copy_of_the_docs(tmp_path: Path) -> Path:
    copy = tmp_path / "project"
    shutil.copytree(DOCS, copy / "docs")
    shutil.copy(ROOT / "mkdocs.yml", copy)
    (copy / "starters" / "mlops").mkdir(parents=True)
    shutil.copy(STARTER / "cookiecutter.json", copy / "starters" / "mlops")
    return copy


def test_the_site_builds_strictly_with_every_page(site):
    for page in ("getting-started", "tracking", "monitoring", "packaging", "serving", "export",
                 "cicd", "reference/configuration", "reference/cli", "architecture",
                 "benchmarks", "platforms"):  # fmt: skip
        assert (site / page / "index.html").exists(), page


def test_a_broken_link_fails_the_build(tmp_path):
    copy = copy_of_the_docs(tmp_path)
    page = copy / "docs" / "serving.md"
    page.write_text(page.read_text() + "\nSee [the missing page](no-such-page.md).\n")
    result = build(copy, tmp_path / "site")
    assert result.returncode == 1
    output = result.stdout + result.stderr
    assert "'no-such-page.md'" in output
    assert "Aborted with 1 warnings in strict mode!" in output


def test_a_page_missing_from_the_nav_fails_the_build(tmp_path):
    copy = copy_of_the_docs(tmp_path)
    (copy / "docs" / "orphan.md").write_text("# Not in the nav\n")
    result = build(copy, tmp_path / "site")
    assert result.returncode == 1
    assert "orphan.md" in result.stdout + result.stderr


def test_the_configuration_reference_is_generated_into_the_site(site):
    page = (site / "reference" / "configuration" / "index.html").read_text()
    assert "<!-- mlops.yml reference -->" not in page
    assert "tracking.server_timeout_s" in page
    assert "monitoring.checks[].on_drift" in page
    assert "A metric the training run logs." in page


def test_the_cli_reference_is_generated_from_the_commands(site):
    page = (site / "reference" / "cli" / "index.html").read_text()
    for command in ("package", "serve", "export", "monitor", "promote", "gate", "smoke", "ci"):
        assert f"kedro mlops {command}" in page, command
    # an option's help, written once in the command
    assert "auto: a responding Docker engine, else podman, else buildah." in page


def test_the_readme_is_an_overview_linking_into_the_docs():
    readme = (ROOT / "README.md").read_text()
    assert len(readme.splitlines()) < 200
    assert "tracking.uri" not in readme  # no configuration table: the reference is generated
    links = re.findall(r"\]\((docs/[^)#]+)(?:#[^)]*)?\)", readme)
    assert len(links) >= 10
    for link in links:
        assert (ROOT / link).exists(), link


def test_generated_projects_link_to_published_pages_that_exist(site):
    docs_url = json.loads((STARTER / "cookiecutter.json").read_text())["_docs_url"]
    assert docs_url.endswith("/")
    paths = re.findall(r"\{\{ cookiecutter\._docs_url \}\}([^)\s]*)", TEMPLATE_README.read_text())
    assert {"serving/", "monitoring/", "reference/configuration/"} <= set(paths)
    for path in paths:  # the published path of docs/<path>.md (mkdocs' directory URLs)
        assert (DOCS / f"{path.rstrip('/')}.md").exists(), path
        assert (site / path / "index.html").exists(), path
    assert f'href="{docs_url}' in (site / "index.html").read_text()  # the site's own address


def test_the_docs_images_are_committed_and_referenced():
    for name in ("architecture.png", "drift-report.png", "serving-docs.png"):
        image = DOCS / "images" / name
        assert image.stat().st_size > 10_000, name
        assert any(f"images/{name}" in page.read_text() for page in DOCS.rglob("*.md")), name
