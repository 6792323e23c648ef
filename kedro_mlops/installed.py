"""Where an installed distribution came from, when not from a package index (PEP 610)."""

from __future__ import annotations

import json
from typing import Protocol
from urllib.parse import unquote, urlparse


class _Metadata(Protocol):
    def read_text(self, filename: str) -> str | None: ...


def local_source(dist: _Metadata) -> str | None:
    """The wheel file, folder or VCS URL ``dist`` was installed from, or ``None`` when it came
    from an index (``pip install <name>``), read from its ``direct_url.json``."""
    raw = dist.read_text("direct_url.json")
    if not raw:
        return None
    try:
        info = json.loads(raw)
    except json.JSONDecodeError:
        return None
    url = str(info.get("url", ""))
    if "vcs_info" in info:
        vcs = info["vcs_info"]
        return f"{vcs.get('vcs', 'git')}+{url}@{vcs.get('commit_id', '')}".rstrip("@")
    if url.startswith("file://"):
        return unquote(urlparse(url).path)
    return url or None
