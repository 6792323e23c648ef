"""`kedro mlops export`: Airflow DAGs and Kubeflow pipelines of a fresh project.

- offline: the files, the printed notes, the DAGs parsed by Airflow's DagBag (Docker and
  KubernetesPodOperator, pod specs built without a cluster), the KFP YAML compiled and loaded
  back with kfp; every step's image, command and environment; Kubernetes names;
- for real: `airflow dags test` runs the images `kedro mlops package` built (the `packaged`
  fixture) through podman's Docker API, in order; a failure stops the run; the continuous
  training DAG skips the retraining without drift and retrains on drift.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import mlflow
import pandas as pd
import pytest
import yaml

from tests.e2e.conftest import PIPELINES, PLANTED, copy_project

pytestmark = pytest.mark.e2e

INSPECT = Path(__file__).with_name("airflow_inspect.py")
K8S_NAME = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
MONITOR = [
    "kedro",
    "mlops",
    "monitor",
    "--check",
    "production_batch",
    "--check",
    "batch_quality",
    "--fail-on-alert",
]
K8S_CONF = f"""\
packaging:
  pipelines: [data_engineering, data_science, serving, serve]
export:
  registry: ghcr.io/acme
  environment:
    MLFLOW_TRACKING_URI: http://mlflow.mlops:5000
  resources:
    cpu: 500m
    memory: 2Gi
    memory_limit: 4Gi
  airflow:
    operator: kubernetes
  kubernetes:
    namespace: ml
