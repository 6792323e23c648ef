"""Image size, rebuild time and start time: `kedro mlops package` against kedro-docker's own
Dockerfile, on the same freshly generated project and the same base image, built with podman.

Arms:
- ``kedro-mlops``: ``kedro mlops package --build --builder podman --wheels`` (3 images; sizes of
  the ``serving`` image, the others are the same but for labels), and again with ``--bytecode``;
- ``kedro-mlops serve``: ``--pipeline serve``, the online-serving image with the champion inside;
  start = ``podman run -d`` until ``/ready`` answers 200 (median of 3), no volume, no store;
- ``kedro-docker``: ``kedro docker init`` + ``kedro docker build`` from a separate virtualenv with
  kedro-docker installed, through the Docker API that ``podman system service`` provides.
  Its Dockerfile installs ``requirements.txt`` from the network with uv; here the wheels come
  from a wheelhouse baked into a helper base image (``FROM <base>`` + the wheels + pip/uv
  settings), whose size is then subtracted: ``size(kedro-docker) - size(helper) + size(base)``
  is what the same Dockerfile gives on the plain base image with a package index. Measured twice:
  the project as generated (after ``kedro run``, a git repository), and the same with a
  ``.venv`` inside the project (the usual ``python -m venv .venv`` / ``uv venv`` layout).

Rebuild: one line appended to a node of ``data_science``, then the same command again.
Start: median wall time of ``podman run`` of the data_engineering pipeline (3 runs an arm).

    source .ci/podman.sh   # podman and localhost/python-base:bookworm here
    python benchmarks/image.py [--base-image IMAGE] [--no-venv-arm] [--venv .venv]

kedro-mlops is installed from a wheel of this checkout into a new virtualenv (``--venv`` reuses
one: an editable install rebuilds its wheel, and the dependency image, when the source moves).

Needs podman, the Docker CLI (for kedro-docker) and network access to a package index.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PROJECT = "Bench Image"
SLUG = "bench-image"
PACKAGE = "bench_image"
TAG = "bench"
TAG_PYC = "bench-pyc"
KD_IMAGE = "localhost/bench-kedro-docker"
HELPER_IMAGE = "localhost/bench-kedro-docker-helper:latest"
ENV = {**os.environ, "KEDRO_DISABLE_TELEMETRY": "1", "DO_NOT_TRACK": "1"}


def run(*args: str, cwd: Path | None = None, env: dict | None = None, check: bool = True) -> str:
    result = subprocess.run(
        args, cwd=cwd, env=env or ENV, capture_output=True, text=True, check=False
    )
    if check and result.returncode != 0:
        sys.exit(f"{' '.join(args)} failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}")
    return result.stdout


def timed_lines(*args: str, cwd: Path, env: dict | None = None) -> tuple[float, dict[str, float]]:
    """Run a command, return its wall time and when each ``kedro-mlops:``/``Built`` line came."""
    start = time.perf_counter()
    marks: dict[str, float] = {}
    tail: list[str] = []
    with subprocess.Popen(
        args, cwd=cwd, env=env or ENV, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    ) as process:
        for line in process.stdout or []:
            tail = [*tail[-40:], line]
            if line.startswith(("kedro-mlops:", "Built with")):
                marks.setdefault(line.split(" (")[0].strip(), time.perf_counter() - start)
    if process.returncode != 0:
        sys.exit(f"{' '.join(args)} failed:\n{''.join(tail)}")
    return time.perf_counter() - start, marks


def image_size(reference: str) -> int:
    return int(run("podman", "image", "inspect", "--format", "{{.Size}}", reference).strip())


def mb(size: float) -> str:
    return f"{size / 1e6:,.0f} MB"


def median_run(
    image: str, data: Path, mount: str, *command: str, store: Path | None = None
) -> float:
    times = []
    for _ in range(3):
        volumes = ["-v", f"{data}:{mount}"]
        if store is not None:
            volumes += ["-v", f"{store}:/app/mlflow"]
        start = time.perf_counter()
        run("podman", "run", "--rm", "--network", "none", *volumes, image, *command)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def fresh_data(project: Path, target: Path) -> Path:
    shutil.rmtree(target, ignore_errors=True)
    shutil.copytree(project / "data" / "01_raw", target / "01_raw")
    for folder in (target, target / "01_raw"):
        folder.chmod(0o777)
    return target


def make_venv(workdir: Path) -> Path:
    """kedro-mlops installed from a wheel of this checkout, as a user has it."""
    wheels = workdir / "wheel"
    run(sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(wheels), str(ROOT))
    (wheel,) = wheels.glob("kedro_mlops-*.whl")
    run(sys.executable, "-m", "venv", str(workdir / "venv"))
    bin_dir = workdir / "venv" / "bin"
    run(str(bin_dir / "pip"), "install", "-q", str(wheel))
    return bin_dir


def make_project(workdir: Path, bin_dir: Path) -> Path:
    run(str(bin_dir / "kedro"), "new", "--starter=mlops", "--name", PROJECT, cwd=workdir)
    project = workdir / SLUG
    run(str(bin_dir / "kedro"), "run", cwd=project)
    config = ["-c", "user.name=bench", "-c", "user.email=bench@example.com"]
    run("git", "init", "-q", "-b", "main", cwd=project)
    run("git", "add", "-A", cwd=project)
    run("git", *config, "commit", "-qm", "project", cwd=project)
    return project


def one_line_change(project: Path) -> None:
    nodes = project / "src" / PACKAGE / "pipelines" / "data_science" / "nodes.py"
    nodes.write_text(nodes.read_text() + f"\nBENCH_STAMP = {time.time_ns()}\n")


PIPELINES = ("data_engineering", "data_science", "serving")


def package_command(bin_dir: Path, base_image: str, tag: str, *extra: str) -> tuple[str, ...]:
    """The three pipeline images unless ``extra`` names others (``--pipeline serve``)."""
    chosen = () if "--pipeline" in extra else tuple(f"--pipeline={p}" for p in PIPELINES)
    return (
        str(bin_dir / "kedro"), "mlops", "package", "--build", "--builder", "podman", *chosen,
        "--base-image", base_image, "--wheels", "--tag", tag, *extra,
    )  # fmt: skip


def serve_ready_time(image: str, port: int = 18080) -> float:
    """Median seconds from ``podman run -d`` to ``/ready`` answering 200 (3 runs)."""
    import urllib.request  # noqa: PLC0415

    times = []
    for attempt in range(3):
        name = f"bench-serve-{os.getpid()}-{attempt}"
        start = time.perf_counter()
        run("podman", "run", "-d", "--name", name, "--network", "host", image, "--port", str(port))
        try:
            while time.perf_counter() - start < 120:
                try:
                    with urllib.request.urlopen(f"http://127.0.0.1:{port}/ready", timeout=2):
                        break
                except OSError:
                    time.sleep(0.02)
            times.append(time.perf_counter() - start)
        finally:
            run("podman", "rm", "-f", name, check=False)
    return statistics.median(times)


def ours_serve(project: Path, base_image: str, bin_dir: Path) -> dict[str, float]:
    """The serving image: size, first build, start until ready."""
    first, _ = timed_lines(
        *package_command(bin_dir, base_image, TAG, "--pipeline", "serve"), cwd=project
    )
    image = f"{SLUG}-serve:{TAG}"
    nan = float("nan")
    return {"size": image_size(image), "first_build": first, "rebuild_total": nan,
            "rebuild_builder": nan, "start": serve_ready_time(image)}  # fmt: skip


def start_time(project: Path, workdir: Path, tag: str) -> float:
    """Median start of our data_engineering image on fresh data and an empty store."""
    data = fresh_data(project, workdir / "data")
    store = workdir / "store"
    store.mkdir(exist_ok=True)
    store.chmod(0o777)
    return median_run(f"{SLUG}-data_engineering:{tag}", data, "/app/data", store=store)


def ours_with_bytecode(project: Path, base_image: str, workdir: Path, bin_dir: Path) -> dict:
    """``--bytecode``: size, first build and start only."""
    first, _ = timed_lines(
        *package_command(bin_dir, base_image, TAG_PYC, "--bytecode"), cwd=project
    )
    start = start_time(project, workdir / "run-pyc", TAG_PYC)
    nan = float("nan")
    return {"size": image_size(f"{SLUG}-serving:{TAG_PYC}"), "first_build": first,
            "rebuild_total": nan, "rebuild_builder": nan, "start": start}  # fmt: skip


def ours(project: Path, base_image: str, workdir: Path, bin_dir: Path) -> dict[str, float]:
    command = package_command(bin_dir, base_image, TAG)
    first, _ = timed_lines(*command, cwd=project)
    one_line_change(project)
    total, marks = timed_lines(*command, cwd=project)
    builder_start = next(v for k, v in marks.items() if k.startswith("kedro-mlops: dependency"))
    builder = next(v for k, v in marks.items() if k.startswith("Built with")) - builder_start
    start = start_time(project, workdir / "run-ours", TAG)
    return {
        "size": image_size(f"{SLUG}-serving:{TAG}"),
        "first_build": first,
        "rebuild_total": total,
        "rebuild_builder": builder,
        "start": start,
    }


def helper_base_image(project: Path, base_image: str, workdir: Path, kd_python: Path) -> int:
    """The base image + a wheelhouse with every wheel kedro-docker's build asks for."""
    context = workdir / "helper"
    wheelhouse = context / "wheelhouse"
    shutil.copytree(project / "dist" / "mlops" / "wheels", wheelhouse)
    # the project's requirements.txt also lists pytest and ruff; kedro-docker's Dockerfile adds uv
    run(str(kd_python), "-m", "pip", "download", "-q", "--dest", str(wheelhouse),
        "--find-links", str(wheelhouse), "pytest>=8", "ruff>=0.12", "uv")  # fmt: skip
    for stray in wheelhouse.glob("pip-*.whl"):
        stray.unlink()  # Debian's pip cannot be upgraded in place (no RECORD): keep it
    # uv reads /etc/uv/uv.toml; pip its environment
    (context / "uv.toml").write_text('no-index = true\nfind-links = ["/wheelhouse"]\n')
    (context / "Containerfile").write_text(
        f"FROM {base_image}\n"
        "COPY wheelhouse /wheelhouse\n"
        "COPY uv.toml /etc/uv/uv.toml\n"
        "RUN ln -sf /usr/bin/python3 /usr/local/bin/python\n"
        "ENV PIP_NO_INDEX=1 PIP_FIND_LINKS=/wheelhouse PIP_BREAK_SYSTEM_PACKAGES=1 \\\n"
        "    UV_NO_INDEX=1 UV_FIND_LINKS=/wheelhouse UV_BREAK_SYSTEM_PACKAGES=1\n"
    )
    run("podman", "build", "--network", "none", "-q", "-t", HELPER_IMAGE, str(context))
    return image_size(HELPER_IMAGE)


