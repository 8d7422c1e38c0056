"""Defaults for command-line options from ``lossctl.toml`` or ``[tool.lossctl]``.

The nearest ``lossctl.toml`` or ``pyproject.toml`` with a ``[tool.lossctl]`` table
supplies defaults; options given on the command line win. The search starts in the
working directory and goes up to the root of the enclosing repository (the nearest
folder holding ``.git`` or ``.hg``), as git looks for its own files; outside a
repository only the working directory is searched. Keys are the long option names,
with ``-`` or ``_`` (``chunk-size`` or ``chunk_size``).

A config file may name plugins (Python code), so one that other users can write is
refused (see :func:`check_safe`).
"""

from __future__ import annotations

import os
import stat
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from lossctl.errors import UsageError

#: Config keys that are command-line options only (no field of :mod:`lossctl.options`).
CLI_KEYS = {"format": "str", "precision": "int", "plugin": "list"}
#: The type of a key, from its option field's annotation ("list" accepts a string too;
#: "names" is a list of names or one comma-separated string of them; "numbers" a list
#: of numbers or one comma-separated string of them).
_TYPES = {
    "Sequence[str]": "list",
    "tuple[str, ...]": "names",
    "tuple[float, ...]": "numbers",
    "str": "str",
    "int": "int",
    "float": "float",
    "bool": "bool",
}


def _keys() -> dict[str, str]:
    """The keys a config file may set: the option fields (:mod:`lossctl.options`) of eval
    and compare, less :data:`~lossctl.options.NOT_IN_CONFIG`, and :data:`CLI_KEYS`."""
    from dataclasses import fields

    from lossctl.options import (
        CONFIG_NAMES,
        CONFIG_TYPES,
        NOT_IN_CONFIG,
        CompareOptions,
        EvalOptions,
    )

    keys: dict[str, str] = {}
    for cls in (EvalOptions, CompareOptions):
        for f in fields(cls):
            if f.name in NOT_IN_CONFIG:
                continue
            annotation = str(f.type).removesuffix(" | None")
            keys[CONFIG_NAMES.get(f.name, f.name)] = _TYPES[annotation]
    return {**keys, **CONFIG_TYPES, **CLI_KEYS}


#: Keys a config file may set, and the type each holds.
KEYS: dict[str, str] = _keys()


@dataclass(frozen=True)
class Config:
    """Option defaults and the file they came from (``None`` when there is none).

    ``plugins_off`` (``--no-plugins``): load neither the plugins this file names nor
    the installed entry-point plugins.
    """

    values: dict[str, Any] = field(default_factory=dict)
    path: Path | None = None
    plugins_off: bool = False

    def get(self, key: str, default: Any = None) -> Any:
        return self.values.get(key, default)


def _normalise(raw: dict[str, Any], path: Path) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in raw.items():
        k = key.replace("-", "_")
        key_type = KEYS.get(k)
        if key_type is None:
            raise UsageError(
                f"unknown key '{key}' in {path}; valid keys: {', '.join(sorted(KEYS))}."
            )
        if key_type == "names":
            if isinstance(value, str):
                value = value.split(",")
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise UsageError(
                    f"key '{key}' in {path} must be a list of names or a comma-separated "
                    f"string, got {value!r}."
                )
        elif key_type == "numbers":
            if isinstance(value, str):
                value = value.split(",")
            if not isinstance(value, list) or not all(
                isinstance(v, (str, int, float)) and not isinstance(v, bool) for v in value
            ):
                raise UsageError(
                    f"key '{key}' in {path} must be a list of numbers or a comma-separated "
                    f"string, got {value!r}."
                )
        elif key_type == "tolerances":
            if isinstance(value, (int, float, str)) and not isinstance(value, bool):
                value = [value]
            if isinstance(value, dict):
                value = [f"{mk}={mv}" for mk, mv in value.items()]
            if not isinstance(value, list) or not all(
                isinstance(v, (str, int, float)) and not isinstance(v, bool) for v in value
            ):
                raise UsageError(
                    f"key '{key}' in {path} must be N% or N, or a list of them (KEY=N% for "
                    f"one loss), got {value!r}."
                )
            value = [str(v) for v in value]
        elif key_type == "bool":
            if not isinstance(value, bool):
                raise UsageError(f"key '{key}' in {path} must be true or false, got {value!r}.")
        elif key_type == "list":
            if isinstance(value, str):
                value = [value]
            if isinstance(value, dict) and k in ("max", "max_group"):
                value = [f"{mk}={mv}" for mk, mv in value.items()]
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise UsageError(f"key '{key}' in {path} must be a string or a list of strings.")
        elif key_type == "int":
            if not isinstance(value, int) or isinstance(value, bool):
                raise UsageError(f"key '{key}' in {path} must be an integer, got {value!r}.")
        elif key_type == "float":
            if not isinstance(value, (int, float)) or isinstance(value, bool):
                raise UsageError(f"key '{key}' in {path} must be a number, got {value!r}.")
            value = float(value)
        elif not isinstance(value, str):
            raise UsageError(f"key '{key}' in {path} must be a string, got {value!r}.")
        out[k] = value
    if "plugin" in out:  # plugin paths are relative to the config file
        out["plugin"] = [str((path.parent / p).resolve()) for p in out["plugin"]]
    return out


