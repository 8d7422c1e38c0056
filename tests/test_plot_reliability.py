"""``lossctl plot reliability``: each model's ECE is eval's, the bins drawn are the bins
asked for (terminal, PNG, SVG), multiclass, --by, and the refusals."""

from __future__ import annotations

import csv
import struct
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest
from rich.cells import cell_len

from lossctl.losses.calibration import bin_index
from lossctl.options import CompareOptions
from lossctl.plot import build, data
from tests.conftest import SAMPLE_DATA, ok_json, refused, run_lossctl

CAL = SAMPLE_DATA / "breast_cancer_calibration.csv"
WINE = SAMPLE_DATA / "wine_multiclass.csv"
MODELS = ("naive_bayes", "naive_bayes_isotonic", "svm_sigmoid")
SVG = "{http://www.w3.org/2000/svg}"


#: ``lossctl eval --json`` costs already computed, by command line.
_COSTS: dict[tuple[str, ...], float] = {}


def eval_cost(tmp_path: Path, path: Path, spec: str, *extra: str) -> float:
    """The cost of one loss from ``lossctl eval --json`` (run once per command line)."""
    key = (str(path), spec, *extra)
    if key not in _COSTS:
        out = ok_json(tmp_path, "eval", path, "-l", spec, *extra)
        (stats,) = out["losses"].values()
        _COSTS[key] = float(stats["cost"])
    return _COSTS[key]


def plot(tmp_path: Path, *args: object) -> str:
    """The stdout of a reliability plot that succeeded without a traceback."""
    res = run_lossctl(tmp_path, "plot", "reliability", *args)
    assert res.returncode == 0, res.stderr
    assert "Traceback" not in res.stderr
    return res.stdout


def columns(path: Path) -> dict[str, list[str]]:
    with path.open(newline="") as f:
        rows = list(csv.DictReader(f))
    return {key: [r[key] for r in rows] for key in rows[0]}


def write(path: Path, cols: dict[str, list[str]]) -> Path:
    with path.open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(cols)
        w.writerows(zip(*cols.values(), strict=True))
    return path


def with_groups(tmp_path: Path) -> Path:
    """The calibration sample with a group column (two unequal halves) and a weight."""
    cols = columns(CAL)
    n = len(cols["y_true"])
    cols["half"] = ["first" if i < 300 else "second" for i in range(n)]
    cols["w"] = [str(i % 5 + 0.5) for i in range(n)]
    return write(tmp_path / "grouped.csv", cols)


def nonempty_bins(path: Path, column: str, bins: int) -> int:
    p = np.array(columns(path)[column], dtype=np.float64)
    return int(np.unique(bin_index(p, bins)).size)


def svg_counts(path: Path) -> tuple[dict[int, int], dict[int, int]]:
    """Bars per bars series (ids bin-S-K) and markers (<use>) per marker line (marker-S)."""
    bars: dict[int, int] = {}
    markers: dict[int, int] = {}
    for el in ET.parse(path).getroot().iter():
        gid = el.get("id") or ""
        if gid.startswith("bin-"):
            series = int(gid.split("-")[1])
            bars[series] = bars.get(series, 0) + 1
        elif gid.startswith("marker-"):
            markers[int(gid.split("-")[1])] = sum(1 for _ in el.iter(f"{SVG}use"))
    return bars, markers


# -- the ECE is eval's ---------------------------------------------------------------------------


@pytest.mark.parametrize("bins", [15, 10, 7])
def test_terminal_names_each_model_with_the_ece_of_eval(tmp_path, bins):
    args = [a for m in MODELS for a in ("-p", m)]
    out = plot(tmp_path, CAL, *args, "--bins", bins, "--width", 110)
    assert out.startswith("Reliability diagram: naive_bayes, naive_bayes_isotonic, svm_sigmoid")
    for model in MODELS:
        ece = eval_cost(tmp_path, CAL, f"ece:bins={bins}", "-p", model)
        assert f"{model} ECE {build.num(ece)} ({bins} bins)" in out
    assert f"'lossctl eval -l ece:bins={bins}'" in out.replace("\n", " ")


