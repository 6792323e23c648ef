"""The plan of the definitions: steps, images, commands, continuous training, services."""

from __future__ import annotations

import ast
import importlib.util
import sys

import pytest

from kedro_mlops.config import parse_config
from kedro_mlops.export import (
    ContainerSettings,
    ExportError,
    k8s_name,
    merge_options,
    monitor_command,
    plan_export,
)
from kedro_mlops.export.render import TEMPLATES, python_literal, render, render_notes
from tests.export.test_graph import STARTER

CONTAINER = ContainerSettings("/app", "/app/data", "/app/mlflow", "sqlite:////app/mlflow/mlflow.db")
CHECK = {"name": "production_batch", "reference": "reference_features", "current": "batch_features"}
NAMES = ("data_engineering", "data_science", "serving", "serve")
IMAGES = {name: f"bar-demo-{name}:0.1" for name in NAMES}


def plan(export: dict | None = None, checks: list | None = None, pipelines=STARTER, services=()):
    monitoring = {"checks": [CHECK] if checks is None else checks}
    config = parse_config({"export": export or {}, "monitoring": monitoring})
    return plan_export(
        project_name="Bar Demo",
        package="bar_demo",
        version="9.9",
        pipelines=list(pipelines),
        images=IMAGES,
        services={name: IMAGES[name] for name in services},
        config=config.export,
        monitoring=config.monitoring,
        container=CONTAINER,
    )  # fmt: skip


def test_the_starter_plan():
    result = plan(services=["serve"])
    steps = result.training.steps
    assert [(s.task_id, s.name, s.image, s.upstream, s.command) for s in steps] == [
        ("data_engineering", "bar-demo-data-engineering", "bar-demo-data_engineering:0.1", (), ()),
        ("data_science", "bar-demo-data-science", "bar-demo-data_science:0.1",
         ("data_engineering",), ()),
        ("serving", "bar-demo-serving", "bar-demo-serving:0.1", ("data_science",), ()),
    ]  # fmt: skip
    assert (result.training.dag_id, result.training.name, result.training.schedule) == (
        "bar_demo", "bar-demo", None,
    )  # fmt: skip
    ct = result.ct
    assert ct is not None
    assert (ct.dag_id, ct.name, ct.schedule, ct.check) == (
        "bar_demo_ct", "bar-demo-ct", "@daily", "production_batch",
    )  # fmt: skip
    # the check runs in the image of the pipeline that writes the check's current dataset
    assert ct.monitor.image == "bar-demo-serving:0.1"
    assert ct.monitor.command == (
        "kedro", "mlops", "monitor", "--check", "production_batch", "--fail-on-alert",
    )  # fmt: skip
    assert [(s.task_id, s.upstream) for s in ct.retrain] == [
        ("data_engineering", ()),
        ("data_science", ("data_engineering",)),
    ]
    assert [(s.name, s.image) for s in result.services] == [("serve", "bar-demo-serve:0.1")]
    assert (result.data_claim, result.mlflow_claim, result.secret) == (
        "bar-demo-data", "bar-demo-mlflow", "bar-demo-mlflow",
    )  # fmt: skip


@pytest.mark.parametrize(
    ("export", "checks", "pipelines", "note"),
    [
        ({"ct": {"enabled": False}}, None, STARTER, "export.ct.enabled is false"),
        ({}, [], STARTER,
         "monitoring.checks in mlops.yml is empty: there is no drift check to run"),
        ({}, None, STARTER[:1], "pipeline 'serving', which writes 'batch_features', depends on no "
         "other exported pipeline: there is nothing to retrain"),
    ],
)  # fmt: skip
def test_no_continuous_training_says_why(export, checks, pipelines, note):
    result = plan(export, checks, pipelines)
    assert result.ct is None
    assert result.ct_note == note
    assert f"- no continuous training: {note}" in render_notes(result, ["dags/bar_demo.py"])


@pytest.mark.parametrize(
    ("export", "checks", "pipelines", "message"),
    [
        ({"ct": {"check": "nightly"}}, None, STARTER,
         "export.ct.check 'nightly' is not a check of monitoring.checks in mlops.yml "
         "(configured: production_batch); name one of them, or set export.ct.enabled: false."),
        ({}, None, STARTER[1:],
         "Drift check 'production_batch' compares dataset 'batch_features', which none of the "
         "exported pipelines (data_engineering, data_science) writes: package the pipeline that "
         "scores the batches (packaging.pipelines), or choose another check (export.ct.check)."),
        ({}, None, [],
         "No Kedro pipeline to schedule: packaging.pipelines in mlops.yml lists none that the "
         "project registers (listed: serve)."),
    ],
)  # fmt: skip
def test_bad_plans_are_refused(export, checks, pipelines, message):
    with pytest.raises(ExportError) as error:
        plan(export, checks, pipelines, services=["serve"])
    assert error.value.message == message
    assert error.value.exit_code == 2