def unsafe_reason(path: Path) -> str | None:
    """Why a file that lossctl would run (or that names code to run) is unsafe, or None.

    Unsafe: writable by the group or by everyone, or owned by a user other than the
    current one and root.
    """
    try:
        st = path.stat()
    except OSError:
        return None  # reading it reports the problem
    if st.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
        return (
            f"is writable by other users (mode {stat.S_IMODE(st.st_mode):o}), so they could "
            f"make lossctl run their code; run 'chmod go-w {path}'"
        )
    if st.st_uid not in (os.geteuid(), 0):
        return (
            f"is owned by another user (uid {st.st_uid}), who could make lossctl run their "
            f"code; take it over ('chown {os.geteuid()} {path}') if you trust its content"
        )
    return None


def check_safe(path: Path, what: str, bypass: str) -> None:
    """Refuse ``path`` with a :class:`UsageError` when :func:`unsafe_reason` finds a reason."""
    reason = unsafe_reason(path)
    if reason is not None:
        raise UsageError(f"{what} {path} {reason}, or pass {bypass}.")


def read_config(path: Path) -> Config:
    """Read one config file (``lossctl.toml``, or the ``[tool.lossctl]`` table of a TOML file)."""
    check_safe(path, "config file", "--no-config")
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise UsageError(f"config file {path} not found; check --config.") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"cannot read config file {path}: {exc}.") from None
    except tomllib.TOMLDecodeError as exc:
        raise UsageError(f"config file {path} is not valid TOML: {exc}.") from None
    if path.name == "pyproject.toml" or "tool" in data:
        table = data.get("tool", {}).get("lossctl", {})
    else:
        table = data
    if not isinstance(table, dict):
        raise UsageError(f"[tool.lossctl] in {path} must be a table.")
    return Config(_normalise(table, path), path)


def repository_root(start: Path) -> Path | None:
    """The nearest folder at or above ``start`` holding ``.git`` (folder or file) or ``.hg``."""
    for folder in (start, *start.parents):
        if (folder / ".git").exists() or (folder / ".hg").is_dir():
            return folder
    return None


def search_folders(start: Path) -> list[Path]:
    """Where a config is looked for: ``start`` up to its repository root, else ``start``."""
    start = start.resolve()
    root = repository_root(start)
    if root is None:
        return [start]
    folders = [start]
    while folders[-1] != root:
        folders.append(folders[-1].parent)
    return folders


def find_config(start: Path) -> Path | None:
    """The nearest lossctl.toml, or pyproject.toml with [tool.lossctl], in the search folders."""
    for folder in search_folders(start):
        candidate = folder / "lossctl.toml"
        if candidate.is_file():
            return candidate
        pyproject = folder / "pyproject.toml"
        if pyproject.is_file():
            try:
                text = pyproject.read_text(encoding="utf-8")
            except OSError:
                continue
            if "[tool.lossctl" in text:
                return pyproject
    return None


def load_config(
    start: Path, explicit: Path | None = None, disabled: bool = False, plugins_off: bool = False
) -> Config:
    """The config in effect: ``explicit`` (--config), none (--no-config), or the nearest.

    ``plugins_off`` (--no-plugins) is recorded in the result.
    """
    if disabled:
        conf = Config()
    elif explicit is not None:
        conf = read_config(explicit)
    else:
        found = find_config(start)
        conf = read_config(found) if found else Config()
    return replace(conf, plugins_off=True) if plugins_off else conf


def parse_levels(
    value: str | Sequence[str | float] | None, where: str = "--levels"
) -> tuple[float, ...]:
    """The quantile levels of ``--levels 0.1,0.5,0.9`` (from a config file also a list)."""
    if value is None or value == () or value == "":
        return ()
    items = value.split(",") if isinstance(value, str) else list(value)
    out = []
    for item in items:
        try:
            level = float(str(item).strip())
        except ValueError:
            raise UsageError(
                f"{where}: '{str(item).strip()}' is not a number; give the levels as fractions "
                "separated by commas, e.g. --levels 0.1,0.5,0.9."
            ) from None
        if not 0 < level < 1:
            raise UsageError(
                f"{where}: level {level:g} is outside (0, 1); give fractions, e.g. 0.9 for "
                "the 90th percentile."
            )
        out.append(level)
    return tuple(out)


def parse_classes(value: str | Sequence[str] | None, where: str = "--classes") -> tuple[str, ...]:
    """The class names of ``--classes A,B,C`` (a comma list; from a config file also a
    list), blanks around each name stripped. An empty name or a name given twice is a
    usage error naming ``where`` (the option, or the config key and file).
    """
    if value is None or (not isinstance(value, str) and not value):
        return ()
    items = value.split(",") if isinstance(value, str) else list(value)
    names = tuple(str(item).strip() for item in items)
    shown = value if isinstance(value, str) else ",".join(str(v) for v in value)
    if not names or any(not name for name in names):
        raise UsageError(
            f"{where} has an empty class name ({shown!r}); give the K class names in label "
            "order, separated by commas, e.g. --classes cat,dog,bird."
        )
    seen: set[str] = set()
    for name in names:
        if name in seen:
            raise UsageError(
                f"{where} names class '{name}' twice ({shown!r}); each of the K class "
                "columns needs its own name."
            )
        seen.add(name)
    return names
