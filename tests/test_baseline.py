"""Baselines and gates: eval --baseline, diff, --tolerance, --allow-missing, --max-group,
the compatibility warnings, the bad inputs, and the README's CI workflows run as CI would."""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests import conftest
from tests.conftest import ROOT, SAMPLE_DATA

COMMANDS = ("diff", "compare", "recommend")


def _args(args: tuple[object, ...]) -> tuple[object, ...]:
    """``eval`` unless the arguments name another command."""
    return args if args and args[0] in COMMANDS else ("eval", *args)


def run_lossctl(tmp_path: Path, *args: object) -> subprocess.CompletedProcess[str]:
    return conftest.run_lossctl(tmp_path, *_args(args))


def ok_json(tmp_path: Path, *args: object) -> dict[str, Any]:
    return conftest.ok_json(tmp_path, *_args(args))


def refused(tmp_path: Path, *args: object) -> str:
    return conftest.refused(tmp_path, *_args(args))


REG = SAMPLE_DATA / "diabetes_regression.csv"
GBR = SAMPLE_DATA / "diabetes_gbr.csv"


def csv(path: Path, preds: list[float], groups: list[str] | None = None) -> Path:
    """A file whose targets are all 0, so each row's absolute error is its prediction."""
    head = "y_true,y_pred" + (",g" if groups else "")
    rows = [f"0,{p!r}" + (f",{groups[i]}" if groups else "") for i, p in enumerate(preds)]
    path.write_text("\n".join([head, *rows]) + "\n")
    return path


def saved(tmp_path: Path, name: str, *args: object) -> Path:
    """``lossctl eval ... --json`` written to ``name``."""
    out = tmp_path / name
    out.write_text(json.dumps(ok_json(tmp_path, *args)))
    return out


def gate(tmp_path: Path, *args: object) -> tuple[int, dict[str, Any], str]:
    res = run_lossctl(tmp_path, *args, "--json")
    assert res.returncode in (0, 1), res.stderr
    assert "Traceback" not in res.stderr
    return res.returncode, json.loads(res.stdout), res.stderr


@pytest.fixture
def pair(tmp_path: Path) -> tuple[Path, Path, Path]:
    """A baseline of MAE 1 (and MSE 1) and a candidate of MAE 1.04 (MSE 1.0816)."""
    base_csv = csv(tmp_path / "base.csv", [1.0, 1.0, 1.0, 1.0])
    cand_csv = csv(tmp_path / "cand.csv", [1.04, 1.04, 1.04, 1.04])
    base = saved(tmp_path, "base.json", base_csv, "-l", "mae", "-l", "mse")
    return base, base_csv, cand_csv


# --- the rules --------------------------------------------------------------------------


def test_improvement_passes(tmp_path: Path, pair: tuple[Path, Path, Path]) -> None:
    _, base_csv, cand_csv = pair
    worse = saved(tmp_path, "worse.json", cand_csv, "-l", "mae", "-l", "mse")
    code, doc, err = gate(tmp_path, base_csv, "-l", "mae", "-l", "mse", "--baseline", worse)
    assert code == 0 and err == ""
    mae = doc["baseline"]["losses"]["mae"]
    assert mae["baseline"] == pytest.approx(1.04) and mae["current"] == 1.0
    assert mae["delta"] == pytest.approx(-0.04) and mae["relative"] == pytest.approx(-0.04 / 1.04)
    assert mae["allowed"] == 0.0 and mae["passed"] is True
    assert doc["gate"] == {"passed": True, "failures": []}
    assert doc["baseline"]["source"] == str(worse)