@pytest.mark.parametrize(
    "extra",
    [(), ("--chunk-size", "50"), ("-w", "w")],
    ids=["one-block", "many-blocks", "weighted"],
)
def test_ece_and_mce_equal_eval_exactly(tmp_path, extra):
    path = with_groups(tmp_path)
    kw: dict[str, object] = {}
    if "--chunk-size" in extra:
        kw["chunk_size"] = 50
    if "-w" in extra:
        kw["weight"] = "w"
    for model in MODELS:
        opts = CompareOptions(files=[str(path)], pred=[model], **kw)  # type: ignore[arg-type]
        (m,) = data.read_reliability(opts, 12).models
        assert m.name == model
        assert m.overall.ece == eval_cost(tmp_path, path, "ece:bins=12", "-p", model, *extra)
        assert m.overall.mce == eval_cost(tmp_path, path, "mce:bins=12", "-p", model, *extra)


def test_ece_equals_eval_on_a_file_read_in_parts(tmp_path):
    """A large Parquet file is read by eval in parallel parts; the plot adds the parts'
    sums in the same order, so even the last bits agree."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    rng = np.random.default_rng(3)
    n = 1_200_000
    p = rng.uniform(0, 1, n)
    y = (rng.uniform(0, 1, n) < p**1.2).astype(np.int64)
    w = rng.uniform(0.5, 2.0, n)
    path = tmp_path / "large.parquet"
    pq.write_table(pa.table({"y_true": y, "prob": p, "w": w}), path, row_group_size=100_000)
    for extra in ((), ("-w", "w")):
        kw = {"weight": "w"} if extra else {}
        (m,) = data.read_reliability(CompareOptions(files=[str(path)], **kw)).models
        assert m.overall.n == n
        assert m.overall.ece == eval_cost(tmp_path, path, "ece", *extra)


def test_nan_omit_is_in_the_caption(tmp_path):
    path = tmp_path / "gaps.csv"
    path.write_text("y_true,prob\n1,0.9\n0,\n1,0.7\n0,0.2\n")
    out = plot(tmp_path, path, "--nan", "omit", "--width", 80)
    assert "gaps: --nan omit dropped 1 of 4 rows." in out
    ece = eval_cost(tmp_path, path, "ece", "--nan", "omit")
    assert f"gaps ECE {build.num(ece)} (15 bins)" in out
    assert "--nan omit" in refused(tmp_path, "plot", "reliability", path)


def test_multiclass_wine(tmp_path):
    out = plot(tmp_path, WINE, "--width", 90)
    ece = eval_cost(tmp_path, WINE, "ece")
    assert f"wine_multiclass ECE {build.num(ece)} (15 bins)" in out
    assert "probability of the top class" in out and "top class = label" in out
    (m,) = data.read_reliability(CompareOptions(files=[str(WINE)], pred=["prob_*"])).models
    assert m.overall.ece == ece and m.overall.n == 178
    # The binned confidence is each row's top probability.
    cols = columns(WINE)
    top = np.array([cols[c] for c in cols if c.startswith("prob_")], dtype=float).max(axis=0)
    assert int(m.overall.nonempty.sum()) == np.unique(bin_index(top, 15)).size
    assert m.overall.confidence == pytest.approx(
        [top[bin_index(top, 15) == k].mean() for k in np.unique(bin_index(top, 15))], rel=1e-12
    )


def test_two_files_side_by_side(tmp_path):
    cols = columns(CAL)
    a = write(tmp_path / "nb.csv", {"y_true": cols["y_true"], "prob": cols["naive_bayes"]})
    b = write(tmp_path / "svm.csv", {"y_true": cols["y_true"], "prob": cols["svm_sigmoid"]})
    out = plot(tmp_path, a, b, "--width", 100)
    assert out.startswith("Reliability diagram: nb, svm")
    for name, model in (("nb", "naive_bayes"), ("svm", "svm_sigmoid")):
        ece = eval_cost(tmp_path, CAL, "ece", "-p", model)
        assert f"{name} ECE {build.num(ece)} (15 bins)" in out
    out = plot(tmp_path, a, b, "--names", "bayes,machine", "--width", 100)
    assert "bayes ECE" in out and "machine ECE" in out


def test_stdin_is_one_of_the_files(tmp_path):
    res = subprocess.run(
        ["lossctl", "plot", "reliability", "-", str(WINE), "--names", "a,b", "--width", "90"],
        input=WINE.read_text(), capture_output=True, text=True, cwd=tmp_path, timeout=60,
    )  # fmt: skip
    assert res.returncode == 0, res.stderr
    ece = build.num(eval_cost(tmp_path, WINE, "ece"))
    assert f"a ECE {ece} (15 bins)" in res.stdout and f"b ECE {ece} (15 bins)" in res.stdout


def test_by_draws_one_curve_per_group_with_its_ece(tmp_path):
    path = with_groups(tmp_path)
    out = plot(tmp_path, path, "-p", "naive_bayes", "-p", "svm_sigmoid", "--by", "half",
               "--width", 100)  # fmt: skip
    assert out.startswith("Reliability diagram: naive_bayes, svm_sigmoid by half")
    cols = columns(path)
    for group in ("first", "second"):
        keep = [i for i, g in enumerate(cols["half"]) if g == group]
        part = write(tmp_path / f"{group}.csv", {k: [v[i] for i in keep] for k, v in cols.items()})
        for model in ("naive_bayes", "svm_sigmoid"):
            ece = eval_cost(tmp_path, part, "ece", "-p", model)
            assert f"{model}, half = {group} ECE {build.num(ece)} (15 bins)" in out
            opts = CompareOptions(files=[str(path)], pred=[model])
            m = data.read_reliability(opts, by="half").models[0]
            (g,) = [g for g in m.groups if g.label == group]
            assert g.ece == ece and g.n == len(keep)
    # The overall ECE of each model is in the caption.
    for model in ("naive_bayes", "svm_sigmoid"):
        ece = build.num(eval_cost(tmp_path, path, "ece", "-p", model))
        assert f"ECE {ece}, MCE" in out.replace("\n", " ")


def test_by_keeps_the_largest_groups(tmp_path):
    cols = columns(CAL)
    n = len(cols["y_true"])
    cols["g"] = [f"g{i % 9}" for i in range(n)]
    path = write(tmp_path / "nine.csv", cols)
    opts = CompareOptions(files=[str(path)], pred=["naive_bayes", "svm_sigmoid"])
    r = data.read_reliability(opts, by="g")
    assert [m.n_groups for m in r.models] == [9, 9]
    assert [len(m.groups) for m in r.models] == [3, 3]  # 6 series for two models
    assert "showing the 3 largest of 9 groups of g" in " ".join(build.reliability_figure(r).caption)


# -- what is drawn -------------------------------------------------------------------------------


@pytest.mark.parametrize("width", [64, 100])
def test_terminal_fits_the_width(tmp_path, width):
    out = plot(tmp_path, CAL, "-p", "naive_bayes", "-p", "svm_sigmoid", "--width", width)
    lines = out.rstrip("\n").split("\n")
    assert all(cell_len(line) <= width for line in lines)
    axes = [line for line in lines if line.lstrip().startswith("└")]
    assert len(axes) == 2 and all(cell_len(line) == width for line in axes)
    assert "\x1b[" not in out
    # Both panels: the diagram over the histogram of the same bins.
    assert "reliability (dotted line: perfectly calibrated)" in out
    assert "confidences in the 15 bins" in out


def test_terminal_markers_are_the_nonempty_bins(tmp_path):
    # Few bins on a wide plot: every marker has a cell of its own.
    out = plot(tmp_path, CAL, "-p", "svm_sigmoid", "--bins", "5", "--width", 120, "--height", 20)
    body = out.split("\n\n")[1]  # the diagram panel (its legend line holds one more ●)
    plot_rows = [line for line in body.splitlines() if "┤" in line or "│" in line]
    assert sum(line.count("●") for line in plot_rows) == nonempty_bins(CAL, "svm_sigmoid", 5)


def test_more_bins_than_columns_are_summed_and_said(tmp_path):
    out = plot(tmp_path, CAL, "-p", "svm_sigmoid", "--bins", "300", "--width", 70)
    assert "300 bins in" in out and "each bar sums the bins under it" in out.replace("\n", " ")


def _png_size(path: Path) -> tuple[int, int]:
    raw = path.read_bytes()
    assert raw[:8] == b"\x89PNG\r\n\x1a\n" and raw[12:16] == b"IHDR"
    return struct.unpack(">II", raw[16:24])


def test_png_has_the_fixed_size(tmp_path):
    pytest.importorskip("matplotlib")
    out = tmp_path / "rel.png"
    assert plot(tmp_path, CAL, "-p", "naive_bayes", "--out", out) == ""
    assert _png_size(out) == (800, 800)
    assert [p.name for p in tmp_path.iterdir() if p.suffix == ".png"] == ["rel.png"]


@pytest.mark.parametrize("bins", [15, 8, 40])
def test_svg_has_every_bin_and_a_marker_per_nonempty_bin(tmp_path, bins):
    pytest.importorskip("matplotlib")
    out = tmp_path / "rel.svg"
    plot(tmp_path, CAL, "-p", "naive_bayes", "--bins", bins, "--out", out)
    root = ET.parse(out).getroot()
    assert (root.get("width"), root.get("height")) == ("576pt", "576pt")
    bars, markers = svg_counts(out)
    assert bars == {0: bins}  # empty bins are bars of height 0
    assert markers == {0: nonempty_bins(CAL, "naive_bayes", bins)}
    assert markers[0] < bins or bins == 8  # naive_bayes leaves bins empty
    ece = eval_cost(tmp_path, CAL, f"ece:bins={bins}", "-p", "naive_bayes")
    assert f"naive_bayes ECE {build.num(ece)} ({bins} bins)" in out.read_text()


def test_svg_of_two_models(tmp_path):
    pytest.importorskip("matplotlib")
    out = tmp_path / "two.svg"
    plot(tmp_path, CAL, "-p", "naive_bayes", "-p", "svm_sigmoid", "--bins", 12, "--out", out)
    bars, markers = svg_counts(out)
    assert bars == {0: 12, 1: 12}
    assert markers == {
        0: nonempty_bins(CAL, "naive_bayes", 12),
        1: nonempty_bins(CAL, "svm_sigmoid", 12),
    }


def test_svg_of_multiclass(tmp_path):
    pytest.importorskip("matplotlib")
    out = tmp_path / "wine.svg"
    plot(tmp_path, WINE, "-p", "prob_*", "--bins", 10, "--out", out)
    bars, markers = svg_counts(out)
    (m,) = data.read_reliability(CompareOptions(files=[str(WINE)]), 10).models
    assert bars == {0: 10} and markers == {0: int(m.overall.nonempty.sum())}


def test_help_lists_reliability(tmp_path):
    res = run_lossctl(tmp_path, "plot", "--help")
    assert res.returncode == 0 and "reliability" in res.stdout


# -- refusals ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ([SAMPLE_DATA / "diabetes_regression.csv"], "reliability diagrams are for classifiers'"),
        ([SAMPLE_DATA / "diabetes_quantiles.csv"], "reliability diagrams are for classifiers'"),
        (
            [SAMPLE_DATA / "digits_multilabel.csv", "-t", "is_*", "-p", "prob_*"],
            "read as a multilabel task",
        ),
        ([SAMPLE_DATA / "iris_multiclass_logits.csv"], "need probabilities in [0, 1]"),
        ([SAMPLE_DATA / "breast_cancer_logits.csv"], "need probabilities in [0, 1]"),
        ([SAMPLE_DATA / "breast_cancer_scores.csv"], "need probabilities in [0, 1]"),
        ([CAL, "-p", "naive_bayes", "--bins", "0"], "--bins must be an integer >= 1, got 0"),
        ([CAL, "-p", "naive_bayes", "--bins", "-3"], "--bins must be an integer >= 1"),
        ([CAL, "-p", "naive_bayes", "--bins", "2.5"], "'2.5' is not a valid integer"),
        ([CAL, "-p", "naive_bayes", "--bins", "abc"], "'abc' is not a valid integer"),
        ([CAL, "-p", "naive_bayes", "--bins", "20000"], "--bins must be at most 10,000"),
        ([CAL, "-p", "naive_bayes", "--names", "a,b"], "--names gives 2 names for 1 model"),
    ],
)
def test_refusals_are_one_error_line(tmp_path, args, message):
    line = refused(tmp_path, "plot", "reliability", *args)
    assert message in line, line


def test_a_logit_after_the_first_rows_is_refused_with_its_row(tmp_path):
    # Past the first megabyte, which decides the kind: found by the check of each block.
    rng = np.random.default_rng(0)
    n = 80_000
    p = rng.uniform(0, 1, n)
    y = (rng.uniform(0, 1, n) < p).astype(int)
    cols = {"y_true": [str(v) for v in y], "prob": [repr(float(v)) for v in p]}
    cols["prob"][n - 10] = "3.5"
    path = write(tmp_path / "late.csv", cols)
    assert path.stat().st_size > 1.5 * (1 << 20)
    line = refused(tmp_path, "plot", "reliability", path, "--chunk-size", 10_000)
    assert "need probabilities in [0, 1]" in line and f"rows {n - 9}" in line and "3.5" in line


def test_bins_are_checked_before_reading(tmp_path):
    line = refused(tmp_path, "plot", "reliability", tmp_path / "missing.csv", "--bins", "0")
    assert "--bins" in line


def test_out_is_checked_before_reading(tmp_path):
    line = refused(tmp_path, "plot", "reliability", CAL, "-p", "naive_bayes", "--out", "x.pdf")
    assert ".png or .svg" in line
