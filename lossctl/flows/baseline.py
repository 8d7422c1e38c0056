"""Baselines: ``eval --baseline`` (this run against a saved result) and ``diff`` (two
saved results). They read the saved files; the rules are in :mod:`lossctl.core.baseline`."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

from lossctl.core.baseline import Saved, compare, compatibility, parse_tolerances, saved_from_doc
from lossctl.core.baseline import saved_from_report as _from_report
from lossctl.core.gates import check_max_group, parse_max, result
from lossctl.errors import UsageError
from lossctl.report import DiffReport, EvalReport


def read_saved(path: str, what: str) -> Saved:
    """A saved ``eval --json`` result, or a :class:`UsageError` saying what is wrong and how
    to fix it (``what`` names the option or command: "--baseline", "diff")."""
    make = f"make it with 'lossctl eval FILE --json > {path}'"
    p = Path(path)
    try:
        raw = p.read_bytes()
    except FileNotFoundError:
        raise UsageError(f"{what} file {path} not found; {make}, or fix the path.") from None
    except IsADirectoryError:
        raise UsageError(f"{what} {path} is a folder; pass the JSON file in it.") from None
    except OSError as exc:
        raise UsageError(f"cannot read {what} file {path}: {exc.strerror or exc}.") from None
    if not raw.strip():
        raise UsageError(f"{what} file {path} is empty; {make}.")
    try:
        doc = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        where = (
            f" (line {exc.lineno}, column {exc.colno}: {exc.msg})"
            if isinstance(exc, json.JSONDecodeError)
            else ""
        )
        raise UsageError(f"{what} file {path} is not JSON{where}; {make}.") from None
    return saved_from_doc(doc, path, what)


def check_eval(
    report: EvalReport,
    saved: Saved,
    tolerance: Sequence[str],
    allow_missing: bool,
    version: str,
) -> EvalReport:
    """``eval --baseline``: the report with its comparison, gate and warnings added."""
    tolerances = parse_tolerances(tolerance)
    current = _from_report(report, version)
    comparison, failures = compare(saved, current, tolerances, allow_missing)
    before = report.gate.failures if report.gate is not None else ()
    return replace(
        report,
        baseline=comparison,
        gate=result([*before, *failures]),
        warnings=(*report.warnings, *compatibility(saved, current)),
    )


def run_diff(
    old_path: str,
    new_path: str,
    tolerance: Sequence[str] = (),
    allow_missing: bool = False,
    max_group: Sequence[str] = (),
    require_groups: bool = True,
) -> DiffReport:
    """``lossctl diff OLD NEW``: the comparison ``eval NEW-data --baseline OLD`` makes.

    ``require_groups`` False (gates from a config file): --max-group gates NEW only
    when it has groups."""
    tolerances = parse_tolerances(tolerance)
    group_gates = parse_max(max_group, "--max-group")
    old = read_saved(old_path, "diff")
    new = read_saved(new_path, "diff")
    failures = []
    if group_gates and new.groups is None and not require_groups:
        group_gates = []
    if group_gates:
        if new.groups is None:
            raise UsageError(
                f"--max-group gates groups, and {new_path} has none; make it with "
                "'lossctl eval FILE --by COL --json'."
            )
        unknown = [g.key for g in group_gates if g.key not in new.losses]
        if unknown:
            raise UsageError(
                f"--max-group names {', '.join(unknown)}, which {new_path} does not have "
                f"(keys: {', '.join(new.losses)})."
            )
        failures += check_max_group(group_gates, new.groups)
    comparison, baseline_failures = compare(old, new, tolerances, allow_missing)
    return DiffReport(
        old=old_path,
        new=new_path,
        comparison=comparison,
        gate=result([*failures, *baseline_failures]),
        warnings=tuple(compatibility(old, new)),
    )
