"""MkDocs hook: the configuration reference page is filled from the configuration models."""

from __future__ import annotations

from typing import Any

MARKER = "<!-- mlops.yml reference -->"


def on_page_markdown(markdown: str, page: Any, **_: Any) -> str:
    """Replace the marker with the reference generated from ``kedro_mlops.config``."""
    if MARKER not in markdown:
        return markdown
    from kedro_mlops.config.reference import markdown as reference  # noqa: PLC0415

    return markdown.replace(MARKER, reference())


def on_config(config: Any) -> Any:
    """The site's address is the one generated projects link to (the starter's ``_docs_url``)."""
    import json  # noqa: PLC0415
    from pathlib import Path  # noqa: PLC0415

    starter = Path(config["docs_dir"]).parent / "starters" / "mlops" / "cookiecutter.json"
    config["site_url"] = json.loads(starter.read_text(encoding="utf-8"))["_docs_url"]
    return config
