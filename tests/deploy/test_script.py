"""deploy.sh against a stand-in `kubectl` on PATH that records its calls and fails where a test
asks: success runs apply -> rollout status -> smoke test; a failed step rolls back, exit 1."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from kedro_mlops.deploy import deploy_project
from tests.deploy.conftest import ROW, make_plan

STAND_IN = '''#!{python}
"""kubectl as the tests need it: records each call, fails the one named in KUBECTL_FAIL."""
import http.server, json, os, sys

args = sys.argv[1:]
with open(os.environ["KUBECTL_LOG"], "a") as log:
    log.write(" ".join(args) + "\\n")
words = []
skip = False
for arg in args:
    if skip:
        skip = False
    elif arg in ("--namespace", "-n"):
        skip = True
    elif not arg.startswith("-"):
        words.append(arg)
call = " ".join(words[:2]) if words[0] == "rollout" else words[0]
fail = os.environ.get("KUBECTL_FAIL", "").split(",")
if call in fail:
    print(f"error: {{call}} failed (stand-in)", file=sys.stderr)
    sys.exit(1)
if call == "port-forward":
    port = int(words[2].split(":")[0])
    wrong = "predict" in fail

    class Handler(http.server.BaseHTTPRequestHandler):
        def answer(self, status, body):
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(json.dumps(body).encode())

        def do_GET(self):
            self.answer(200, {{"status": "ready"}})

        def do_POST(self):
            row = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            with open(os.environ["KUBECTL_LOG"], "a") as log:
                log.write("predict " + json.dumps(row, sort_keys=True) + "\\n")
            if wrong:
                self.answer(500, {{"detail": "model failed"}})
            else:
                self.answer(200, {{"predictions": [{{"prediction": "yes"}}]}})

        def log_message(self, *args):
            pass

    http.server.HTTPServer(("127.0.0.1", port), Handler).serve_forever()
'''


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def deployed(tmp_path):
    plan = make_plan({"deploy": {"overlays": {"staging": {}, "production": {"namespace": "ml"}}}})
    deploy_project(plan, tmp_path / "deploy", project_path=tmp_path, smoke_row=ROW)
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    kubectl = bin_dir / "kubectl"
    kubectl.write_text(STAND_IN.format(python=sys.executable))
    kubectl.chmod(0o755)
    return tmp_path


def run(deployed: Path, *args: str, fail: str = "") -> tuple[subprocess.CompletedProcess, list]:
    log = deployed / "kubectl.log"
    log.unlink(missing_ok=True)
    env = {
        **os.environ,
        "PATH": f"{deployed / 'bin'}{os.pathsep}{os.environ['PATH']}",
        "KUBECTL_LOG": str(log),
        "KUBECTL_FAIL": fail,
        "SMOKE_PORT": str(free_port()),
    }
    result = subprocess.run(
        ["bash", str(deployed / "deploy" / "deploy.sh"), *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    calls = log.read_text().splitlines() if log.exists() else []
    return result, calls


def test_a_deployment_applies_waits_and_smoke_tests_in_that_order(deployed):
    result, calls = run(deployed, "production")
    assert result.returncode == 0, result.stderr
    overlay = deployed / "deploy" / "overlays" / "production"
    port = calls[2].split()[-1]
    assert calls == [
        f"apply -k {overlay}",
        "--namespace ml rollout status deployment/bar-demo-serve --timeout=300s",
        f"--namespace ml port-forward service/bar-demo-serve {port}",
        "predict " + json.dumps(ROW, sort_keys=True),
    ]
    assert port.endswith(":80")
    lines = result.stderr.splitlines()
    assert lines[0] == "deploy: deploying Bar Demo to production"
    assert lines[-2] == 'deploy: /predict answered: {"predictions": [{"prediction": "yes"}]}'
    assert lines[-1] == "deploy: Bar Demo is live in production"


@pytest.mark.parametrize(
    ("fail", "step"),
    [
        ("apply", "kubectl apply"),
        ("rollout status", "kubectl rollout status"),
        ("port-forward", "the smoke test"),
        ("predict", "the smoke test"),
    ],
)
def test_a_failed_step_rolls_back_and_exits_1(deployed, fail, step):
    result, calls = run(deployed, "staging", fail=fail)
    assert result.returncode == 1
    assert calls[-1] == "rollout undo deployment/bar-demo-serve"
    assert f"deploy: {step} failed: rolling back (kubectl rollout undo " in result.stderr
    assert result.stderr.rstrip().endswith("deploy: rolled back to the previous revision")
    if fail == "predict":
        assert "did not answer with predictions" in result.stderr


def test_a_first_deployment_that_fails_says_there_was_nothing_to_go_back_to(deployed):
    result, calls = run(deployed, "staging", fail="rollout status,rollout undo")
    assert result.returncode == 1
    assert calls[-1] == "rollout undo deployment/bar-demo-serve"
    assert result.stderr.rstrip().endswith(
        "deploy: the rollback failed too (see kubectl's message; a first deployment has no "
        "previous revision)"
    )


def test_an_unknown_environment_changes_nothing(deployed):
    result, calls = run(deployed, "qa")
    assert result.returncode == 2
    assert calls == []
    assert result.stderr.strip() == (
        "deploy: unknown environment 'qa': choose one of staging, production "
        "(deploy.overlays in mlops.yml)"
    )


def test_training_replaces_and_waits_for_the_job(deployed):
    result, calls = run(deployed, "train", "staging")
    assert result.returncode == 0, result.stderr
    assert calls == [
        "delete job bar-demo-training --ignore-not-found",
        f"apply -k {deployed / 'deploy' / 'overlays' / 'staging' / 'training'}",
        "wait --for=condition=complete job/bar-demo-training --timeout=3600s",
    ]
    result, _calls = run(deployed, "train", "staging", fail="wait")
    assert result.returncode == 1
    assert "the training Job did not complete" in result.stderr