@pytest.mark.parametrize(
    ("parts", "expected"),
    [
        (("Bar Demo", "data_engineering"), "bar-demo-data-engineering"),
        (("bar.demo", "__default__"), "bar-demo-default"),
        (("x" * 70,), "x" * 63),
        (("Ünïcode", "a--b"), "n-code-a-b"),
    ],
)
def test_kubernetes_names(parts, expected):
    assert k8s_name(*parts) == expected


def test_a_name_without_letters_is_refused():
    with pytest.raises(ExportError, match=r"Cannot make a Kubernetes name of '___'"):
        k8s_name("___")


@pytest.mark.parametrize(
    "value",
    [None, True, 3, "plain", 'quo"te\\', "new\nline", "ü", ["a", None], ("t",), {"k": {"n": 1}}],
)
def test_python_literals_evaluate_to_the_value(value):
    expected = list(value) if isinstance(value, tuple) else value
    assert ast.literal_eval(python_literal(value)) == expected


@pytest.mark.parametrize(
    ("template", "export"),
    [
        ("airflow_dag.py.j2", {"airflow": {"operator": "docker"}}),
        ("airflow_dag.py.j2", {"airflow": {"operator": "kubernetes"}, "resources": {"cpu": "1"}}),
        ("airflow_dag.py.j2", {"ct": {"enabled": False}}),
        ("kubeflow_pipeline.py.j2", {"target": "kubeflow", "environment": {"A": "b"}}),
        ("kubeflow_pipeline.py.j2", {"target": "kubeflow", "ct": {"enabled": False}}),
    ],
)
def test_rendered_definitions_are_python(template, export):
    source = render(plan(export), TEMPLATES / template)
    tree = ast.parse(source)  # raises on a syntax error
    assert ast.get_docstring(tree).startswith(
        "Airflow 3 DAGs of Bar Demo" if "airflow" in template else "Kubeflow Pipelines v2"
    )
    assert ("bar_demo_ct" in source or "bar-demo-ct" in source) == ("ct" not in export)
    assert "password" not in source.lower().replace("mlflow_tracking_password", "")


def test_docker_tasks_check_the_directory_variables_before_their_container_starts():
    source = render(plan(), TEMPLATES / "airflow_dag.py.j2")
    assigned = {
        node.targets[0].id: node.value
        for node in ast.parse(source).body
        if isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name)
    }
    # the Variables the mounts read, without a default
    assert ast.literal_eval(assigned["HOST_DIRECTORIES"]) == {
        "bar_demo_data_dir": "/app/data",
        "bar_demo_mlflow_dir": "/app/mlflow",
    }
    assert source.count("pre_execute=check_variables,") == 1  # in container(), for every task
    # the pods read no Variable: claims, namespace and Secret are in the file
    pods = render(plan({"airflow": {"operator": "kubernetes"}}), TEMPLATES / "airflow_dag.py.j2")
    assert "Variable" not in pods and "var.value" not in pods


def test_notes_name_the_serving_image_and_the_settings():
    notes = render_notes(plan(services=["serve"]), ["dist/orchestration/airflow/bar_demo.py"])
    assert (
        "- `bar-demo-serve:0.1`: `serve` is not a Kedro pipeline (a long-running service, e.g. "
        "the online-serving REST server): not scheduled; deploy it as a service"
    ) in notes
    assert "- `bar_demo_data_dir`: host directory mounted on `/app/data`" in notes
    assert "2. Copy `dist/orchestration/airflow/bar_demo.py` into the DAGs folder." in notes


def test_monitor_command_keeps_the_exit_scheme():
    assert monitor_command("c")[-1] == "--fail-on-alert"  # exit 1 on drift whatever on_drift says


def test_options_override_the_configuration():
    config = parse_config({"export": {"schedule": "@hourly", "registry": "ghcr.io/a"}}).export
    merged = merge_options(config, schedule="0 3 * * *", registry=None, target="kubeflow")
    assert (merged.schedule, merged.registry, merged.target) == (
        "0 3 * * *", "ghcr.io/a", "kubeflow",
    )  # fmt: skip