def start_podman_service(workdir: Path) -> tuple[subprocess.Popen, str]:
    socket = workdir / "podman.sock"
    process = subprocess.Popen(
        ["podman", "system", "service", "--time=0", f"unix://{socket}"],
        env=ENV,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    deadline = time.monotonic() + 30
    while not socket.exists():
        if process.poll() is not None or time.monotonic() > deadline:
            sys.exit("podman system service did not start")
        time.sleep(0.2)
    return process, f"unix://{socket}"


def kedro_docker(
    project: Path, base_image: str, workdir: Path, bin_dir: Path, with_venv: bool
) -> dict:
    kd_venv = workdir / "kd-venv"
    run(sys.executable, "-m", "venv", str(kd_venv))
    kedro_version = run(str(bin_dir / "python"), "-c", "import kedro; print(kedro.__version__)")
    kedro_version = kedro_version.strip()
    run(str(kd_venv / "bin" / "pip"), "install", "-q", f"kedro=={kedro_version}", "kedro-docker")
    helper_size = helper_base_image(project, base_image, workdir, kd_venv / "bin" / "python")
    base_size = image_size(base_image)

    copy = workdir / "kd" / SLUG
    shutil.copytree(project, copy, symlinks=True, ignore=shutil.ignore_patterns("dist", "build"))
    service, host = start_podman_service(workdir)
    env = {**ENV, "DOCKER_HOST": host, "DOCKER_BUILDKIT": "0"}
    kedro = str(kd_venv / "bin" / "kedro")
    results: dict = {}
    try:
        run(kedro, "docker", "init", cwd=copy, env=env)
        arms = (
            [("as generated", False), ("with .venv", True)]
            if with_venv
            else [("as generated", False)]
        )
        for label, venv in arms:
            if venv:
                # the environment the project runs in, inside the project (hard links: no copy)
                shutil.copytree(
                    bin_dir.parent, copy / ".venv", symlinks=True, copy_function=os.link
                )
            image = f"{KD_IMAGE}:{'venv' if venv else 'plain'}"
            build = (kedro, "docker", "build", "--base-image", HELPER_IMAGE, "--image", image,
                     "--uid", "999", "--gid", "0")  # fmt: skip
            start = time.perf_counter()
            run(*build, cwd=copy, env=env)
            first = time.perf_counter() - start
            one_line_change(copy)
            start = time.perf_counter()
            run(*build, cwd=copy, env=env)
            rebuild = time.perf_counter() - start
            listing = run("podman", "run", "--rm", "--entrypoint", "ls", image, "-a",
                          "/home/kedro_docker", "/home/kedro_docker/conf/local",
                          check=False)  # fmt: skip
            leaked = [name for name in (".git", ".venv", "mlflow.db", "mlruns", "credentials.yml")
                      if name in listing.split()]  # fmt: skip
            data = fresh_data(project, workdir / "run-kd" / "data")
            results[label] = {
                "size": image_size(image) - helper_size + base_size,
                "first_build": first,
                "rebuild_total": rebuild,
                "start": median_run(
                    image,
                    data,
                    "/home/kedro_docker/data",
                    "kedro",
                    "run",
                    "--pipeline",
                    "data_engineering",
                ),
                "leaked": leaked,
            }
    finally:
        os.killpg(service.pid, signal.SIGTERM)
        service.wait(timeout=30)
        for tag in ("plain", "venv"):
            run("podman", "rmi", "-f", f"{KD_IMAGE}:{tag}", check=False)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base-image", default="localhost/python-base:bookworm")
    parser.add_argument("--no-venv-arm", action="store_true", help="skip kedro-docker + .venv")
    parser.add_argument("--venv", type=Path, help="use this environment (default: a new one)")
    args = parser.parse_args()
    if not shutil.which("podman") or not shutil.which("docker"):
        sys.exit("needs podman and the docker CLI (source .ci/podman.sh)")
    if subprocess.run(["podman", "image", "exists", args.base_image], check=False).returncode:
        sys.exit(f"base image {args.base_image} not found")

    workdir = Path(tempfile.mkdtemp(prefix="kedro-mlops-bench-image-"))
    try:
        bin_dir = args.venv.resolve() / "bin" if args.venv else make_venv(workdir)
        project = make_project(workdir, bin_dir)
        mine = ours(project, args.base_image, workdir, bin_dir)
        with_pyc = ours_with_bytecode(project, args.base_image, workdir, bin_dir)
        serve = ours_serve(project, args.base_image, bin_dir)
        theirs = kedro_docker(project, args.base_image, workdir, bin_dir, not args.no_venv_arm)
        # the floor: bytes of the packages each pipeline imports, against the 0.7x budget
        floor = run(
            str(bin_dir / "python"), str(ROOT / "benchmarks" / "image_floor.py"),
            "--kedro-docker-mb", f"{theirs['as generated']['size'] / 1e6:.0f}",
            "--base-mb", f"{image_size(args.base_image) / 1e6:.0f}",
        )  # fmt: skip
    finally:
        for pipeline in (*PIPELINES, "serve"):
            for tag in (TAG, TAG_PYC):
                run("podman", "rmi", "-f", f"{SLUG}-{pipeline}:{tag}", check=False)
        run("podman", "rmi", "-f", HELPER_IMAGE, check=False)
        deps = run("podman", "images", "--format", "{{.Repository}}:{{.Tag}}", check=False)
        for image in deps.split():
            if image.startswith(f"localhost/{SLUG}-deps:"):
                run("podman", "rmi", "-f", image, check=False)
        shutil.rmtree(workdir, ignore_errors=True)

    print(f"\nbase image {args.base_image}; sizes uncompressed (podman); wall-clock times\n")
    print(f"{'arm':<28} {'image':>9} {'ratio':>6} {'1st build':>10} {'rebuild':>9} {'start':>7}")
    print(row("kedro-mlops (per pipeline)", mine, ""))
    print(row("kedro-mlops, --bytecode", with_pyc, ""))
    print(row("kedro-mlops serve image", serve, ""))
    for label, arm in theirs.items():
        ratio = f"{mine['size'] / arm['size']:.2f}x"
        ratio_pyc = f"{with_pyc['size'] / arm['size']:.2f}x"
        ratio_serve = f"{serve['size'] / arm['size']:.2f}x"
        print(
            row(f"kedro-docker, {label}", arm, ratio),
            f" (--bytecode {ratio_pyc}, serve image {ratio_serve})  "
            f"leaked: {', '.join(arm['leaked'])}",
        )
    print(f"serve image: ready {serve['start']:.1f} s after `podman run` (start column)")
    print(
        f"\nkedro-mlops rebuild after a one-line change: {mine['rebuild_total']:.1f} s for the "
        f"command (project wheel, pins, context), {mine['rebuild_builder']:.1f} s of it in "
        "podman for the 3 images (dependency image reused)"
    )
    print(f"\n{floor}")
    print(
        json.dumps(
            {"kedro-mlops": mine, "bytecode": with_pyc, "serve": serve, "kedro-docker": theirs},
            default=str,
        )
    )


def row(label: str, arm: dict, ratio: str) -> str:
    return (
        f"{label:<28} {mb(arm['size']):>9} {ratio:>6} {arm['first_build']:>9.0f}s "
        f"{arm['rebuild_total']:>8.1f}s {arm['start']:>6.1f}s"
    )


if __name__ == "__main__":
    main()
