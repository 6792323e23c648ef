"""The docs' screenshots, taken with headless Chromium (``make docs-images``, after ``make demo``).

    python docs/images/src/make_images.py PROJECT

- ``architecture.png``: ``architecture.html`` beside this script;
- ``drift-report.png``: the newest drift report of PROJECT (``data/08_reporting/drift/...``);
- ``serving-docs.png``: the ``/docs`` page of ``kedro mlops serve`` running on PROJECT: FastAPI's
  own Swagger page for the server's ``/openapi.json``, its script and styles from the npm package
  ``swagger-ui-dist`` 5 (what FastAPI loads from a CDN), installed under build/docs-tools.
"""

from __future__ import annotations

import contextlib
import functools
import http.server
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

HERE = Path(__file__).resolve().parent
IMAGES = HERE.parent
TOOLS = HERE.parents[2] / "build" / "docs-tools"
SWAGGER = "swagger-ui-dist@5"  # the major version FastAPI's /docs page loads
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
)


def chromium() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    sys.exit("No Chromium found: `apt-get install chromium` (Debian) and run again.")


def screenshot(url: str, target: Path, size: str, wait_ms: int = 3000) -> None:
    with tempfile.TemporaryDirectory() as profile:
        subprocess.run(
            [
                chromium(),
                *CHROMIUM_FLAGS,
                f"--user-data-dir={profile}",
                f"--window-size={size}",
                f"--virtual-time-budget={wait_ms}",
                f"--screenshot={target}",
                url,
            ],
            check=True,
            capture_output=True,
            timeout=120,
        )
    print(
        f"wrote {target.relative_to(Path.cwd()) if target.is_relative_to(Path.cwd()) else target}"
    )


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextlib.contextmanager
def static_server(directory: Path):
    class Quiet(http.server.SimpleHTTPRequestHandler):
        # Swagger's bundle is UTF-8 and FastAPI's page names no charset: say it in the header
        extensions_map = {  # noqa: RUF012 - the standard library's own attribute
            **http.server.SimpleHTTPRequestHandler.extensions_map,
            ".js": "text/javascript; charset=utf-8",
            ".html": "text/html; charset=utf-8",
        }

        def log_message(self, *_args: object) -> None:
            pass

    handler = functools.partial(Quiet, directory=str(directory))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()


def drift_report(project: Path) -> Path:
    reports = sorted((project / "data" / "08_reporting" / "drift").glob("*/*/report.html"))
    if not reports:
        sys.exit(f"No drift report under {project}: run `make demo` first.")
    return reports[-1]


@contextlib.contextmanager
def served(project: Path):
    port = free_port()
    kedro = Path(sys.executable).with_name("kedro")
    process = subprocess.Popen(
        [str(kedro), "mlops", "serve", "--port", str(port)],
        cwd=project,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={**os.environ, "KEDRO_DISABLE_TELEMETRY": "1"},
    )
    try:
        url = f"http://127.0.0.1:{port}"
        for _ in range(300):
            with contextlib.suppress(OSError):
                urllib.request.urlopen(f"{url}/ready", timeout=1)  # noqa: S310 - localhost
                break
            time.sleep(0.2)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=30)


def swagger_ui() -> Path:
    """Swagger UI's files (npm's ``swagger-ui-dist``), installed once under build/docs-tools."""
    directory = TOOLS / "node_modules" / "swagger-ui-dist"
    if not directory.exists():
        TOOLS.mkdir(parents=True, exist_ok=True)
        npm = shutil.which("npm") or sys.exit("npm is needed for the serving screenshot")
        subprocess.run(
            [npm, "install", "--no-audit", "--no-fund", "--silent", SWAGGER],
            cwd=TOOLS,
            check=True,
            timeout=300,
        )
    return directory


def serving_docs(project: Path, target: Path) -> None:
    from fastapi.openapi.docs import get_swagger_ui_html  # noqa: PLC0415

    swagger_ui_path = swagger_ui()

    with served(project) as url, tempfile.TemporaryDirectory() as scratch:
        site = Path(scratch)
        openapi = urllib.request.urlopen(f"{url}/openapi.json", timeout=10).read()  # noqa: S310
        (site / "openapi.json").write_bytes(openapi)
        shutil.copy(Path(swagger_ui_path) / "swagger-ui-bundle.js", site)
        shutil.copy(Path(swagger_ui_path) / "swagger-ui.css", site)
        title = json.loads(openapi)["info"]["title"]
        page = get_swagger_ui_html(
            openapi_url="openapi.json",
            title=f"{title} - Swagger UI",
            swagger_js_url="swagger-ui-bundle.js",
            swagger_css_url="swagger-ui.css",
            swagger_favicon_url="",
        )
        (site / "docs.html").write_bytes(page.body)
        with static_server(site) as local:
            screenshot(f"{local}/docs.html", target, "1280,820", wait_ms=5000)


def main(argv: list[str]) -> None:
    if len(argv) != 1:
        sys.exit(__doc__)
    project = Path(argv[0]).resolve()
    screenshot((HERE / "architecture.html").as_uri(), IMAGES / "architecture.png", "1300,470")
    screenshot(drift_report(project).as_uri(), IMAGES / "drift-report.png", "1280,1000", 8000)
    serving_docs(project, IMAGES / "serving-docs.png")


if __name__ == "__main__":
    main(sys.argv[1:])