@pytest.mark.parametrize(
    ("tolerances", "failing"),
    [
        ((), {"mae", "mse"}),  # default 0
        (("5%",), {"mse"}),  # relative: mae +4%, mse +8.16%
        (("9%",), set()),
        (("3%",), {"mae", "mse"}),
        (("0.1",), set()),  # absolute: mae +0.04, mse +0.0816
        (("0.05",), {"mse"}),
        (("0.01",), {"mae", "mse"}),
        (("mse=9%", "mae=0.04"), set()),  # per key
        (("mae=5%",), {"mse"}),  # per key, the rest at the default 0
        (("1%", "mse=0.1"), {"mae"}),  # a default and a key
    ],
)
def test_tolerance_relative_absolute_per_key(
    tmp_path: Path, pair: tuple[Path, Path, Path], tolerances: tuple[str, ...], failing: set[str]
) -> None:
    base_json, _, cand_csv = pair
    args: list[object] = [cand_csv, "-l", "mae", "-l", "mse", "--baseline", base_json]
    for t in tolerances:
        args += ["--tolerance", t]
    code, doc, err = gate(tmp_path, *args)
    failed = {f["loss"] for f in doc["gate"]["failures"]}
    assert failed == failing
    assert code == (1 if failing else 0)
    assert all(f["kind"] == "baseline" for f in doc["gate"]["failures"])
    for key, d in doc["baseline"]["losses"].items():
        assert d["passed"] is (key not in failing)
    mse = doc["baseline"]["losses"]["mse"]
    assert mse["delta"] == pytest.approx(0.0816) and mse["relative"] == pytest.approx(0.0816)
    assert len(err.splitlines()) == len(failing)
    assert all(line.startswith("Gate failed: ") for line in err.splitlines())


def test_allowed_is_in_cost_units(tmp_path: Path, pair: tuple[Path, Path, Path]) -> None:
    base_json, _, cand_csv = pair
    _, doc, _ = gate(
        tmp_path, cand_csv, "-l", "mae", "-l", "mse", "--baseline", base_json,
        "--tolerance", "2%", "--tolerance", "mse=0.5",
    )  # fmt: skip
    assert doc["baseline"]["losses"]["mae"]["allowed"] == pytest.approx(0.02)
    assert doc["baseline"]["losses"]["mse"]["allowed"] == 0.5
    assert doc["baseline"]["tolerance"] == {"*": "2%", "mse": "0.5"}


@pytest.mark.parametrize("tolerance", ["4%", "0.04", "mae=4%", "mae=0.04"])
def test_a_change_equal_to_the_allowed_one_passes(
    tmp_path: Path, pair: tuple[Path, Path, Path], tolerance: str
) -> None:
    base_json, _, cand_csv = pair
    code, doc, _ = gate(tmp_path, cand_csv, "-l", "mae", "--baseline", base_json,
                        "--tolerance", tolerance, "--allow-missing")  # fmt: skip
    mae = doc["baseline"]["losses"]["mae"]
    assert mae["passed"] is True and code == 0, mae
    # ... and a hair beyond it fails.
    over = csv(tmp_path / "over.csv", [1.0401] * 4)
    code, doc, _ = gate(tmp_path, over, "-l", "mae", "--baseline", base_json,
                        "--tolerance", tolerance, "--allow-missing")  # fmt: skip
    assert code == 1 and doc["baseline"]["losses"]["mae"]["passed"] is False


def test_missing_and_new_keys(tmp_path: Path, pair: tuple[Path, Path, Path]) -> None:
    base_json, base_csv, _ = pair
    res = run_lossctl(tmp_path, base_csv, "-l", "mae", "-l", "huber", "--baseline", base_json,
                      "--json")  # fmt: skip
    assert res.returncode == 1
    doc = json.loads(res.stdout)
    assert doc["baseline"]["missing"] == ["mse"] and doc["baseline"]["new"] == ["huber"]
    assert [(f["loss"], f["kind"], f["missing"]) for f in doc["gate"]["failures"]] == [
        ("mse", "baseline", True)
    ]
    assert "mse is in the baseline" in res.stderr and "--allow-missing" in res.stderr
    code, doc, err = gate(tmp_path, base_csv, "-l", "mae", "-l", "huber", "--baseline",
                          base_json, "--allow-missing")  # fmt: skip
    assert code == 0 and err == "" and doc["baseline"]["missing"] == ["mse"]
    table = run_lossctl(tmp_path, base_csv, "-l", "mae", "-l", "huber", "--baseline", base_json)
    assert "new in this run (no baseline): huber" in table.stdout
    assert "missing" in table.stdout


