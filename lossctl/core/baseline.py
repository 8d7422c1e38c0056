"""Baselines: a run's costs against a saved ``eval --json`` result (``eval --baseline``,
``diff``). Pure: the flows read the files, the renderers print.

Rules (losses: lower is better):

- ``allowed`` is the increase the tolerance allows: N% of the baseline's cost (of its
  absolute value) or N cost units; a change equal to it passes (to rounding), an
  improvement (a change <= 0) always passes;
- a cost unknown in this run (NaN, null in JSON) fails, as it does for ``--max``; an
  unknown baseline cost with a known current one passes (there is nothing to be worse
  than), with no delta;
- a key of the baseline that this run lacks fails unless ``allow_missing``; a key only in
  this run is reported as new; groups only in one of the two runs are reported, never
  failed.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from lossctl.errors import UsageError
from lossctl.report import BaselineComparison, BaselineDelta, EvalReport, GateFailure

#: The schema versions of eval JSON this lossctl reads.
KNOWN_SCHEMAS = (1,)
_NUMBER = re.compile(r"(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?")
#: Relative slack on "a change equal to allowed passes": the float rounding of
#: ``current - baseline`` and of ``N% of baseline``.
_ROUNDING = 1e-12


@dataclass(frozen=True)
class Tolerance:
    """``value`` percent of the baseline's cost (``relative``), or ``value`` cost units."""

    value: float
    relative: bool
    text: str

    def allowed(self, baseline: float) -> float:
        return abs(baseline) * self.value / 100.0 if self.relative else self.value


@dataclass(frozen=True)
class Tolerances:
    default: Tolerance = Tolerance(0.0, False, "0")
    per_key: dict[str, Tolerance] = field(default_factory=dict)

    def of(self, key: str) -> Tolerance:
        return self.per_key.get(key, self.default)

    def described(self) -> dict[str, str]:
        return {"*": self.default.text, **{k: t.text for k, t in self.per_key.items()}}


def _bad_tolerance(item: str, why: str = "") -> UsageError:
    return UsageError(
        f"bad --tolerance '{item}'{': ' + why if why else ''}; expected N% (relative to the "
        "baseline's cost, e.g. 2%) or N (absolute, in cost units, e.g. 0.5), for every loss "
        "or as KEY=N% / KEY=N for one (e.g. --tolerance mse=2%), with no spaces."
    )


def parse_tolerance_value(text: str, item: str) -> Tolerance:
    """``2%`` -> 2 percent; ``0.5`` -> 0.5 cost units."""
    relative = text.endswith("%")
    number = text[:-1] if relative else text
    if not _NUMBER.fullmatch(number):
        raise _bad_tolerance(item, f"'{text}' is not a number" if text else "no value")
    value = float(number)
    if not math.isfinite(value):
        raise _bad_tolerance(item, "the tolerance must be finite")
    return Tolerance(value, relative, text)


def parse_tolerances(items: Sequence[str]) -> Tolerances:
    """``["2%", "mse=0.5", "huber:delta=2=1%"]`` -> a default and per-key tolerances
    (the value follows the last '=')."""
    default = Tolerance(0.0, False, "0")
    per_key: dict[str, Tolerance] = {}
    seen_default = False
    for raw in items:
        item = str(raw)
        key, sep, value = item.rpartition("=")
        if sep:
            if not key or key != key.strip():
                raise _bad_tolerance(item, "no loss key before '='" if not key else "")
            if key in per_key:
                raise UsageError(f"--tolerance gives {key} twice; give it once.")
            per_key[key] = parse_tolerance_value(value, item)
        else:
            if seen_default:
                raise UsageError(
                    "--tolerance gives the tolerance of every loss twice; give one N% or N "
                    "(and KEY=... for the losses that differ)."
                )
            seen_default = True
            default = parse_tolerance_value(value, item)
    return Tolerances(default, per_key)


def parse_compare_tolerance(items: Sequence[str] | str | float) -> float:
    """compare --tolerance: ``N%`` (a percentage) or a bare number (the relative fraction,
    as in 0.1: 0.01 is 1%); one value for every loss."""
    values = [items] if isinstance(items, (str, int, float)) else list(items)
    if len(values) != 1:
        raise UsageError("compare --tolerance takes one value (N% or a fraction, e.g. 0.01).")
    text = str(values[0])
    if "=" in text:
        raise UsageError(
            f"compare --tolerance '{text}': per-loss tolerances are for eval --baseline and "
            "diff; compare takes one N% or fraction for every loss."
        )
    t = parse_tolerance_value(text, text)
    return t.value / 100.0 if t.relative else t.value


