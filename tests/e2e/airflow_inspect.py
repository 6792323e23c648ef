"""Run with the Airflow virtualenv's Python (tests/e2e/test_export.py): prints JSON.

python airflow_inspect.py dags FOLDER   parse FOLDER as the scheduler would (DagBag): import
                                         errors, DAGs, tasks, their containers / pod specs
python airflow_inspect.py runs          every DAG run in the metadata database and the state
                                         of its tasks
"""

# ruff: noqa: PLC0415 - Airflow is imported in the functions: this file is collected by pytest
# in an environment without Airflow
from __future__ import annotations

import json
import sys


def _state(value):
    return getattr(value, "value", value)


def dags(folder: str) -> dict:
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder=folder)
    found = {}
    for dag_id, dag in sorted(bag.dags.items()):
        tasks = {}
        for task in dag.tasks:
            info = {"type": type(task).__name__, "upstream": sorted(task.upstream_task_ids)}
            if hasattr(task, "build_pod_request_obj"):  # KubernetesPodOperator
                pod = task.build_pod_request_obj(dry_run=True)  # no cluster needed
                container = pod.spec.containers[0]
                info.update(
                    name=pod.metadata.name,
                    namespace=pod.metadata.namespace,
                    image=container.image,
                    command=container.command or None,
                    args=container.args or None,
                    env={e.name: e.value for e in container.env or []},
                    env_from=[e.secret_ref.name for e in container.env_from or []],
                    mounts={m.mount_path: m.name for m in container.volume_mounts or []},
                    claims={v.name: v.persistent_volume_claim.claim_name for v in pod.spec.volumes},
                    resources=container.resources.to_dict() if container.resources else None,
                )
            elif hasattr(task, "image"):  # DockerOperator
                info.update(
                    image=task.image,
                    command=task.entrypoint,
                    env=dict(task.environment),
                    mounts={m["Target"]: m["Source"] for m in task.mounts},
                )
            tasks[task.task_id] = info
        found[dag_id] = {"schedule": str(dag.schedule), "tasks": tasks}
    return {"import_errors": {k: str(v) for k, v in bag.import_errors.items()}, "dags": found}


def runs() -> list:
    from airflow.models.dagrun import DagRun
    from airflow.models.taskinstance import TaskInstance
    from airflow.utils.session import create_session

    found = []
    with create_session() as session:
        for run in session.query(DagRun).order_by(DagRun.start_date):
            instances = session.query(TaskInstance).filter(
                TaskInstance.dag_id == run.dag_id, TaskInstance.run_id == run.run_id
            )
            found.append(
                {
                    "dag_id": run.dag_id,
                    "state": _state(run.state),
                    "tasks": {
                        ti.task_id: {
                            "state": _state(ti.state),
                            "start": ti.start_date.isoformat() if ti.start_date else None,
                            "end": ti.end_date.isoformat() if ti.end_date else None,
                        }
                        for ti in instances
                    },
                }
            )
    return found


if __name__ == "__main__":
    result = dags(sys.argv[2]) if sys.argv[1] == "dags" else runs()
    print("AIRFLOW-INSPECT " + json.dumps(result))