def test_groups(tmp_path: Path) -> None:
    base = csv(tmp_path / "b.csv", [1.0, 1.0, 2.0, 2.0, 3.0], ["a", "a", "b", "b", "old"])
    cand = csv(tmp_path / "c.csv", [1.0, 1.0, 2.5, 2.5, 0.0], ["a", "a", "b", "b", "fresh"])
    base_json = saved(tmp_path, "b.json", base, "-l", "mae", "--by", "g")
    code, doc, err = gate(tmp_path, cand, "-l", "mae", "--by", "g", "--baseline", base_json,
                          "--tolerance", "10%")  # fmt: skip
    b = doc["baseline"]
    assert b["losses"]["mae"]["passed"] is True  # overall 1.8 -> 1.4
    assert b["groups"]["a"]["mae"]["passed"] is True
    assert b["groups"]["b"]["mae"] == {
        "baseline": 2.0, "current": 2.5, "delta": 0.5, "relative": 0.25,
        "allowed": pytest.approx(0.2), "passed": False,
    }  # fmt: skip
    assert b["groups_missing"] == ["old"] and b["groups_new"] == ["fresh"]
    assert set(b["groups"]) == {"a", "b"} and b["by"] == "g"
    assert code == 1
    assert [(f["loss"], f["group"]) for f in doc["gate"]["failures"]] == [("mae", "b")]
    assert "Gate failed: mae in g b = 2.5 vs baseline 2: +0.5 (+25.00%), allowed +0.2" in err
    # Without groups in one of the runs, only the overall costs are compared.
    _, doc, _ = gate(tmp_path, cand, "-l", "mae", "--baseline", base_json, "--tolerance", "10%")
    assert doc["baseline"]["groups"] is None


def test_nan_costs(tmp_path: Path, pair: tuple[Path, Path, Path]) -> None:
    """A null baseline cost lets any current cost pass; a null current cost fails."""
    base_json, _, cand_csv = pair
    doc = json.loads(base_json.read_text())
    doc["losses"]["mae"]["cost"] = None
    nan_base = tmp_path / "nan.json"
    nan_base.write_text(json.dumps(doc))
    code, out, _ = gate(tmp_path, cand_csv, "-l", "mae", "-l", "mse", "--baseline", nan_base,
                        "--tolerance", "9%")  # fmt: skip
    assert code == 0
    assert out["baseline"]["losses"]["mae"] == {
        "baseline": None, "current": pytest.approx(1.04), "delta": None, "relative": None,
        "allowed": None, "passed": True,
    }  # fmt: skip
    current = tmp_path / "cur.json"
    current.write_text(json.dumps(doc))
    res = run_lossctl(tmp_path, "diff", base_json, current, "--json")
    assert res.returncode == 1
    assert json.loads(res.stdout)["baseline"]["losses"]["mae"]["passed"] is False
    assert "mae has no cost (NaN) in this run" in res.stderr


def test_relative_is_null_when_the_baseline_cost_is_zero(tmp_path: Path) -> None:
    zero = saved(tmp_path, "z.json", csv(tmp_path / "z.csv", [0.0, 0.0]), "-l", "mae")
    code, doc, _ = gate(tmp_path, csv(tmp_path / "o.csv", [0.0, 1.0]), "-l", "mae",
                        "--baseline", zero, "--tolerance", "50%")  # fmt: skip
    mae = doc["baseline"]["losses"]["mae"]
    assert mae["relative"] is None and mae["allowed"] == 0.0 and mae["passed"] is False
    assert code == 1


# --- diff -------------------------------------------------------------------------------