@dataclass(frozen=True)
class Saved:
    """What a comparison needs of one eval result (a saved JSON, or this run's report)."""

    source: str
    task: str | None
    columns: tuple[tuple[str, ...], tuple[str, ...], str | None] | None
    n_rows: int | None
    version: str | None
    #: key -> (cost, params); an unknown cost is None.
    losses: dict[str, tuple[float | None, dict[str, Any]]]
    by: str | None = None
    #: group -> key -> cost (None: the run had no groups).
    groups: dict[str, dict[str, float | None]] | None = None
    #: The fingerprint of the targets and weights evaluated (the signature's), if known.
    targets: str | None = None


def _cost(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    v = float(value)
    return v if math.isfinite(v) else None


def _names(value: Any) -> tuple[str, ...]:
    if isinstance(value, str):
        return (value,)
    if isinstance(value, list):
        return tuple(str(v) for v in value)
    return ()


def saved_from_doc(doc: Any, source: str, what: str) -> Saved:
    """A parsed JSON document as an eval result, or a :class:`UsageError` saying why not.

    ``what`` names the option or command for the message ("--baseline", "diff").
    """
    make = f"make it with 'lossctl eval FILE --json > {source}'"
    if not isinstance(doc, dict) or "schema_version" not in doc or "command" not in doc:
        raise UsageError(
            f"{source} is JSON but not a lossctl result (it has no schema_version and "
            f"command); {what} takes a 'lossctl eval --json' result: {make}."
        )
    command = doc["command"]
    if command != "eval":
        raise UsageError(
            f"{source} was made by lossctl {command}; {what} compares "
            f"`lossctl eval --json` results: {make}."
        )
    version = doc["schema_version"]
    if isinstance(version, bool) or version not in KNOWN_SCHEMAS:
        known = ", ".join(map(str, KNOWN_SCHEMAS))
        raise UsageError(
            f"{source} has schema_version {version!r}; this lossctl reads eval results of "
            f"schema_version {known}: {make} with this version."
        )
    losses = doc.get("losses")
    if not isinstance(losses, dict) or not all(isinstance(v, dict) for v in losses.values()):
        raise UsageError(f"{source} has no 'losses' table of an eval result; {make}.")
    out = {str(k): (_cost(v.get("cost")), dict(v.get("params") or {})) for k, v in losses.items()}
    groups = None
    raw_groups = doc.get("groups")
    if isinstance(raw_groups, dict):
        groups = {
            str(g): {
                str(k): _cost(s.get("cost") if isinstance(s, dict) else None)
                for k, s in (gs.get("losses") or {}).items()
            }
            for g, gs in raw_groups.items()
            if isinstance(gs, dict)
        }
    cols = doc.get("columns")
    columns = None
    if isinstance(cols, dict):
        weight = cols.get("weight")
        columns = (
            _names(cols.get("target")),
            _names(cols.get("pred")),
            weight if isinstance(weight, str) else None,
        )
    n_rows = doc.get("n_rows")
    signature = doc.get("signature")
    data = signature.get("data") if isinstance(signature, dict) else None
    targets = data.get("targets") if isinstance(data, dict) else None
    return Saved(
        source=source,
        task=doc.get("task") if isinstance(doc.get("task"), str) else None,
        columns=columns,
        n_rows=n_rows if isinstance(n_rows, int) and not isinstance(n_rows, bool) else None,
        version=str(doc["lossctl_version"]) if "lossctl_version" in doc else None,
        losses=out,
        by=doc.get("by") if isinstance(doc.get("by"), str) else None,
        groups=groups,
        targets=targets if isinstance(targets, str) else None,
    )


def saved_from_report(report: EvalReport, version: str) -> Saved:
    """This run's report as :class:`Saved` (what its ``--json`` would read back as)."""
    cols = report.columns
    return Saved(
        source=report.source,
        task=report.task,
        columns=(tuple(cols.target), tuple(cols.pred), cols.weight),
        n_rows=report.n_rows,
        version=version,
        losses={k: (_cost(s.cost), dict(s.params)) for k, s in report.losses.items()},
        by=report.by,
        groups=(
            {g: {k: _cost(s.cost) for k, s in gs.losses.items()} for g, gs in report.groups.items()}
            if report.groups is not None
            else None
        ),
        targets=None if report.signature is None else report.signature.data[""].targets,
    )


def compatibility(old: Saved, new: Saved) -> list[str]:
    """Warnings: the two results may not measure the same thing."""
    out = []
    what = f"the baseline {old.source} and {new.source}"
    if old.task and new.task and old.task != new.task:
        out.append(f"{what} are of different tasks ({old.task} vs {new.task}).")
    if old.columns is not None and new.columns is not None and old.columns != new.columns:
        parts = []
        for name, a, b in zip(("target", "pred", "weight"), old.columns, new.columns, strict=True):
            if a != b:
                parts.append(f"{name} {_show(a)} vs {_show(b)}")
        out.append(f"{what} use different columns ({'; '.join(parts)}).")
    for key in old.losses.keys() & new.losses.keys():
        if old.losses[key][1] != new.losses[key][1]:
            out.append(
                f"{key} has other parameters in the baseline ({old.losses[key][1]}) than in "
                f"{new.source} ({new.losses[key][1]}): the costs may not be comparable."
            )
    if old.n_rows is not None and new.n_rows is not None and old.n_rows != new.n_rows:
        out.append(f"{what} have different row counts ({old.n_rows:,} vs {new.n_rows:,}).")
    major_old, major_new = _major(old.version), _major(new.version)
    if major_old is not None and major_new is not None and major_old != major_new:
        out.append(
            f"the baseline {old.source} was made by lossctl {old.version}, {new.source} by "
            f"{new.version} (another major version): costs may be computed differently."
        )
    if old.targets and new.targets and old.targets != new.targets:
        out.append(
            f"{what} were evaluated on different data: the fingerprints of their targets and "
            f"weights differ ({old.targets} vs {new.targets})."
        )
    if old.groups is not None and new.groups is not None and old.by != new.by:
        out.append(f"the baseline's groups are by {old.by}, this run's by {new.by}.")
    return sorted(set(out), key=out.index)


def _show(value: object) -> str:
    if isinstance(value, tuple):
        return ", ".join(value) if value else "none"
    return str(value) if value is not None else "none"


def _major(version: str | None) -> str | None:
    if not version:
        return None
    head = version.split(".")[0]
    return head if head.isdigit() else None


def delta(baseline: float | None, current: float | None, tolerance: Tolerance) -> BaselineDelta:
    if current is None:
        return BaselineDelta(baseline, None, None, None, None, False)
    if baseline is None:
        return BaselineDelta(None, current, None, None, None, True)
    allowed = tolerance.allowed(baseline)
    change = current - baseline
    relative = change / abs(baseline) if baseline != 0 else None
    slack = _ROUNDING * max(abs(baseline), abs(current))
    passed = change <= 0 or change <= allowed + slack
    return BaselineDelta(baseline, current, change, relative, allowed, passed)


def check_tolerance_keys(tolerances: Tolerances, *runs: Saved) -> None:
    """A --tolerance for a key that is in none of the runs is a usage error."""
    known = {k for run in runs for k in run.losses}
    unknown = [k for k in tolerances.per_key if k not in known]
    if unknown:
        shown = ", ".join(sorted(known)) or "none"
        raise UsageError(
            f"--tolerance names {', '.join(unknown)}, a loss key in neither the baseline nor "
            f"this run (keys: {shown}); fix the key, or add the loss with -l."
        )


def compare(
    old: Saved, new: Saved, tolerances: Tolerances, allow_missing: bool = False
) -> tuple[BaselineComparison, list[GateFailure]]:
    """Each loss key of ``old`` (the baseline) against ``new``; the failures."""
    check_tolerance_keys(tolerances, old, new)
    failures: list[GateFailure] = []
    losses: dict[str, BaselineDelta] = {}
    missing = tuple(k for k in old.losses if k not in new.losses)
    added = tuple(k for k in new.losses if k not in old.losses)
    for key in old.losses:
        if key in new.losses:
            d = delta(old.losses[key][0], new.losses[key][0], tolerances.of(key))
            losses[key] = d
            if not d.passed:
                failures.append(_failure(key, d))
    if not allow_missing:
        for key in missing:
            base = old.losses[key][0]
            failures.append(
                GateFailure(key, math.nan, math.nan, kind="baseline", baseline=base, missing=True)
            )
    groups = None
    groups_missing: tuple[str, ...] = ()
    groups_new: tuple[str, ...] = ()
    if old.groups is not None and new.groups is not None:
        groups = {}
        for g, costs in old.groups.items():
            if g not in new.groups:
                continue
            now = new.groups[g]
            per: dict[str, BaselineDelta] = {}
            for key, base in costs.items():
                if key in now:
                    d = delta(base, now[key], tolerances.of(key))
                    per[key] = d
                    if not d.passed:
                        failures.append(_failure(key, d, g))
            groups[g] = per
        groups_missing = tuple(g for g in old.groups if g not in new.groups)
        groups_new = tuple(g for g in new.groups if g not in old.groups)
    comparison = BaselineComparison(
        source=old.source,
        losses=losses,
        groups=groups,
        missing=missing,
        new=added,
        groups_missing=groups_missing,
        groups_new=groups_new,
        by=new.by if groups is not None else None,
        tolerances=tolerances.described(),
        allow_missing=allow_missing,
    )
    return comparison, failures


def _failure(key: str, d: BaselineDelta, group: str | None = None) -> GateFailure:
    limit = math.nan if d.baseline is None or d.allowed is None else d.baseline + d.allowed
    cost = math.nan if d.current is None else d.current
    return GateFailure(key, cost, limit, kind="baseline", group=group, baseline=d.baseline)
