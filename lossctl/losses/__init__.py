"""The loss catalogue: a read-only registry of :class:`LossSpec` entries.

``BUILTIN`` is an explicit, frozen tuple: importing this package has no side
effects. :class:`Registry` adds lookup by name or alias, spec parsing
(``NAME[:key=value[:key=value]]``) and custom losses from plugins.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from lossctl.errors import PluginError, UsageError
from lossctl.losses.binary import BINARY
from lossctl.losses.multiclass import MULTICLASS
from lossctl.losses.regression import REGRESSION
from lossctl.losses.spec import TASKS, BoundLoss, Domain, LossSpec, Param

__all__ = [
    "BUILTIN",
    "TASKS",
    "BoundLoss",
    "Domain",
    "LossSpec",
    "Param",
    "ParsedSpec",
    "Registry",
    "builtin_registry",
    "parse_spec",
    "split_specs",
]

BUILTIN: tuple[LossSpec, ...] = REGRESSION + BINARY + MULTICLASS


@dataclass(frozen=True)
class ParsedSpec:
    """A loss spec as typed: ``huber:delta=2`` -> key, name ``huber``, params {delta: "2"}."""

    key: str
    name: str
    params: tuple[tuple[str, str], ...]


def split_specs(items: Iterable[str]) -> list[str]:
    """Flatten repeated ``-l`` values and comma lists; drop exact repeats.

    A trailing comma is tolerated (``mse,``); a value that names no loss at all
    (``-l ''``) is a usage error rather than a silent fall-back to the defaults.
    """
    out: list[str] = []
    for item in items:
        if not item.replace(",", "").strip():
            raise UsageError(
                f"-l {item!r} names no loss; pass a loss name such as -l mse "
                "(lossctl losses lists them), or leave -l out for the defaults."
            )
        for part in item.split(","):
            part = part.strip()
            if part and part not in out:
                out.append(part)
    return out


def parse_spec(text: str) -> ParsedSpec:
    """Parse ``NAME[:key=value[:key=value]]`` (syntax only; names are checked by a registry)."""
    text = text.strip()
    name, *pairs = text.split(":")
    name = name.strip().lower().replace("-", "_")
    if not name:
        raise UsageError(
            f"empty loss name in '{text}'; expected NAME[:key=value], e.g. huber:delta=2."
        )
    params: list[tuple[str, str]] = []
    for pair in pairs:
        key, sep, value = pair.partition("=")
        key = key.strip()
        if not sep or not key or not value.strip():
            raise UsageError(
                f"bad parameter '{pair}' in loss '{text}'; expected key=value, e.g. huber:delta=2."
            )
        if key in dict(params):
            raise UsageError(f"parameter '{key}' is given twice in loss '{text}'.")
        params.append((key, value.strip()))
    return ParsedSpec(text, name, tuple(params))


class Registry:
    """Losses by name and alias. A name may exist once per task (``brier``, ``zero_one``)."""

    def __init__(self, specs: Iterable[LossSpec]) -> None:
        self._specs: tuple[LossSpec, ...] = tuple(specs)
        index: dict[str, list[LossSpec]] = {}
        for spec in self._specs:
            for name in spec.names:
                entries = index.setdefault(name, [])
                clash = next((s for s in entries if s.task == spec.task), None)
                if clash is not None:
                    raise PluginError(
                        f"loss name '{name}' ({spec.task}) from {spec.origin} is already taken "
                        f"by '{clash.name}' from {clash.origin}; rename the custom loss."
                    )
                entries.append(spec)
        self._index = MappingProxyType({k: tuple(v) for k, v in index.items()})

    def __iter__(self) -> Iterator[LossSpec]:
        return iter(self._specs)

    def __len__(self) -> int:
        return len(self._specs)

    def __contains__(self, name: object) -> bool:
        return name in self._index

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(self._index)

    def with_specs(self, extra: Iterable[LossSpec]) -> Registry:
        """A new registry with ``extra`` (custom losses) added after these."""
        return Registry((*self._specs, *extra))

    def candidates(self, name: str) -> tuple[LossSpec, ...]:
        """All specs answering to ``name`` (one per task); a UsageError suggests close names."""
        key = name.strip().lower().replace("-", "_")
        found = self._index.get(key)
        if found:
            return found
        close = difflib.get_close_matches(key, self.names, n=3, cutoff=0.6)
        hint = f" Did you mean {' or '.join(repr(c) for c in close)}?" if close else ""
        raise UsageError(f"unknown loss '{name}'.{hint} Run 'lossctl losses' to list them all.")

    def get(self, name: str, task: str | None = None) -> LossSpec:
        """The spec for ``name``; ``task`` picks between same-named losses."""
        found = self.candidates(name)
        if task is not None:
            if task not in TASKS:
                raise UsageError(f"unknown task '{task}'; expected one of {', '.join(TASKS)}.")
            for spec in found:
                if spec.task == task:
                    return spec
            tasks = ", ".join(s.task for s in found)
            raise UsageError(f"loss '{name}' is for {tasks} tasks, not {task}.")
        if len(found) > 1:
            tasks = " and ".join(s.task for s in found)
            raise UsageError(f"loss '{name}' exists for {tasks}; pass --task (or task=) to choose.")
        return found[0]

    def tasks_of(self, parsed: Sequence[ParsedSpec]) -> set[str]:
        """Tasks compatible with every spec; a mix of tasks is a UsageError."""
        common = set(TASKS)
        for p in parsed:
            tasks = {s.task for s in self.candidates(p.name)}
            if not tasks & common:
                raise UsageError(
                    f"losses from different tasks cannot be mixed: '{p.key}' is for "
                    f"{', '.join(sorted(tasks))}, the others for {', '.join(sorted(common))}."
                )
            common &= tasks
        return common

    def bind(self, parsed: ParsedSpec, task: str | None = None) -> BoundLoss:
        """Resolve a parsed spec to a :class:`BoundLoss` with validated params."""
        spec = self.get(parsed.name, task)
        return BoundLoss(spec, spec.resolve_params(dict(parsed.params)), parsed.key)

    def loss(self, text: str, task: str | None = None, **params: Any) -> BoundLoss:
        """``registry.loss("huber:delta=2")`` or ``registry.loss("huber", delta=2)``."""
        parsed = parse_spec(text)
        if params:
            merged = dict(parsed.params) | {k: str(v) for k, v in params.items()}
            parsed = ParsedSpec(parsed.key, parsed.name, tuple(merged.items()))
        return self.bind(parsed, task)


_BUILTIN_REGISTRY: Registry | None = None


def builtin_registry() -> Registry:
    """The registry of built-in losses (no plugins)."""
    global _BUILTIN_REGISTRY
    if _BUILTIN_REGISTRY is None:
        _BUILTIN_REGISTRY = Registry(BUILTIN)
    return _BUILTIN_REGISTRY
