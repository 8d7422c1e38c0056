"""What a task's analysis collects: facts, candidate losses with reasons, notes."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from lossctl.report import Fact, FactValue


@dataclass
class _Candidate:
    """A loss under consideration: higher priority ranks first (ties keep insertion order)."""

    key: str
    priority: float
    reasons: list[str] = field(default_factory=list)


@dataclass
class _Findings:
    """What a task's analysis found: facts, candidates, notes, and a quantity for agreement."""

    facts: list[Fact] = field(default_factory=list)
    candidates: list[_Candidate] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    #: Families of losses that order rows by one quantity, and that quantity in words.
    monotone: dict[frozenset[str], str] = field(default_factory=dict)
    #: Called with the keys of the recommended losses, once ranked: adds the facts and
    #: notes that must be checked on exactly those losses.
    finish: Callable[[Sequence[str]], None] | None = None

    def fact(self, name: str, value: FactValue, meaning: str, unit: str = "number") -> None:
        """Add a fact; a float that is not finite is stored as None (not measured)."""
        if isinstance(value, float) and not math.isfinite(value):
            value = None
        self.facts.append(Fact(name, value, meaning, unit))

    def add(self, key: str, priority: float, *reasons: str) -> None:
        """Add a candidate loss with its reasons (empty reasons are left out)."""
        self.candidates.append(_Candidate(key, priority, [r for r in reasons if r]))
