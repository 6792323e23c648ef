from __future__ import annotations

import pytest

from kedro_mlops.packaging.errors import PackagingError
from kedro_mlops.packaging.images import (
    ImageSpec,
    check_registry,
    image_name,
    image_tag,
    plan_images,
    slug,
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Bar Demo", "bar-demo"),
        ("bar_demo", "bar_demo"),
        ("  Churn   Model  ", "churn-model"),
        ("__default__", "default"),
        ("Data.Science", "data.science"),
        ("café", "caf"),
        ("a--b", "a-b"),
    ],
)
def test_slug(text, expected):
    assert slug(text) == expected


@pytest.mark.parametrize(
    ("project", "pipeline", "expected"),
    [
        ("Bar Demo", "data_engineering", "bar-demo-data_engineering"),
        ("Bar Demo", "serving", "bar-demo-serving"),
        ("churn", "__default__", "churn-default"),
        ("churn", "Feature Eng", "churn-feature-eng"),
    ],
)
def test_image_name(project, pipeline, expected):
    assert image_name(project, pipeline) == expected


@pytest.mark.parametrize(("project", "pipeline"), [("Bar Demo", "___"), ("!!!", "serving")])
def test_image_name_refuses_names_with_nothing_left(project, pipeline):
    with pytest.raises(PackagingError, match="Cannot make an image name"):
        image_name(project, pipeline)


@pytest.mark.parametrize(
    ("version", "explicit", "expected"),
    [
        ("0.1", None, "0.1"),
        ("1.2.3+local.7", None, "1.2.3-local.7"),
        ("0.1", "2026-11-27", "2026-11-27"),
        ("0.1", "latest", "latest"),
    ],
)
def test_image_tag(version, explicit, expected):
    assert image_tag(version, explicit) == expected


@pytest.mark.parametrize("bad", ["", "-x", ".x", "a:b", "x" * 129, "has space"])
def test_image_tag_refuses_invalid_tags(bad):
    with pytest.raises(PackagingError, match=f"Invalid image tag {bad!r}"):
        image_tag("0.1", bad)


@pytest.mark.parametrize(
    ("registry", "expected"),
    [
        ("ghcr.io/acme", "ghcr.io/acme"),
        ("localhost:5000/", "localhost:5000"),
        ("registry.example.com/team/ml", "registry.example.com/team/ml"),
    ],
)
def test_check_registry(registry, expected):
    assert check_registry(registry) == expected


@pytest.mark.parametrize("bad", ["https://ghcr.io/acme", "ghcr.io/Acme", "ghcr.io/acme:1.0/x"])
def test_check_registry_refuses(bad):
    with pytest.raises(PackagingError, match="without 'https://'"):
        check_registry(bad)


def test_plan_images_one_per_pipeline_in_order():
    images = plan_images("Bar Demo", ["data_science", "serving", "data_science"], "0.1")
    assert [image.reference for image in images] == [
        "bar-demo-data_science:0.1",
        "bar-demo-serving:0.1",
    ]
    assert [image.stage for image in images] == ["pipeline-data_science", "pipeline-serving"]
    assert images[0].pushed_as("ghcr.io/acme/") == "ghcr.io/acme/bar-demo-data_science:0.1"


def test_plan_images_http_port():
    images = plan_images("p", ["serve", "batch"], "1", http_ports={"serve": 8080})
    assert [image.http_port for image in images] == [8080, None]


def test_plan_images_refuses_nothing_and_clashes():
    with pytest.raises(PackagingError, match="No pipeline to package"):
        plan_images("p", [], "1")
    with pytest.raises(PackagingError, match="give the same image name 'p-feature-eng'"):
        plan_images("p", ["feature eng", "feature-eng"], "1")


def test_image_spec_is_a_value():
    assert ImageSpec("a", "p-a", "1") == ImageSpec("a", "p-a", "1")


def test_serve_is_the_serving_image():
    serving, serve = plan_images("Bar Demo", ["serving", "serve"], "0.1")
    assert (serving.server, serving.stage, serving.http_port) == (False, "pipeline-serving", None)
    assert (serve.server, serve.stage, serve.http_port) == (True, "serve", 8080)
    assert serve.reference == "bar-demo-serve:0.1"
