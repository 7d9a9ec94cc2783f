"""Every setting in one table, generated from the settings classes themselves (name, default, description),
so the documentation cannot drift from the code: ``liftwatch settings --markdown`` prints it, and a test
compares it with the copy in docs/OPERATIONS.md. Core knows no domain: the caller (the CLI) names the groups.
"""

from __future__ import annotations

import dataclasses
import enum
import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import msgspec
from pydantic_core import PydanticUndefined
from pydantic_settings import BaseSettings

BEGIN = "<!-- settings:begin -->"
END = "<!-- settings:end -->"


@dataclass(frozen=True)
class Row:
    env: str
    default: str
    description: str


@dataclass(frozen=True)
class Group:
    """One settings class: a title for the table and its rows."""

    title: str
    rows: tuple[Row, ...]


def show_default(value: Any) -> str:
    """A default as an operator would write it in the environment (``false``, ``var``, empty)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, enum.Enum):
        value = value.value
    if isinstance(value, Path):
        return value.as_posix()
    if isinstance(value, (list, tuple, set, frozenset)):
        return ",".join(str(v) for v in value)
    return str(value)


def pydantic_group(title: str, cls: type[BaseSettings], exclude: Iterable[str] = ()) -> Group:
    """The rows of a pydantic-settings class, under its ``env_prefix``; ``exclude`` names fields that are
    not read from the environment under this prefix (e.g. set from another group)."""
    prefix = str(cls.model_config.get("env_prefix") or "")
    skip = set(exclude)
    rows = []
    for name, field in cls.model_fields.items():
        if name in skip:
            continue
        default = field.default_factory() if field.default_factory is not None else field.default  # type: ignore[call-arg]
        shown = "" if default is PydanticUndefined else show_default(default)
        rows.append(Row(f"{prefix}{name.upper()}", shown, _sentence(field.description or "")))
    return Group(title, tuple(rows))


def struct_group(title: str, cls: type[msgspec.Struct], prefix: str) -> Group:
    """The rows of a msgspec Struct read field by field as ``<prefix><FIELD>`` (the detector thresholds);
    a field's description is its ``msgspec.Meta(description=...)``."""
    info = msgspec.inspect.type_info(cls)
    assert isinstance(info, msgspec.inspect.StructType)
    rows = []
    for field in info.fields:
        kind = field.type
        description = ""
        if isinstance(kind, msgspec.inspect.Metadata):
            description = str((kind.extra_json_schema or {}).get("description", ""))
        default = "" if field.default is msgspec.NODEFAULT else show_default(field.default)
        rows.append(Row(f"{prefix}{field.name.upper()}", default, _sentence(description)))
    return Group(title, tuple(rows))


def _sentence(text: str) -> str:
    text = " ".join(text.split())
    return text[:1].upper() + text[1:] if text else ""


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def markdown(groups: Sequence[Group]) -> str:
    """One Markdown table per group, each under a bold title; ends with a newline."""
    out: list[str] = []
    for group in groups:
        if out:
            out.append("")
        out += [f"**{group.title}**", "", "| variable | default | meaning |", "|---|---|---|"]
        for row in group.rows:
            default = f"`{row.default}`" if row.default else "empty"
            out.append(f"| `{row.env}` | {_cell(default)} | {_cell(row.description)} |")
    return "\n".join(out) + "\n"


def text(groups: Sequence[Group]) -> str:
    """The same for a terminal: one line per setting (name, default), its description indented below."""
    out: list[str] = []
    for group in groups:
        out.append(f"# {group.title}")
        for row in group.rows:
            out.append(f"{row.env}={row.default}")
            if row.description:
                out.append(f"    {row.description}")
        out.append("")
    return "\n".join(out)


def between_markers(document: str) -> str | None:
    """What a document holds between the markers (None without them)."""
    start, end = document.find(BEGIN), document.find(END)
    if start < 0 or end < start:
        return None
    return document[start + len(BEGIN) : end].strip("\n") + "\n"


def replace_between_markers(document: str, table: str) -> str:
    """The document with the table between the markers; a ValueError when they are missing."""
    start, end = document.find(BEGIN), document.find(END)
    if start < 0 or end < start:
        raise ValueError(f"the markers {BEGIN} and {END} are missing")
    return f"{document[: start + len(BEGIN)]}\n{table.rstrip(chr(10))}\n{document[end:]}"


_T = TypeVar("_T")


def process_environment() -> dict[str, str]:
    """The process's environment over the ``.env`` file, as every settings group reads them."""
    import os

    from dotenv import dotenv_values

    from liftwatch.core.config import ENV_FILE

    from_file = {k: v for k, v in dotenv_values(ENV_FILE).items() if v is not None}
    return {**from_file, **os.environ}


def kept_on(state: object, name: str, read: Callable[[], _T]) -> _T:
    """A settings group of a running app, read (``read()``, from the environment) at its first use and
    kept on the app's ``state`` under ``name``: every request of the app sees the same values."""
    found = getattr(state, name, None)
    if found is None:
        found = read()
        setattr(state, name, found)
    return found


def numbers_from_env(cls: type[_T], prefix: str, environ: Mapping[str, str] | None = None) -> _T:
    """A frozen dataclass of non-negative numbers (a pure module's weights) from ``<prefix><NAME>`` (any case)
    over its defaults. A value that is not a number, or negative, or that the dataclass refuses, is a
    ValueError naming every bad variable."""
    env = process_environment() if environ is None else environ
    names = {f.name for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
    given: dict[str, float] = {}
    problems = []
    for key, raw in sorted(env.items()):
        upper = key.upper()
        name = upper[len(prefix) :].lower()
        if not upper.startswith(prefix) or name not in names:
            continue
        try:
            value = float(raw)
        except ValueError:
            problems.append(f"{prefix}{name.upper()}={raw!r}: expected a number")
            continue
        if not math.isfinite(value) or value < 0:
            problems.append(f"{prefix}{name.upper()}={raw!r}: expected a number >= 0")
            continue
        given[name] = value
    if problems:
        raise ValueError("; ".join(problems))
    try:
        return cls(**given)
    except ValueError as exc:
        raise ValueError(f"{prefix}*: {exc}") from None


def dataclass_group(title: str, cls: type[Any], prefix: str) -> Group:
    """The rows of a dataclass read by :func:`numbers_from_env`: variable, default, the reason for the
    default (each field's ``metadata["why"]``)."""
    rows = []
    for f in dataclasses.fields(cls):
        why = str(f.metadata.get("why", ""))
        rows.append(Row(f"{prefix}{f.name.upper()}", show_default(f.default), why[:1].upper() + why[1:]))
    return Group(title, tuple(rows))
