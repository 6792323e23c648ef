"""`export.export_project`: the whole `kedro mlops export` from Python, without click."""

from __future__ import annotations

import ast

import pytest

from kedro_mlops.config import parse_config
from kedro_mlops.export import ExportError, ExportProject, export_project
from tests.export.test_plan import CHECK, CONTAINER, IMAGES

BATCH = {
    "data_engineering": ({"customers"}, {"features", "reference_features"}),
    "data_science": ({"features"}, {"model"}),
    "serving": ({"model", "batch"}, {"predictions", "batch_features"}),
}


def project(tmp_path, pipelines=BATCH) -> ExportProject:
    return ExportProject(
        path=tmp_path,
        name="Bar Demo",
        package="bar_demo",
        pipelines=pipelines,
        images=IMAGES,
        container=CONTAINER,
        services=["serve"],
    )


def test_an_airflow_export_is_written_and_reported(tmp_path):
    config = parse_config({"monitoring": {"checks": [CHECK]}})
    result = export_project(project(tmp_path), config.export, config.monitoring)
    dag = tmp_path / "dist/orchestration/airflow/bar_demo.py"
    ast.parse(dag.read_text())
    lines = result.lines()
    assert lines[0] == (
        "Wrote dist/orchestration/airflow/bar_demo.py, dist/orchestration/airflow/README.md"
    )
    assert "`bar_demo`: data_engineering -> data_science -> serving (on demand)" in lines[1]
    assert "`bar-demo-serve:0.1`" in lines[1]
    assert lines[1] == (tmp_path / "dist/orchestration/airflow/README.md").read_text().strip()


def test_nothing_to_schedule_is_refused_before_writing(tmp_path):
    config = parse_config({})
    with pytest.raises(ExportError, match="No Kedro pipeline to schedule"):
        export_project(project(tmp_path, pipelines={}), config.export, config.monitoring)
    assert not (tmp_path / "dist").exists()