# {PLANTED}: a comment, not a value
"""


def inspect(airflow, airflow_home, *args: str):
    result = airflow.ok("python", str(INSPECT), *args, cwd=Path(airflow_home["AIRFLOW_HOME"]),
                        env=airflow_home)  # fmt: skip
    (line,) = [x for x in result.stdout.splitlines() if x.startswith("AIRFLOW-INSPECT ")]
    return json.loads(line.removeprefix("AIRFLOW-INSPECT "))


def printed_after_logs(stdout: str) -> str:
    """The command's answer: the project's Kedro logging (rich, on stdout) comes before it."""
    return stdout[stdout.index("Wrote ") :]


def test_export_writes_definitions_and_says_how_to_deploy(  # noqa: PLR0915
    venv, project, airflow, airflow_home, tmp_path
):
    path = copy_project(project, tmp_path / "bar-demo")
    (path / "conf" / "local" / "credentials.yml").write_text(f"db:\n  password: {PLANTED}\n")
    (path / "conf" / "k8s").mkdir()
    (path / "conf" / "k8s" / "mlops.yml").write_text(K8S_CONF)

    # ---- Airflow, DockerOperator (the default)
    result = venv.ok("kedro", "mlops", "export", cwd=path, offline=True)
    dag_file = path / "dist" / "orchestration" / "airflow" / "bar_demo.py"
    readme = dag_file.with_name("README.md")
    answer = printed_after_logs(result.stdout)
    assert answer == (
        "Wrote dist/orchestration/airflow/bar_demo.py, dist/orchestration/airflow/README.md\n"
        + readme.read_text().strip()
        + "\n"
    )
    assert "- `bar_demo`: data_engineering -> data_science -> serving (on demand)" in answer
    assert (
        "- `bar_demo_ct`: drift check `production_batch` and performance checks `batch_quality` "
        "in `bar-demo-serving:0.1`, then on drift or degradation only data_engineering -> "
        "data_science (@daily)"
    ) in answer
    assert "Deploy (Airflow 3, DockerOperator on a host with a Docker API):" in answer
    assert "airflow dags test bar_demo" in answer

    parsed = inspect(airflow, airflow_home, "dags", str(dag_file.parent))
    assert parsed["import_errors"] == {}
    training, ct = parsed["dags"]["bar_demo"], parsed["dags"]["bar_demo_ct"]
    assert training["schedule"] == "None" and ct["schedule"] == "@daily"
    assert {name: task["upstream"] for name, task in training["tasks"].items()} == {
        "data_engineering": [],
        "data_science": ["data_engineering"],
        "serving": ["data_science"],
    }
    assert {name: task["upstream"] for name, task in ct["tasks"].items()} == {
        "drift_check": [],
        "retrain_on_drift": ["drift_check"],
        "data_engineering": ["retrain_on_drift"],
        "data_science": ["data_engineering"],
    }
    variable = "{{{{ var.value.get('bar_demo_{}'{}) }}}}".format
    for name, task in [*training["tasks"].items(), *ct["tasks"].items()]:
        if name == "retrain_on_drift":
            continue
        assert task["type"] == ("DriftCheck" if name == "drift_check" else "DockerOperator")
        pipeline = "serving" if name == "drift_check" else name
        assert task["image"] == f"bar-demo-{pipeline}:0.1"
        assert task["command"] == (MONITOR if name == "drift_check" else None)
        assert task["env"] == {
            "MLFLOW_TRACKING_URI": variable(
                "mlflow_tracking_uri", ", 'sqlite:////app/mlflow/mlflow.db'"
            ),
            "MLFLOW_TRACKING_USERNAME": variable("mlflow_tracking_username", ", ''"),
            "MLFLOW_TRACKING_PASSWORD": variable("mlflow_tracking_password", ", ''"),
        }
        assert task["mounts"] == {
            "/app/data": variable("data_dir", ""),
            "/app/mlflow": variable("mlflow_dir", ""),
        }

    # ---- Airflow, KubernetesPodOperator (--env k8s), with a serving image that is no pipeline
    result = venv.ok("kedro", "mlops", "export", "--env", "k8s", "--schedule", "0 3 * * *",
                     cwd=path, offline=True)  # fmt: skip
    answer = printed_after_logs(result.stdout)
    assert (
        "- `ghcr.io/acme/bar-demo-serve:0.1`: `serve` is not a Kedro pipeline (a long-running "
        "service, e.g. the online-serving REST server): not scheduled; deploy it as a service"
    ) in answer
    assert "- `bar_demo`: data_engineering -> data_science -> serving (0 3 * * *)" in answer
    assert "Deploy (Airflow 3, KubernetesPodOperator):" in answer
    assert "kubectl create secret generic bar-demo-mlflow" in answer
    parsed = inspect(airflow, airflow_home, "dags", str(dag_file.parent))
    assert parsed["import_errors"] == {}
    assert parsed["dags"]["bar_demo"]["schedule"] == "0 3 * * *"
    pods = [
        (dag_id, name, task)
        for dag_id, dag in parsed["dags"].items()
        for name, task in dag["tasks"].items()
        if name != "retrain_on_drift"
    ]
    assert len(pods) == 6  # 3 pipelines; the check and 2 retraining steps
    for _dag_id, name, task in pods:
        pipeline = "serving" if name == "drift_check" else name
        assert task["image"] == f"ghcr.io/acme/bar-demo-{pipeline}:0.1"
        assert task["command"] == (MONITOR if name == "drift_check" else None)
        assert task["args"] is None
        assert K8S_NAME.match(task["name"]) and "_" not in task["name"], task["name"]
        assert task["name"].startswith(f"bar-demo-{name.replace('_', '-')}-")  # + random suffix
        assert task["namespace"] == "ml"
        assert task["env"] == {"MLFLOW_TRACKING_URI": "http://mlflow.mlops:5000"}
        assert task["env_from"] == ["bar-demo-mlflow"]
        assert task["mounts"] == {"/app/data": "data", "/app/mlflow": "mlflow"}
        assert task["claims"] == {"data": "bar-demo-data", "mlflow": "bar-demo-mlflow"}
        assert task["resources"]["requests"] == {"cpu": "500m", "memory": "2Gi"}
        assert task["resources"]["limits"] == {"memory": "4Gi"}

    # ---- Kubeflow: KFP v2 YAML compiled with kfp (the venv has the `kubeflow` extra)
    result = venv.ok("kedro", "mlops", "export", "--target", "kubeflow", "--env", "k8s",
                     "--image-tag", "1.2.3", cwd=path, offline=True)  # fmt: skip
    kfp_dir = path / "dist" / "orchestration" / "kubeflow"
    answer = printed_after_logs(result.stdout)
    assert answer.startswith(
        "Wrote dist/orchestration/kubeflow/bar_demo_pipeline.py, "
        "dist/orchestration/kubeflow/bar-demo.yaml, dist/orchestration/kubeflow/bar-demo-ct.yaml, "
        "dist/orchestration/kubeflow/README.md\n# Bar Demo: Kubeflow pipelines\n"
    )
    assert "Deploy (Kubeflow Pipelines v2; the same YAML on Vertex AI Pipelines):" in answer
    for name in ("bar-demo", "bar-demo-ct"):
        loaded = venv.ok("python", "-c", "import sys; from kfp import components; "
                         "print(components.load_component_from_file(sys.argv[1]).name)",
                         str(kfp_dir / f"{name}.yaml"), cwd=path)  # fmt: skip
        assert loaded.stdout.strip() == name
    training, platform = yaml.safe_load_all((kfp_dir / "bar-demo.yaml").read_text())
    assert_kfp_steps(training, platform, {"data-engineering", "data-science", "serving"})
    dag = training["root"]["dag"]["tasks"]
    assert dag["data-science"]["dependentTasks"] == ["data-engineering"]
    assert dag["serving"]["dependentTasks"] == ["data-science"]
    ct, platform = yaml.safe_load_all((kfp_dir / "bar-demo-ct.yaml").read_text())
    assert_kfp_steps(ct, platform, {"drift-check", "data-engineering", "data-science"})
    condition = ct["root"]["dag"]["tasks"]["condition-1"]
    assert condition["dependentTasks"] == ["drift-check"]
    assert condition["triggerPolicy"]["condition"] == (
        "inputs.parameter_values['pipelinechannel--drift-check-drift'] == 'true'"
    )
    inside = ct["components"]["comp-condition-1"]["dag"]["tasks"]
    assert set(inside) == {"data-engineering", "data-science"}
    assert inside["data-science"]["dependentTasks"] == ["data-engineering"]

    # bad input: exit 2, the option and what was expected, no traceback
    bad = venv.run("kedro", "mlops", "export", "--schedule", "daily", cwd=path, offline=True)
    assert bad.returncode == 2, bad.stdout + bad.stderr
    assert bad.stderr.strip().splitlines()[-1] == (
        "Error: Invalid option --schedule 'daily': 'daily' is not a schedule; use 5 "
        "cron fields (e.g. '0 3 * * *') or one of @once, @hourly, @daily, @weekly, @monthly, "
        "@yearly, @annually"
    )
    assert "Traceback" not in bad.stdout + bad.stderr

    # nothing secret in anything written
    for written in (path / "dist" / "orchestration").rglob("*"):
        if written.is_file():
            assert PLANTED not in written.read_text(), written


def assert_kfp_steps(spec: dict, platform: dict, tasks: set[str]) -> None:
    """Every step: its image, command, environment, volumes, Secret, no caching, valid names."""
    dags = [spec["root"]["dag"], *(c["dag"] for c in spec["components"].values() if "dag" in c)]
    names = [spec["pipelineInfo"]["name"], *spec["components"]]
    names += spec["deploymentSpec"]["executors"]
    names += [name for dag in dags for name in dag["tasks"]]
    assert all(K8S_NAME.match(name.removeprefix("comp-").removeprefix("exec-")) for name in names)
    assert not [name for name in names if "_" in name]
    executors = spec["deploymentSpec"]["executors"]
    assert set(executors) == {f"exec-{task}" for task in tasks}
    for executor, body in executors.items():
        container = body["container"]
        task = executor.removeprefix("exec-")
        pipeline = "serving" if task == "drift-check" else task.replace("-", "_")
        assert container["image"] == f"ghcr.io/acme/bar-demo-{pipeline}:1.2.3"
        assert container["env"] == [
            {"name": "MLFLOW_TRACKING_URI", "value": "http://mlflow.mlops:5000"}
        ]
        assert container["resources"]["cpuRequest"] == 0.5
        assert container["resources"]["memoryLimit"] == 4.294967296  # 4Gi in GB
        if task == "drift-check":
            assert container["command"] == ["sh", "-c"]
            assert container["args"][2:] == MONITOR
            assert container["args"][1] == "{{$.outputs.parameters['drift'].output_file}}"
        else:  # the image's entrypoint runs the pipeline
            assert "command" not in container and "args" not in container
        kube = platform["platforms"]["kubernetes"]["deploymentSpec"]["executors"][executor]
        assert [(m["constant"], m["mountPath"]) for m in kube["pvcMount"]] == [
            ("bar-demo-data", "/app/data"),
            ("bar-demo-mlflow", "/app/mlflow"),
        ]
        (secret,) = kube["secretAsEnv"]
        assert (secret["secretName"], secret["optional"]) == ("bar-demo-mlflow", True)
    every_task = [
        task
        for dag in dags
        for name, task in dag["tasks"].items()
        if not name.startswith("condition-")
    ]
    assert every_task and all(t["cachingOptions"] == {} for t in every_task)  # no enableCache


def test_a_task_without_its_directory_variables_fails_first_in_one_line(
    venv, project, airflow, airflow_home, tmp_path
):
    """`airflow tasks test` (no run recorded): the check fails the task before Docker's API is
    called (DOCKER_HOST names no socket), instead of a 500 about a directory named NOTSET."""
    path = copy_project(project, tmp_path / "bar-demo")
    venv.ok("kedro", "mlops", "export", cwd=path, offline=True)
    dags = Path(airflow_home["AIRFLOW__CORE__DAGS_FOLDER"])
    shutil.copy(path / "dist" / "orchestration" / "airflow" / "bar_demo.py", dags)

    def task_test(dag_id: str, task_id: str, **variables: str) -> list[str]:
        environ = {**airflow_home, "DOCKER_HOST": f"unix://{tmp_path / 'no-docker.sock'}"}
        environ.update({f"AIRFLOW_VAR_{name.upper()}": value for name, value in variables.items()})
        ran = airflow.run("airflow", "tasks", "test", dag_id, task_id, cwd=tmp_path, env=environ,
                          timeout=600)  # fmt: skip
        output = ran.stdout + ran.stderr
        assert "new_state=failed" in output, output[-5000:]  # `tasks test` exits 0 all the same
        for noise in ("NOTSET", "Docker", "docker.errors"):
            assert noise not in output
        return [line for line in output.splitlines() if "AirflowFailException:" in line]

    assert task_test("bar_demo", "data_engineering") == [
        "airflow.sdk.exceptions.AirflowFailException: Set the Airflow Variable(s) "
        "bar_demo_data_dir (not set: the host directory mounted on /app/data), "
        "bar_demo_mlflow_dir (not set: the host directory mounted on /app/mlflow): `airflow "
        "variables set bar_demo_data_dir /absolute/host/path`, or AIRFLOW_VAR_BAR_DEMO_DATA_DIR "
        "in the environment of the Airflow workers."
    ]
    # the continuous training DAG's drift check too; a relative path is no host directory
    store = str(tmp_path / "store")
    failed = task_test("bar_demo_ct", "drift_check", bar_demo_data_dir="data",
                       bar_demo_mlflow_dir=store)  # fmt: skip
    assert failed == [
        "airflow.sdk.exceptions.AirflowFailException: Set the Airflow Variable(s) "
        "bar_demo_data_dir (is 'data', not an absolute path: mounted on /app/data): `airflow "
        "variables set bar_demo_data_dir /absolute/host/path`, or AIRFLOW_VAR_BAR_DEMO_DATA_DIR "
        "in the environment of the Airflow workers."
    ]


def test_airflow_runs_the_packaged_images(  # noqa: PLR0915
    venv, project, packaged, podman_socket, airflow, airflow_home, tmp_path
):
    """`airflow dags test` on the real images, through podman's Docker API."""
    path = copy_project(project, tmp_path / "bar-demo")
    venv.ok("kedro", "mlops", "export", "--image-tag", packaged.tag, cwd=path, offline=True)
    dags = Path(airflow_home["AIRFLOW__CORE__DAGS_FOLDER"])
    shutil.copy(path / "dist" / "orchestration" / "airflow" / "bar_demo.py", dags)

    def folders(name: str) -> tuple[Path, Path]:
        data, store = tmp_path / name / "data", tmp_path / name / "store"
        (data / "01_raw").mkdir(parents=True)
        store.mkdir()
        for folder in (data, data / "01_raw", store):
            folder.chmod(0o777)  # the containers write as uid 10001
        return data, store

    def dags_test(dag_id: str, data: Path, store: Path):
        environ = {
            **airflow_home,
            "DOCKER_HOST": podman_socket,
            "AIRFLOW_VAR_BAR_DEMO_DATA_DIR": str(data),
            "AIRFLOW_VAR_BAR_DEMO_MLFLOW_DIR": str(store),
        }
        return airflow.run("airflow", "dags", "test", dag_id, cwd=tmp_path, env=environ,
                           timeout=1200)  # fmt: skip

    # a batch from the training distribution (no drift)
    data, store = folders("run")
    raw = pd.read_csv(path / "data" / "01_raw" / "customers.csv")
    shutil.copy(path / "data" / "01_raw" / "customers.csv", data / "01_raw")
    batch = raw.drop(columns=["churn"]).sample(n=3000, random_state=7)
    batch.to_csv(data / "01_raw" / "production_batch.csv", index=False)

    ran = dags_test("bar_demo", data, store)
    assert ran.returncode == 0, (ran.stdout + ran.stderr)[-5000:]
    predictions = pd.read_csv(data / "07_model_output" / "predictions.csv")
    assert len(predictions) == len(batch)
    assert set(predictions["prediction"]) <= {"yes", "no"}
    client = mlflow.MlflowClient(f"sqlite:///{store / 'mlflow.db'}")
    (version,) = client.search_model_versions("name = 'bar_demo'")
    assert client.get_model_version_by_alias("bar_demo", "champion").version == version.version

    # continuous training, no drift: the check passes, retraining is skipped
    ran = dags_test("bar_demo_ct", data, store)
    assert ran.returncode == 0, (ran.stdout + ran.stderr)[-5000:]
    assert "drift check 'production_batch': no drift" in ran.stdout + ran.stderr
    assert len(client.search_model_versions("name = 'bar_demo'")) == 1

    # a drifted batch was scored since (the starter's own batch, by the project's `kedro run`)
    for name in ("batch_features.parquet", "predictions.csv"):
        target = data / "07_model_output" / name
        shutil.copy(project / "data" / "07_model_output" / name, target)
        target.chmod(0o666)
    ran = dags_test("bar_demo_ct", data, store)
    assert ran.returncode == 0, (ran.stdout + ran.stderr)[-5000:]
    assert "drift check 'production_batch': DRIFT" in ran.stdout + ran.stderr
    versions = sorted(client.search_model_versions("name = 'bar_demo'"), key=lambda v: v.version)
    assert [int(v.version) for v in versions] == [1, 2]  # retrained, registered, gated
    assert versions[1].tags["mlops.gate.decision"] in {"champion", "challenger"}

    # bad data: data_engineering fails, nothing downstream runs, the run fails
    bad_data, bad_store = folders("bad")
    raw.assign(churn="no").to_csv(bad_data / "01_raw" / "customers.csv", index=False)
    batch.to_csv(bad_data / "01_raw" / "production_batch.csv", index=False)
    ran = dags_test("bar_demo", bad_data, bad_store)
    out = ran.stdout + ran.stderr
    assert ran.returncode == 1, out[-5000:]
    assert "Docker container failed: {'StatusCode': 1" in out
    assert out.rstrip().endswith("DagRun failed")

    runs = inspect(airflow, airflow_home, "runs")
    by_dag = [(run["dag_id"], run["state"]) for run in runs]
    assert by_dag == [
        ("bar_demo", "success"), ("bar_demo_ct", "success"), ("bar_demo_ct", "success"),
        ("bar_demo", "failed"),
    ]  # fmt: skip
    first, no_drift, drift, failed = (run["tasks"] for run in runs)
    assert {name: task["state"] for name, task in first.items()} == dict.fromkeys(
        PIPELINES, "success"
    )
    ends = [first[name]["end"] for name in PIPELINES]
    starts = [first[name]["start"] for name in PIPELINES]
    assert ends[0] <= starts[1] and ends[1] <= starts[2]  # in order, one after the other
    assert {name: task["state"] for name, task in no_drift.items()} == {
        "drift_check": "success", "retrain_on_drift": "success",
        "data_engineering": "skipped", "data_science": "skipped",
    }  # fmt: skip
    assert {name: task["state"] for name, task in drift.items()} == {
        "drift_check": "success", "retrain_on_drift": "success",
        "data_engineering": "success", "data_science": "success",
    }  # fmt: skip
    assert {name: task["state"] for name, task in failed.items()} == {
        "data_engineering": "failed", "data_science": "upstream_failed",
        "serving": "upstream_failed",
    }  # fmt: skip


def test_the_drift_check_exits_2_on_any_error(venv, project, tmp_path):
    """The CT definitions retrain on exit 1: a configuration error must not look like drift."""
    path = copy_project(project, tmp_path / "bar-demo", keep_outputs=True)
    mlops = path / "conf" / "base" / "mlops.yml"
    mlops.write_text(mlops.read_text().replace("  on_error: fail", "  on_eror: fail"))
    ran = venv.run("kedro", "mlops", "monitor", "--check", "production_batch", "--fail-on-drift",
                   cwd=path, offline=True)  # fmt: skip
    assert ran.returncode == 2, ran.stdout + ran.stderr
    assert ran.stderr.strip().splitlines()[-2:] == [
        "Error: Invalid kedro-mlops configuration in conf/base/mlops.yml:",
        "  - unknown key 'tracking.on_eror' (expected one of: uri, on_error, server_timeout_s, "
        "lineage)",
    ]