def test_diff_equals_eval_baseline_on_the_same_pair(tmp_path: Path) -> None:
    base = saved(tmp_path, "main.json", REG, "--by", "sex")
    cand = saved(tmp_path, "pr.json", REG, "-p", "y_pred_gbr", "--by", "sex")
    flags = ["--tolerance", "5%", "--tolerance", "mse=200"]
    res_eval = run_lossctl(tmp_path, REG, "-p", "y_pred_gbr", "--by", "sex", "--baseline", base,
                           *flags, "--json")  # fmt: skip
    res_diff = run_lossctl(tmp_path, "diff", base, cand, *flags, "--json")
    assert res_eval.returncode == res_diff.returncode == 1
    from_eval, from_diff = json.loads(res_eval.stdout), json.loads(res_diff.stdout)
    assert from_diff["command"] == "diff"
    assert from_eval["baseline"] == from_diff["baseline"]
    assert from_eval["gate"] == from_diff["gate"]
    assert from_eval["baseline"]["groups"] and from_eval["gate"]["failures"]

    def gate_lines(stderr: str) -> list[str]:
        return [ln for ln in stderr.splitlines() if ln.startswith("Gate failed:")]

    assert gate_lines(res_eval.stderr) == gate_lines(res_diff.stderr)
    assert len(gate_lines(res_eval.stderr)) == len(from_eval["gate"]["failures"])
    # The human formats print the comparison too.
    table = run_lossctl(tmp_path, "diff", base, cand, *flags)
    assert table.returncode == 1 and "FAIL" in table.stdout and "baseline" in table.stdout
    md = run_lossctl(tmp_path, "diff", base, cand, *flags, "--format", "markdown", "-q")
    assert md.returncode == 1 and md.stdout == ""
    assert md.stderr.splitlines() == gate_lines(res_diff.stderr)


def test_diff_passes_and_reads_no_data(tmp_path: Path) -> None:
    a = saved(tmp_path, "a.json", REG)
    doc = json.loads(a.read_text())
    doc["source"] = str(tmp_path / "gone.csv")  # the data need not exist
    b = tmp_path / "b.json"
    b.write_text(json.dumps(doc))
    res = run_lossctl(tmp_path, "diff", a, b, "--precision", "3")
    assert res.returncode == 0, res.stderr
    assert "no loss worse than the baseline" in res.stdout


def test_diff_refuses_a_compare_result(tmp_path: Path) -> None:
    eval_json = saved(tmp_path, "e.json", REG)
    res = run_lossctl(tmp_path, "compare", REG, GBR, "--json", "--resamples", "50")
    assert res.returncode == 0, res.stderr
    cmp_json = tmp_path / "c.json"
    cmp_json.write_text(res.stdout)
    line = refused(tmp_path, "diff", eval_json, cmp_json)
    assert f"{cmp_json} was made by lossctl compare" in line
    assert "diff compares `lossctl eval --json` results" in line
    line = refused(tmp_path, REG, "--baseline", cmp_json)
    assert "was made by lossctl compare; --baseline compares `lossctl eval --json`" in line


# --- --max-group ------------------------------------------------------------------------


