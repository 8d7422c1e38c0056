"""Custom losses from plugins: Python files and the ``lossctl.losses`` entry-point group.

A plugin declares losses exactly like the built-in ones: a module-level ``LOSSES``
sequence of :class:`~lossctl.losses.spec.LossSpec` (for a file), or an entry
point that resolves to a ``LossSpec`` or a sequence of them (for a package)::

    [project.entry-points."lossctl.losses"]
    my_losses = "my_package.losses:LOSSES"
"""

from __future__ import annotations

import dataclasses
import hashlib
import sys
from collections.abc import Iterable, Sequence
from pathlib import Path
from types import ModuleType

from lossctl.errors import Interrupted, PluginError
from lossctl.losses import Registry, builtin_registry
from lossctl.losses.spec import LossSpec, describe

ENTRY_POINT_GROUP = "lossctl.losses"


def _as_specs(obj: object, where: str) -> list[LossSpec]:
    items: Iterable[object]
    if isinstance(obj, LossSpec):
        items = [obj]
    elif isinstance(obj, (list, tuple)):
        items = obj
    else:
        raise PluginError(
            f"{where}: expected a LossSpec or a list of LossSpec, got {type(obj).__name__}."
        )
    specs = []
    for item in items:
        if not isinstance(item, LossSpec):
            raise PluginError(f"{where}: {item!r} is not a lossctl LossSpec.")
        specs.append(dataclasses.replace(item, origin=where))
    if not specs:
        raise PluginError(f"{where}: declares no losses.")
    return specs


#: Plugin modules loaded in this process: module name -> (file, source text).
#: Engines that run losses in other processes install the same modules there.
LOADED: dict[str, tuple[str, str]] = {}


def module_name(path: Path) -> str:
    """A name for a plugin file's module, the same in every process."""
    digest = hashlib.sha1(str(path.resolve()).encode()).hexdigest()[:16]
    return f"lossctl_plugin_{digest}"


def install_source(name: str, path: str, source: str) -> ModuleType:
    """Run a plugin's source as module ``name`` (in this process or on a worker)."""
    if name in sys.modules:
        return sys.modules[name]
    module = ModuleType(name)
    module.__file__ = path
    sys.modules[name] = module
    try:
        exec(compile(source, path, "exec"), module.__dict__)
    except BaseException:
        sys.modules.pop(name, None)
        raise
    return module


def load_plugin_file(path: str | Path) -> list[LossSpec]:
    """Import a plugin file and return its ``LOSSES``; any failure is a PluginError."""
    p = Path(path)
    if not p.is_file():
        raise PluginError(f"plugin file {p} not found; pass the path of a .py file to --plugin.")
    if p.suffix != ".py":
        raise PluginError(f"plugin {p} cannot be imported; is it a .py file?")
    from lossctl.config import unsafe_reason

    reason = unsafe_reason(p)
    if reason is not None:
        raise PluginError(f"plugin {p} {reason}.")
    name = module_name(p)
    try:
        source = p.read_text(encoding="utf-8")
        module = install_source(name, str(p), source)
    except PluginError as exc:  # an invalid LossSpec raises while the module runs
        raise PluginError(f"plugin {p}: {exc}") from None
    except Interrupted:
        raise
    except BaseException as exc:  # SystemExit, KeyboardInterrupt: the plugin's, not the user's
        raise PluginError(f"plugin {p} failed to import: {describe(exc)}") from None
    LOADED[name] = (str(p), source)
    if not hasattr(module, "LOSSES"):
        raise PluginError(
            f"plugin {p} defines no LOSSES; add LOSSES = [LossSpec(...), ...] at module level."
        )
    return _as_specs(module.LOSSES, f"plugin {p}")


def load_entry_points() -> list[LossSpec]:
    """Losses declared by installed packages in the ``lossctl.losses`` entry-point group."""
    from importlib.metadata import entry_points

    specs: list[LossSpec] = []
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        where = f"entry point '{ep.name}' ({ep.value})"
        try:
            obj = ep.load()
        except PluginError as exc:
            raise PluginError(f"{where}: {exc}") from None
        except Interrupted:
            raise
        except BaseException as exc:
            raise PluginError(f"{where} failed to load: {describe(exc)}") from None
        specs.extend(_as_specs(obj, where))
    return specs


def load_registry(plugins: Sequence[str | Path] = (), entry_points: bool = True) -> Registry:
    """The built-in registry plus installed entry points plus plugin files."""
    extra: list[LossSpec] = []
    if entry_points:
        extra.extend(load_entry_points())
    for path in plugins:
        extra.extend(load_plugin_file(path))
    base = builtin_registry()
    return base.with_specs(extra) if extra else base
