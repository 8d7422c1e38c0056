"""Defaults for command-line options from ``lossctl.toml`` or ``[tool.lossctl]``.

The nearest ``lossctl.toml`` or ``pyproject.toml`` with a ``[tool.lossctl]`` table,
searching the start directory and then its parents, supplies defaults; options
given on the command line win. Keys are the long option names, with ``-`` or
``_`` (``chunk-size`` or ``chunk_size``).
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lossctl.errors import UsageError

#: Keys a config file may set, and the type each holds ("list" accepts a string too).
KEYS: dict[str, str] = {
    "loss": "list",
    "target": "list",
    "pred": "list",
    "weight": "str",
    "id": "str",
    "by": "str",
    "task": "str",
    "nan": "str",
    "format": "str",
    "precision": "int",
    "max": "list",
    "plugin": "list",
    "input_format": "str",
    "chunk_size": "int",
    "test": "str",
    "resamples": "int",
    "seed": "int",
    "confidence": "float",
    "baseline": "str",
    "tolerance": "float",
    "horizon": "int",
    "pos_label": "str",
    "engine": "str",
    "scheduler": "str",
}


@dataclass(frozen=True)
class Config:
    """Option defaults and the file they came from (``None`` when there is none)."""

    values: dict[str, Any] = field(default_factory=dict)
    path: Path | None = None

    def get(self, key: str, default: Any = None) -> Any:
        return self.values.get(key, default)


def _normalise(raw: dict[str, Any], path: Path) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in raw.items():
        k = key.replace("-", "_")
        kind = KEYS.get(k)
        if kind is None:
            raise UsageError(
                f"unknown key '{key}' in {path}; valid keys: {', '.join(sorted(KEYS))}."
            )
        if kind == "list":
            if isinstance(value, str):
                value = [value]
            if isinstance(value, dict) and k == "max":
                value = [f"{mk}={mv}" for mk, mv in value.items()]
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise UsageError(f"key '{key}' in {path} must be a string or a list of strings.")
        elif kind == "int":
            if not isinstance(value, int) or isinstance(value, bool):
                raise UsageError(f"key '{key}' in {path} must be an integer, got {value!r}.")
        elif kind == "float":
            if not isinstance(value, (int, float)) or isinstance(value, bool):
                raise UsageError(f"key '{key}' in {path} must be a number, got {value!r}.")
            value = float(value)
        elif not isinstance(value, str):
            raise UsageError(f"key '{key}' in {path} must be a string, got {value!r}.")
        out[k] = value
    if "plugin" in out:  # plugin paths are relative to the config file
        out["plugin"] = [str((path.parent / p).resolve()) for p in out["plugin"]]
    return out


def read_config(path: Path) -> Config:
    """Read one config file (``lossctl.toml``, or the ``[tool.lossctl]`` table of a TOML file)."""
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


def find_config(start: Path) -> Path | None:
    """The nearest lossctl.toml, or pyproject.toml with [tool.lossctl], from ``start`` up."""
    for folder in (start, *start.parents):
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


def load_config(start: Path, explicit: Path | None = None, disabled: bool = False) -> Config:
    """The config in effect: ``explicit`` (--config), none (--no-config), or the nearest."""
    if disabled:
        return Config()
    if explicit is not None:
        return read_config(explicit)
    found = find_config(start)
    return read_config(found) if found else Config()