def test_max_group(tmp_path: Path) -> None:
    names = [f"g{i:02d}" for i in range(14)]
    data = csv(tmp_path / "m.csv", [float(i) for i in range(14)], names)
    res = run_lossctl(tmp_path, data, "-l", "mae", "--by", "g", "--max-group", "mae=1.5",
                      "--json")  # fmt: skip
    assert res.returncode == 1
    (failure,) = json.loads(res.stdout)["gate"]["failures"]
    assert failure["kind"] == "max_group" and failure["max"] == 1.5 and failure["cost"] == 13
    assert [g["group"] for g in failure["groups"]] == [f"g{i:02d}" for i in range(13, 1, -1)]
    assert failure["groups"][0] == {"group": "g13", "cost": 13.0}
    assert res.stderr.count("Gate failed:") == 1
    assert "mae > max 1.5 in 12 groups of g: g13 = 13, g12 = 12," in res.stderr
    assert res.stderr.rstrip().endswith("g04 = 4 and 2 more")
    ok = run_lossctl(tmp_path, data, "-l", "mae", "--by", "g", "--max-group", "mae=13")
    assert ok.returncode == 0 and "gates passed" in ok.stdout
    # The loss is added when only the gate names it; --max still gates the overall cost.
    code, doc, _ = gate(tmp_path, data, "-l", "mse", "--by", "g", "--max-group", "mae=20",
                        "--max", "mae=1")  # fmt: skip
    assert set(doc["losses"]) == {"mse", "mae"}
    assert [f["kind"] for f in doc["gate"]["failures"]] == ["max"] and code == 1
    line = refused(tmp_path, data, "-l", "mae", "--max-group", "mae=1")
    assert "--max-group" in line and "add --by COL" in line
    line = refused(tmp_path, data, "--by", "g", "--max-group", "mae")
    assert "bad --max-group 'mae'; expected KEY=VALUE" in line


def test_max_group_in_diff(tmp_path: Path) -> None:
    data = csv(tmp_path / "m.csv", [1.0, 3.0], ["a", "b"])
    one = saved(tmp_path, "one.json", data, "-l", "mae", "--by", "g")
    res = run_lossctl(tmp_path, "diff", one, one, "--max-group", "mae=2")
    assert res.returncode == 1 and "mae > max 2 in 1 group of g: b = 3" in res.stderr
    flat = saved(tmp_path, "flat.json", data, "-l", "mae")
    assert "has none" in refused(tmp_path, "diff", one, flat, "--max-group", "mae=2")


# --- warnings ---------------------------------------------------------------------------


def edited(tmp_path: Path, source: Path, **changes: Any) -> Path:
    doc = json.loads(source.read_text())
    for path, value in changes.items():
        *parents, last = path.split("__")
        node = doc
        for p in parents:
            node = node[p]
        node[last] = value
    out = tmp_path / f"edited_{len(list(tmp_path.glob('edited_*')))}.json"
    out.write_text(json.dumps(doc))
    return out


@pytest.mark.parametrize(
    ("change", "warning"),
    [
        ({"task": "binary"}, "are of different tasks (binary vs regression)"),
        ({"columns__pred": ["y_hat"]}, "use different columns (pred y_hat vs y_pred)"),
        ({"losses__huber__params": {"delta": 2.0}}, "huber has other parameters"),
        ({"n_rows": 400}, "have different row counts (400 vs 442)"),
        ({"lossctl_version": "7.1.0"}, "was made by lossctl 7.1.0"),
    ],
)
def test_compatibility_warnings(tmp_path: Path, change: dict[str, Any], warning: str) -> None:
    base = edited(tmp_path, saved(tmp_path, "b.json", GBR), **change)
    res = run_lossctl(tmp_path, GBR, "--baseline", base, "--json")
    assert res.returncode == 0, res.stderr
    doc = json.loads(res.stdout)
    found = [w for w in doc["warnings"] if warning in w]
    assert len(found) == 1, doc["warnings"]
    assert f"Warning: {found[0]}" in res.stderr.splitlines()
    new = saved(tmp_path, "n.json", GBR)
    in_diff = json.loads(run_lossctl(tmp_path, "diff", base, new, "--json").stdout)["warnings"]
    assert len(in_diff) == 1 and warning in in_diff[0]


def test_same_runs_warn_nothing_and_an_extra_signature_is_read(tmp_path: Path) -> None:
    base = edited(tmp_path, saved(tmp_path, "b.json", GBR), signature={"lossctl": "0.1.0"})
    res = run_lossctl(tmp_path, GBR, "--baseline", base)
    assert res.returncode == 0 and res.stderr == ""


def test_a_real_column_difference_warns(tmp_path: Path) -> None:
    base = saved(tmp_path, "b.json", REG)
    res = run_lossctl(tmp_path, REG, "-p", "y_pred_gbr", "--baseline", base, "--tolerance", "20%")
    assert res.returncode == 0, res.stderr
    assert "use different columns (pred y_pred vs y_pred_gbr)" in res.stderr


