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
from lossctl.losses.calibration import CALIBRATION
from lossctl.losses.forecast import FORECAST
from lossctl.losses.multiclass import MULTICLASS
from lossctl.losses.multilabel import MULTILABEL
from lossctl.losses.probabilistic import PROBABILISTIC
from lossctl.losses.regression import REGRESSION
from lossctl.losses.spec import DISTRIBUTION_KINDS, TASKS, BoundLoss, Domain, LossSpec, Param

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

BUILTIN: tuple[LossSpec, ...] = (
    REGRESSION + FORECAST + PROBABILISTIC + BINARY + MULTICLASS + MULTILABEL + CALIBRATION
)


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


def layout_of(kind: str) -> str:
    """The layout family of a prediction kind: a distribution kind, or ``point``. A loss
    name may exist once per task and family (``quantile`` of a value and of a set)."""
    return kind if kind in DISTRIBUTION_KINDS else "point"


class Registry:
    """Losses by name and alias. A name may exist once per task and layout family
    (``brier`` and ``zero_one`` for two tasks, ``quantile`` for a value and a set)."""

    def __init__(self, specs: Iterable[LossSpec]) -> None:
        self._specs: tuple[LossSpec, ...] = tuple(specs)
        index: dict[str, list[LossSpec]] = {}
        for spec in self._specs:
            for name in spec.names:
                entries = index.setdefault(name, [])
                clash = next((s for s in entries if _same_slot(s, spec)), None)
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

    def get(self, name: str, task: str | None = None, kind: str | None = None) -> LossSpec:
        """The spec for ``name``; ``task`` picks between same-named losses, and ``kind`` (the
        prediction kind) between a point and a distribution loss of one name (``quantile``)."""
        found = self.candidates(name)
        if task is not None:
            if task not in TASKS:
                raise UsageError(f"unknown task '{task}'; expected one of {', '.join(TASKS)}.")
            for_task = [spec for spec in found if spec.task == task]
            if task == "multilabel" and not for_task:  # every binary loss, label by label
                for_task = [spec for spec in found if spec.task == "binary"]
            if not for_task:
                tasks = ", ".join(s.task for s in found)
                raise UsageError(f"loss '{name}' is for {tasks} tasks, not {task}.")
            found = tuple(for_task)
        if kind is not None:
            family = layout_of(kind)
            fits = [spec for spec in found if layout_of(spec.prediction_kind) == family]
            if not fits:
                raise UsageError(_wrong_kind(name, found[0], kind, self))
            return fits[0]
        named = list(dict.fromkeys(s.task for s in found))
        if len(named) > 1:
            listed = " and ".join(named)
            raise UsageError(
                f"loss '{name}' exists for {listed}; pass --task (or task=) to choose."
            )
        # One task: without a kind, the point loss (``quantile`` of one value).
        points = [spec for spec in found if layout_of(spec.prediction_kind) == "point"]
        return points[0] if points else found[0]

    def tasks_of(self, parsed: Sequence[ParsedSpec]) -> set[str]:
        """Tasks compatible with every spec; a mix of tasks is a UsageError."""
        common = set(TASKS)
        for p in parsed:
            tasks = {s.task for s in self.candidates(p.name)}
            if "binary" in tasks:
                tasks.add("multilabel")  # a binary loss applies label by label
            if not tasks & common:
                raise UsageError(
                    f"losses from different tasks cannot be mixed: '{p.key}' is for "
                    f"{', '.join(sorted(tasks))}, the others for {', '.join(sorted(common))}."
                )
            common &= tasks
        return common

    def bind(
        self,
        parsed: ParsedSpec,
        task: str | None = None,
        kind: str | None = None,
        levels: Sequence[float] = (),
        outputs: Sequence[str] = (),
    ) -> BoundLoss:
        """Resolve a parsed spec to a :class:`BoundLoss` with validated params; ``levels``
        are the quantile levels of the prediction columns (kind ``quantiles``), ``outputs``
        the names of K outputs or labels the loss is applied to one by one."""
        given = tuple(float(v) for v in levels)
        if kind is None and given:
            kind = "quantiles"
        spec = self.get(parsed.name, task, kind)
        params = spec.resolve_params(dict(parsed.params))
        each = tuple(outputs) if spec.task != "multilabel" else ()
        bound = BoundLoss(spec, params, parsed.key, given, each)
        if spec.prediction_kind == "quantiles":
            bound.check_levels()
        return bound

    def loss(
        self,
        text: str,
        task: str | None = None,
        *,
        kind: str | None = None,
        levels: Sequence[float] = (),
        outputs: Sequence[str] = (),
        **params: Any,
    ) -> BoundLoss:
        """``registry.loss("huber:delta=2")`` or ``registry.loss("huber", delta=2)``;
        ``registry.loss("wis", levels=[0.1, 0.5, 0.9])`` for a quantile set,
        ``registry.loss("bce", "multilabel", outputs=["a", "b"])`` for K labels."""
        parsed = parse_spec(text)
        if params:
            merged = dict(parsed.params) | {k: str(v) for k, v in params.items()}
            parsed = ParsedSpec(parsed.key, parsed.name, tuple(merged.items()))
        return self.bind(parsed, task, kind, levels, outputs)


KIND_WORDS = {
    "point": "a point prediction (one value per row)",
    "quantiles": "quantile predictions (--kind quantiles)",
    "gaussian": "a Gaussian prediction (mean with --std or --var)",
    "ensemble": "an ensemble (--kind ensemble, one column per member)",
}


def _wrong_kind(name: str, spec: LossSpec, kind: str, registry: Registry) -> str:
    """'wis scores quantile predictions, not a point prediction; losses for ...'."""
    family = layout_of(kind)
    fitting = sorted(
        {s.name for s in registry if s.task == spec.task and layout_of(s.prediction_kind) == family}
    )
    shown = ", ".join(fitting[:6]) + (", ..." if len(fitting) > 6 else "")
    hint = f"; the losses for it: {shown} (lossctl losses lists them)" if fitting else ""
    return (
        f"loss '{name}' scores {KIND_WORDS[layout_of(spec.prediction_kind)]}, but the "
        f"prediction columns hold {KIND_WORDS[family]}{hint}."
    )


def _same_slot(a: LossSpec, b: LossSpec) -> bool:
    return a.task == b.task and layout_of(a.prediction_kind) == layout_of(b.prediction_kind)


_BUILTIN_REGISTRY: Registry | None = None


def builtin_registry() -> Registry:
    """The registry of built-in losses (no plugins)."""
    global _BUILTIN_REGISTRY
    if _BUILTIN_REGISTRY is None:
        _BUILTIN_REGISTRY = Registry(BUILTIN)
    return _BUILTIN_REGISTRY
