"""``mlops.yml`` written from the models: the shipped file with each key's description as its
comment, and the configuration reference of the docs (one table per section). Both come from
the field descriptions, so neither can disagree with validation.

    python -m kedro_mlops.config.reference yaml conf/base/mlops.yml   # rewrite the shipped file
    python -m kedro_mlops.config.reference markdown                   # the reference, on stdout
"""

from __future__ import annotations

import math
import sys
import textwrap
import types
import typing
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel

from kedro_mlops.config.root import MlopsConfig, section_model

HEADER = (
    "kedro-mlops configuration. Validated on every kedro command: unknown keys are rejected.\n"
    "Override per environment in conf/<env>/mlops.yml. Every key is described in the\n"
    "configuration reference (docs/reference/configuration.md); this file is written from it."
)
_WIDTH = 100
_BLOCK_LIST = 4  # longer lists are written one item a line


@dataclass(frozen=True)
class Row:
    """One key of the reference."""

    key: str  # dotted, e.g. "tracking.lineage.git"; list items: "monitoring.checks[].name"
    type: str
    default: str
    description: str
    section: bool  # a nested section (its keys follow)


def type_name(annotation: Any) -> str:  # noqa: ANN401 - a type hint
    """A type hint as the reference shows it: ``str | null``, ``fail | warn``, ``list[str]``."""
    origin = typing.get_origin(annotation)
    if origin is Literal:
        return " | ".join(str(value) for value in typing.get_args(annotation))
    if origin in (typing.Union, types.UnionType):
        return " | ".join(type_name(arg) for arg in typing.get_args(annotation))
    if origin is not None:
        args = ", ".join(type_name(arg) for arg in typing.get_args(annotation))
        return f"{origin.__name__}[{args}]"
    if annotation is type(None):
        return "null"
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return "section"
    return getattr(annotation, "__name__", str(annotation))


def value_text(value: Any) -> str:  # noqa: ANN401 - any YAML value
    """A value as it is written in YAML, on one line."""
    text = yaml.safe_dump(_plain(value), default_flow_style=True, width=math.inf, sort_keys=False)
    return text.removesuffix("\n...\n").strip()


def _plain(value: Any) -> Any:  # noqa: ANN401 - any YAML value
    if isinstance(value, BaseModel):
        return value.model_dump()
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_plain(item) for item in value]
    return value


def child_prefix(key: str, annotation: Any) -> str:  # noqa: ANN401 - a type hint
    """How the keys under a field are named: ``a.b.`` (a section), ``a.b[].`` (a list of
    sections), ``a.b.<name>.`` (a mapping of named sections)."""
    origin = typing.get_origin(annotation)
    if origin is list:
        return f"{key}[]."
    if origin is dict:
        return f"{key}.<name>."
    return f"{key}."


def rows(model: type[BaseModel] = MlopsConfig, prefix: str = "") -> list[Row]:
    """Every key under ``model``, depth first, with its type, default and description."""
    found = []
    for name, field in model.model_fields.items():
        key = f"{prefix}{name}"
        nested = section_model(field.annotation)
        required = field.is_required()
        default = (
            "required" if required else value_text(field.get_default(call_default_factory=True))
        )
        found.append(
            Row(key, type_name(field.annotation), default, field.description or "", bool(nested))
        )
        if nested is not None:
            found += rows(nested, child_prefix(key, field.annotation))
    return found


def undescribed(model: type[BaseModel] = MlopsConfig, prefix: str = "") -> list[str]:
    """The keys without a description (a test keeps this empty)."""
    return [row.key for row in rows(model, prefix) if not row.description.strip()]


def markdown() -> str:
    """The configuration reference: a table per section of ``mlops.yml``."""
    sections: dict[str, list[Row]] = {}
    for row in rows():
        sections.setdefault(row.key.split(".")[0].split("[")[0], []).append(row)
    out = []
    for name, section_rows in sections.items():
        top, *keys = section_rows
        out += [f"## `{name}`", "", top.description, ""]
        out += ["| Key | Type | Default | Description |", "| --- | --- | --- | --- |"]
        for row in keys:
            kind = "section" if row.section else row.type
            default = "" if row.section else f"`{row.default}`"
            out.append(
                f"| `{row.key}` | {_cell(kind)} | {_cell(default)} | {_cell(row.description)} |"
            )
        out.append("")
    return "\n".join(out)


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def render_yaml(config: MlopsConfig) -> str:
    """``config`` as a commented ``mlops.yml``: each key under its description. Items of a list
    of sections (drift checks) show the keys they set."""
    lines = [f"# {line}" for line in HEADER.splitlines()]
    for name in type(config).model_fields:
        lines.append("")
        lines += _field_lines(config, name, 0)
    return "\n".join(lines) + "\n"


def _comment(text: str, indent: int) -> list[str]:
    pad = " " * indent
    return textwrap.wrap(text, _WIDTH, initial_indent=f"{pad}# ", subsequent_indent=f"{pad}# ")


def _field_lines(
    model: BaseModel, name: str, indent: int, *, comment: bool = True, only_set: bool = False
) -> list[str]:
    field = type(model).model_fields[name]
    value = getattr(model, name)
    pad = " " * indent
    lines = _comment(field.description or "", indent) if comment else []
    if isinstance(value, BaseModel):
        lines.append(f"{pad}{name}:")
        for child in _shown(value, only_set):
            lines += _field_lines(value, child, indent + 2, comment=comment, only_set=only_set)
        return lines
    if isinstance(value, list) and value and isinstance(value[0], BaseModel):
        lines.append(f"{pad}{name}:")
        for number, item in enumerate(value):
            item_lines: list[str] = []
            for child in _shown(item, only_set=True):
                item_lines += _field_lines(
                    item, child, indent + 4, comment=number == 0, only_set=True
                )
            first = next(
                i for i, line in enumerate(item_lines) if not line.lstrip().startswith("#")
            )
            item_lines[first] = f"{pad}  - {item_lines[first].lstrip()}"
            lines += item_lines
        return lines
    if isinstance(value, dict) and value and isinstance(next(iter(value.values())), BaseModel):
        lines.append(f"{pad}{name}:")
        for number, (key, item) in enumerate(value.items()):
            lines.append(f"{pad}  {key}:")
            for child in _shown(item, only_set=True):
                lines += _field_lines(item, child, indent + 4, comment=number == 0, only_set=True)
        return lines
    if isinstance(value, list) and len(value) > _BLOCK_LIST:
        return [*lines, f"{pad}{name}:", *(f"{pad}  - {value_text(item)}" for item in value)]
    return [*lines, f"{pad}{name}: {value_text(value)}"]


def _shown(model: BaseModel, only_set: bool) -> list[str]:
    """The keys written for a section: all of them, or in list items those set."""
    fields = list(type(model).model_fields)
    return [name for name in fields if name in model.model_fields_set] if only_set else fields


def main(argv: list[str]) -> int:
    """``yaml FILE``: rewrite FILE from its own values; ``markdown``: the reference."""
    from kedro_mlops.config.root import parse_config  # noqa: PLC0415

    if argv[:1] == ["markdown"]:
        sys.stdout.write(markdown())
        return 0
    if argv[:1] == ["yaml"] and len(argv) == 2:  # noqa: PLR2004 - the command and its file
        path = Path(argv[1])
        current = yaml.safe_load(path.read_text(encoding="utf-8")) if path.exists() else None
        path.write_text(render_yaml(parse_config(current, str(path))), encoding="utf-8")
        return 0
    sys.stderr.write(__doc__ or "")
    return 2


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