# --- bad input --------------------------------------------------------------------------


def test_bad_baseline_files(tmp_path: Path) -> None:
    empty = tmp_path / "empty.json"
    empty.write_text("")
    not_json = tmp_path / "notes.json"
    not_json.write_text("{ loss: 1 ")
    other_tool = tmp_path / "dvc.json"
    other_tool.write_text(json.dumps({"metrics": {"mse": 1.0}}))
    listing = tmp_path / "list.json"
    listing.write_text("[1, 2]")
    recommend = tmp_path / "rec.json"
    res = run_lossctl(tmp_path, "recommend", REG, "--json")
    assert res.returncode == 0, res.stderr
    recommend.write_text(res.stdout)
    future = edited(tmp_path, saved(tmp_path, "b.json", GBR), schema_version=2)
    cases = {
        tmp_path / "nope.json": "--baseline file {p} not found; make it with 'lossctl eval",
        empty: "--baseline file {p} is empty; make it with",
        not_json: "--baseline file {p} is not JSON (line 1, column 3",
        other_tool: "{p} is JSON but not a lossctl result (it has no schema_version and command)",
        listing: "{p} is JSON but not a lossctl result",
        recommend: "{p} was made by lossctl recommend; --baseline compares `lossctl eval --json`",
        future: "{p} has schema_version 2; this lossctl reads eval results of schema_version 1",
        tmp_path: "--baseline {p} is a folder",
    }
    for path, message in cases.items():
        line = refused(tmp_path, GBR, "--baseline", path)
        assert line.startswith("Error: " + message.format(p=path)), line
        line = refused(tmp_path, "diff", path, saved(tmp_path, "ok.json", GBR))
        assert message.format(p=path).replace("--baseline", "diff") in line, line


@pytest.mark.parametrize("tolerance", ["2 %", "abc", "mse=", "=2%", "-1%", "2%%", "nan"])
def test_bad_tolerances(tmp_path: Path, tolerance: str) -> None:
    base = saved(tmp_path, "b.json", GBR)
    line = refused(tmp_path, GBR, "--baseline", base, "--tolerance", tolerance)
    assert line.startswith(f"Error: bad --tolerance '{tolerance}'"), line
    assert "expected N% (relative to the baseline's cost, e.g. 2%) or N" in line
    line = refused(tmp_path, "diff", base, base, "--tolerance", tolerance)
    assert line.startswith(f"Error: bad --tolerance '{tolerance}'"), line


def test_tolerance_for_a_key_in_neither_run(tmp_path: Path) -> None:
    base = saved(tmp_path, "b.json", GBR, "-l", "mae")
    line = refused(tmp_path, GBR, "-l", "mae", "--baseline", base, "--tolerance", "mape=2%")
    assert "--tolerance names mape, a loss key in neither the baseline nor this run" in line
    line = refused(tmp_path, "diff", base, base, "--tolerance", "msle=1")
    assert "--tolerance names msle, a loss key in neither" in line
    # A key in one of the two is fine.
    res = run_lossctl(tmp_path, GBR, "-l", "mse", "--baseline", base, "--tolerance", "mae=1%",
                      "--allow-missing")  # fmt: skip
    assert res.returncode == 0, res.stderr


def test_tolerance_without_baseline_is_refused(tmp_path: Path) -> None:
    assert "are for --baseline FILE" in refused(tmp_path, GBR, "--tolerance", "2%")


# --- formats, config, compare -----------------------------------------------------------