def test_a_bad_option_is_named():
    with pytest.raises(ExportError) as error:
        merge_options(parse_config({}).export, schedule="daily")
    assert error.value.exit_code == 2
    assert error.value.message == (
        "Invalid option --schedule 'daily': 'daily' is not a schedule; use 5 cron "
        "fields (e.g. '0 3 * * *') or one of @once, @hourly, @daily, @weekly, @monthly, "
        "@yearly, @annually"
    )


def test_kubeflow_without_kfp_says_what_to_install(tmp_path):
    from kedro_mlops.export import write_export  # noqa: PLC0415

    with pytest.raises(ExportError) as error:
        write_export(
            plan({"target": "kubeflow"}),
            tmp_path / "dist" / "kubeflow",
            template=TEMPLATES / "kubeflow_pipeline.py.j2",
            project_path=tmp_path,
            python=sys.executable if importlib.util.find_spec("kfp") is None else "/bin/false",
        )
    assert error.value.message == (
        "The Kubeflow pipelines are written as a KFP script, dist/kubeflow/bar_demo_pipeline.py, "
        'but kfp is not installed here to compile them: `pip install "kedro-mlops[kubeflow]"` '
        "(kfp and kfp-kubernetes 2.17), then `kedro mlops export --target kubeflow` again."
    )
    assert (tmp_path / "dist" / "kubeflow" / "bar_demo_pipeline.py").is_file()


def test_user_templates(tmp_path):
    from kedro_mlops.export import template_path  # noqa: PLC0415

    assert template_path("airflow", None) == TEMPLATES / "airflow_dag.py.j2"
    with pytest.raises(ExportError) as error:
        template_path("kubeflow", tmp_path / "mine.py.j2")
    assert error.value.message == (
        f"Template {str(tmp_path / 'mine.py.j2')!r} does not exist; fix export.template / "
        "--template, or start from a copy of the built-in one: "
        f"{TEMPLATES / 'kubeflow_pipeline.py.j2'}"
    )
    mine = tmp_path / "mine.py.j2"
    steps = "{% for s in training.steps %}{{ s.image }} {% endfor %}"
    mine.write_text("# {{ training.dag_id }} " + steps)
    assert render(plan(), mine) == (
        "# bar_demo bar-demo-data_engineering:0.1 bar-demo-data_science:0.1 bar-demo-serving:0.1 "
    )
    mine.write_text("{{ dag_idd }}")
    with pytest.raises(ExportError, match=r"'dag_idd' is undefined. Known variables: ct, ct_note"):
        render(plan(), mine)


def test_continuous_training_retrains_on_drift_or_degradation():
    quality = {"name": "batch_quality", "kind": "performance", "current": "predictions"}
    served = {"name": "served_quality", "kind": "performance", "current": "served_traffic"}
    # by default: every performance check of data the exported pipelines write (not the
    # server's traffic); [] drift only; a list: those
    for export, expected in (
        ({}, ("batch_quality",)),
        ({"ct": {"quality_checks": []}}, ()),
        ({"ct": {"quality_checks": ["served_quality", "batch_quality"]}},
         ("served_quality", "batch_quality")),
    ):  # fmt: skip
        assert plan(export, [quality, CHECK, served]).ct.quality == expected
    result = plan({}, [quality, CHECK])
    assert result.ct.check == "production_batch"  # the first drift check
    assert result.ct.quality == ("batch_quality",)
    assert result.ct.monitor.command == (
        "kedro", "mlops", "monitor", "--check", "production_batch", "--check", "batch_quality",
        "--fail-on-alert",
    )  # fmt: skip
    with pytest.raises(ExportError, match=r"export.ct.quality_checks names 'nope', not a check"):
        plan({"ct": {"quality_checks": ["nope"]}}, [CHECK])


@pytest.mark.parametrize("template", ["airflow_dag.py.j2", "kubeflow_pipeline.py.j2"])
def test_the_definitions_say_they_retrain_on_degradation_too(template):
    quality = {"name": "batch_quality", "kind": "performance", "current": "predictions"}
    export = {"target": "kubeflow" if "kubeflow" in template else "airflow"}
    source = render(plan(export, [CHECK, quality]), TEMPLATES / template)
    ast.parse(source)
    assert "retrain when check production_batch finds drift or batch_quality finds degradation" in (
        source
    )
    assert "'--check', 'batch_quality'" in source or '"--check", "batch_quality"' in source
    plain = render(plan({"target": export["target"], "ct": {"quality_checks": []}},
                        [CHECK, quality]), TEMPLATES / template)  # fmt: skip
    assert "degradation" not in plain
