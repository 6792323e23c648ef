"""Writing the tree: all at once, replacing only what kedro mlops deploy wrote, nothing when a
check fails."""

from __future__ import annotations

import json
import stat

import pytest

from kedro_mlops.deploy import DeployError, deploy_project
from tests.deploy.conftest import ROW, make_plan


def test_the_tree_script_row_and_readme(tmp_path):
    report = deploy_project(make_plan(), tmp_path / "k8s", project_path=tmp_path, smoke_row=ROW)
    root = tmp_path / "k8s"
    assert json.loads((root / "smoke-row.json").read_text()) == ROW
    assert (root / "deploy.sh").stat().st_mode & stat.S_IXUSR
    readme = (root / "README.md").read_text()
    assert "kubectl rollout undo deployment/bar-demo-serve" in readme
    assert "no value is written here" in readme
    assert report.files == tuple(sorted(report.files))
    assert "base/kustomization.yaml" in report.files
    assert report.lines()[1:4] == [
        "  bar-demo-serve               Deployment, Service, autoscaler of bar-demo-serve:0.1",
        "  bar-demo-scoring             CronJob (@daily): bar-demo-serving:0.1",
        "  bar-demo-training            Job, on demand: bar-demo-data_engineering:0.1 -> "
        "bar-demo-data_science:0.1",
    ]


def test_a_second_run_replaces_the_first_tree(tmp_path):
    deploy_project(make_plan(), tmp_path / "k8s", project_path=tmp_path, smoke_row=ROW)
    (tmp_path / "k8s" / "overlays" / "staging" / "stale.yaml").write_text("old")
    only_prod = make_plan(overlays=["production"])
    deploy_project(only_prod, tmp_path / "k8s", project_path=tmp_path, smoke_row=ROW)
    assert sorted(p.name for p in (tmp_path / "k8s" / "overlays").iterdir()) == ["production"]
    # no staging or old tree left over; the alerting rules beside the tree
    assert sorted(p.name for p in tmp_path.iterdir()) == ["k8s", "prometheus"]
    assert [p.name for p in (tmp_path / "prometheus").iterdir()] == ["rules.yml"]


def test_images_never_built_are_refused_and_nothing_is_written(tmp_path):
    deploy_project(make_plan(), tmp_path / "k8s", project_path=tmp_path, smoke_row=ROW)
    before = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*"))
    built = {"bar-demo-serve:0.1", "bar-demo-serving:0.1"}
    with pytest.raises(DeployError) as caught:
        deploy_project(
            make_plan(),
            tmp_path / "k8s",
            project_path=tmp_path,
            smoke_row=ROW,
            image_exists=built.__contains__,
        )
    assert caught.value.message == (
        "Image(s) not found in the local image store: bar-demo-data_engineering:0.1, "
        "bar-demo-data_science:0.1. Build them (`kedro mlops package --build`, with the same "
        "--tag), or deploy a tag that was built (--image-tag)."
    )
    assert sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*")) == before


def test_a_directory_it_did_not_write_is_left_alone(tmp_path):
    (tmp_path / "k8s").mkdir()
    (tmp_path / "k8s" / "mine.yaml").write_text("kind: Mine\n")
    with pytest.raises(DeployError, match="was not written by kedro mlops deploy"):
        deploy_project(make_plan(), tmp_path / "k8s", project_path=tmp_path, smoke_row=ROW)
    assert [p.name for p in (tmp_path / "k8s").iterdir()] == ["mine.yaml"]