def test_markdown_puts_failures_first_with_arrows(tmp_path: Path) -> None:
    base = saved(tmp_path, "b.json", REG)
    res = run_lossctl(tmp_path, GBR, "--baseline", base, "--tolerance", "5%",
                      "--tolerance", "mse=20%", "--format", "markdown")  # fmt: skip
    assert res.returncode == 1
    rows = [ln for ln in res.stdout.splitlines() if re.match(r"\| (❌|✅|) *\| `", ln)]
    rows = rows[:4]  # the comparison's rows (the eval table follows)
    assert rows[0].split("`")[1] == "rmse"  # the failure first
    assert [r.split("|")[1].strip() for r in rows] == ["❌", "", "", ""]
    assert all("▲" in r for r in rows)  # every loss got worse
    assert "1 worse than the baseline beyond the tolerance" in res.stdout
    # The report is printed in full before the gate lines (on stderr).
    assert res.stderr == (
        "Gate failed: rmse = 58.023 vs baseline 54.6903: +3.33265 (+6.09%), allowed +2.73452\n"
    )
    improved = run_lossctl(tmp_path, REG, "--baseline", saved(tmp_path, "g.json", GBR),
                           "--format", "markdown")  # fmt: skip
    rows = [ln for ln in improved.stdout.splitlines() if ln.startswith("| ✅ | `")]
    assert improved.returncode == 0 and len(rows) == 4
    assert all("▼" in r for r in rows)


def test_table_marks_failures(tmp_path: Path) -> None:
    base = saved(tmp_path, "b.json", REG)
    res = run_lossctl(tmp_path, GBR, "--baseline", base, "--tolerance", "5%")
    assert res.returncode == 1
    rmse = next(ln for ln in res.stdout.splitlines() if ln.strip().startswith("rmse") and "%" in ln)
    assert "✗ FAIL" in rmse and "+6.09%" in rmse
    mae = next(ln for ln in res.stdout.splitlines() if ln.strip().startswith("mae") and "%" in ln)
    assert "worse" in mae and "FAIL" not in mae


def test_config_keys(tmp_path: Path) -> None:
    base = saved(tmp_path, "b.json", REG, "--by", "sex")
    (tmp_path / "lossctl.toml").write_text(
        f'baseline = "{base}"\ntolerance = ["5%", "mse=20%"]\nallow_missing = true\n'
        "max_group = {mae = 100}\n"
    )
    code, doc, err = gate(tmp_path, GBR, "-l", "mae", "-l", "mse")
    assert doc["baseline"]["tolerance"] == {"*": "5%", "mse": "20%"}
    assert doc["baseline"]["missing"] == ["huber", "rmse"] and code == 0, err
    # --max-group from a config gates the runs with groups; on the command line it needs --by.
    (tmp_path / "lossctl.toml").write_text('max_group = ["mae=1"]\n')
    assert run_lossctl(tmp_path, GBR).returncode == 0
    res = run_lossctl(tmp_path, REG, "--by", "sex")
    assert res.returncode == 1 and "mae > max 1 in 2 groups of sex" in res.stderr
    assert "add --by COL" in refused(tmp_path, GBR, "--max-group", "mae=1")
    (tmp_path / "lossctl.toml").write_text("allow_missing = 1\n")
    assert "'allow_missing'" in refused(tmp_path, GBR) and "true or false" in refused(tmp_path, GBR)


def test_compare_tolerance_takes_percent(tmp_path: Path) -> None:
    common = ["compare", REG, GBR, "--fail-if-worse", "--resamples", "200", "--json"]
    a = run_lossctl(tmp_path, *common, "--tolerance", "20%")
    b = run_lossctl(tmp_path, *common, "--tolerance", "0.2")
    assert a.returncode == b.returncode and a.stdout == b.stdout
    assert "compare takes one" in refused(tmp_path, *common, "--tolerance", "mse=2%")


# --- the README's CI workflows, run as the CI jobs would ------------------------------------


README = (ROOT / "README.md").read_text()


def _workflow(marker: str) -> dict[str, Any]:
    blocks = re.findall(r"```yaml\n(.*?)```", README, re.S)
    (block,) = [b for b in blocks if b.startswith(marker)]
    return yaml.safe_load(block)


def _job_commands(lines: list[str]) -> list[str]:
    """The lines a job runs that are lossctl's (not the install or the download)."""
    return [ln for ln in lines if "lossctl " in ln and "pip install" not in ln]


def _run_job(
    tmp_path: Path, commands: list[str], env: dict[str, str]
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", "-e", "-c", "\n".join(commands)], capture_output=True, text=True,
        cwd=tmp_path, env={**os.environ, **env}, timeout=120,
    )  # fmt: skip


@pytest.fixture
def checkout(tmp_path: Path) -> Path:
    """A working copy with the sample data, as actions/checkout leaves it."""
    (tmp_path / "sample_data").symlink_to(SAMPLE_DATA)
    return tmp_path


def test_readme_github_actions_workflow(checkout: Path) -> None:
    wf = _workflow("# .github/workflows/")
    assert set(wf[True]) == {"push", "pull_request"}  # YAML 1.1 reads "on" as True
    assert wf[True]["push"] == {"branches": ["main"]}
    jobs = wf["jobs"]
    uses = [s.get("uses", "") for j in jobs.values() for s in j["steps"]]
    assert any(u.startswith("actions/upload-artifact@") for u in uses)
    assert any(u.startswith("dawidd6/action-download-artifact@") for u in uses)
    upload = next(s for s in jobs["baseline"]["steps"] if "upload-artifact" in s.get("uses", ""))
    download = next(s for s in jobs["gate"]["steps"] if "download-artifact" in s.get("uses", ""))
    assert upload["with"]["name"] == download["with"]["name"]
    assert download["with"]["branch"] == "main"
    # main: the baseline step.
    base_cmds = _job_commands([s["run"] for s in jobs["baseline"]["steps"] if "run" in s])
    assert len(base_cmds) == 1
    res = _run_job(checkout, base_cmds, {})
    assert res.returncode == 0, res.stderr
    saved_path = checkout / upload["with"]["path"]
    assert json.loads(saved_path.read_text())["command"] == "eval"
    # A pull request whose model regresses: the summary gets the markdown, the job fails.
    summary = checkout / "summary.md"
    pr_cmds = _job_commands([s["run"] for s in jobs["gate"]["steps"] if "run" in s])
    assert len(pr_cmds) == 1 and "$GITHUB_STEP_SUMMARY" in pr_cmds[0]
    res = _run_job(checkout, pr_cmds, {"GITHUB_STEP_SUMMARY": str(summary)})
    assert res.returncode == 1, res.stderr
    text = summary.read_text()
    assert "❌" in text and "▲" in text and "worse than the baseline beyond the tolerance" in text
    assert res.stderr.startswith("Gate failed: ")
    # The same job on the baseline's own predictions passes.
    same = [pr_cmds[0].replace("diabetes_gbr.csv", "diabetes_regression.csv")]
    assert _run_job(checkout, same, {"GITHUB_STEP_SUMMARY": str(summary)}).returncode == 0


def test_readme_gitlab_ci(checkout: Path) -> None:
    ci = _workflow("# .gitlab-ci.yml")
    base, gate_job = ci["baseline"], ci["gate"]
    assert base["rules"] == [{"if": "$CI_COMMIT_BRANCH == $CI_DEFAULT_BRANCH"}]
    assert gate_job["rules"] == [{"if": '$CI_PIPELINE_SOURCE == "merge_request_event"'}]
    assert base["artifacts"]["paths"] == ["baseline.json"]
    res = _run_job(checkout, _job_commands(base["script"]), {})
    assert res.returncode == 0, res.stderr
    # The merge request's job after its download: every line from the lossctl one on.
    script = gate_job["script"]
    start = next(i for i, ln in enumerate(script) if ln.startswith("lossctl "))
    res = _run_job(checkout, script[start:], {})
    assert res.returncode == 1, res.stderr
    assert "▲" in res.stdout and "❌" in res.stdout  # the markdown in the job log
    assert (checkout / gate_job["artifacts"]["paths"][0]).read_text() == res.stdout
    assert "Gate failed: " in res.stderr
