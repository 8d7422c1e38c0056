"""``lossctl plot``: curve values from the loss functions, terminal layout, images, errors."""

from __future__ import annotations

import json
import shutil
import struct
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest
from rich.cells import cell_len

from lossctl.cli import app
from lossctl.core import stats
from lossctl.losses import builtin_registry
from lossctl.losses.spec import FINALIZERS
from lossctl.options import CompareOptions, EvalOptions
from lossctl.plot import build, data, terminal
from tests.conftest import SAMPLE_DATA

REG = SAMPLE_DATA / "diabetes_regression.csv"
RIDGE = SAMPLE_DATA / "diabetes_ridge.csv"
GBR = SAMPLE_DATA / "diabetes_gbr.csv"
BIN = SAMPLE_DATA / "breast_cancer_binary.csv"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"

#: One command line per plot kind (terminal), with the title it must show.
KINDS = {
    "curves": (["curves", "-l", "mse,mae,huber,log_cosh"], "Loss as a function of the residual"),
    "curves-prob": (["curves", "-l", "bce,brier,focal"], "predicted probability"),
    "curves-margin": (["curves", "-l", "hinge,squared_hinge,bce_logits"], "margin score"),
    "dist": (["dist", str(REG), "-l", "huber:delta=20"], "Distribution of per-sample"),
    "dist-by-log": (["dist", str(REG), "-l", "mse", "--by", "sex", "--log"], "by sex"),
    "residuals": (["residuals", str(REG)], "Residuals of"),
    "residuals-binary": (["residuals", str(BIN)], "Calibration of"),
    "compare": (["compare", str(RIDGE), str(GBR), "--resamples", "300"], "diabetes_gbr vs"),
}


def plot(runner, *args: str):
    return runner.invoke(app, ["plot", *map(str, args)])


# -- curves: the values are the loss functions' own ------------------------------------------


@pytest.mark.parametrize(
    "spec",
    [
        "mse",
        "rmse",
        "mae",
        "huber:delta=0.5",
        "smooth_l1",
        "pseudo_huber",
        "log_cosh",
        "quantile:alpha=0.9",
        "msle",
        "mape",
        "smape",
        "poisson_deviance",
        "tweedie_deviance:power=1.5",
    ],
)
def test_regression_curve_equals_loss_function(spec):
    reg = builtin_registry()
    c = data.loss_curves([spec], reg, y_true=2.0).curves[0]
    loss = reg.loss(spec, "regression")
    ok = np.isfinite(c.y)
    assert ok.sum() > len(c.x) // 3
    yt = np.full(ok.sum(), 2.0)
    expected = loss.per_sample(yt, yt + c.x[ok])
    np.testing.assert_array_equal(c.y[ok], expected)
    # Outside the domain the curve has a gap, never a clipped value.
    dom = loss.spec.y_pred_domain.ok(2.0 + c.x)
    assert not np.isfinite(c.y[~dom]).any()


@pytest.mark.parametrize("spec", ["bce", "brier", "focal:gamma=2:alpha=0.25", "zero_one"])
def test_probability_curves_for_both_labels(spec):
    reg = builtin_registry()
    curves = data.loss_curves([spec], reg)
    assert curves.axis == "probability" and curves.x_range == (0.0, 1.0)
    loss = reg.loss(spec, "binary")
    assert sorted(c.y_true for c in curves.curves) == [0.0, 1.0]
    for c in curves.curves:
        expected = loss.per_sample(np.full_like(c.x, c.y_true), c.x)
        np.testing.assert_array_equal(c.y, expected)


def test_margin_curves_and_probability_losses_through_the_sigmoid():
    reg = builtin_registry()
    curves = data.loss_curves(["hinge,squared_hinge,bce_logits,bce"], reg, x_range=(-4, 4))
    assert curves.axis == "margin" and curves.x_range == (-4, 4)
    by_key = {c.key: c for c in curves.curves}
    f = by_key["hinge"].x
    ones = np.ones_like(f)
    for key in ("hinge", "squared_hinge", "bce_logits"):
        np.testing.assert_array_equal(by_key[key].y, reg.loss(key).per_sample(ones, f))
    p = 1.0 / (1.0 + np.exp(-f))
    assert by_key["bce"].via_sigmoid
    np.testing.assert_allclose(by_key["bce"].y, reg.loss("bce").per_sample(ones, p), rtol=1e-12)
    # bce of sigmoid(f) is bce_logits of f: the two curves agree.
    np.testing.assert_allclose(by_key["bce"].y, by_key["bce_logits"].y, rtol=1e-9)


def test_curve_ranges_and_target_dependence():
    reg = builtin_registry()
    c = data.loss_curves(["mse,huber:delta=20"], reg)
    assert c.x_range == (-40.0, 40.0)  # wide enough to show huber's linear part
    assert 0.0 in c.curves[0].x  # the minimum is on the grid
    c = data.loss_curves(["mse,mae,msle,mape"], reg)
    assert c.target_dependent == ("msle", "mape")
    fig = build.curves_figure(c)
    assert any("msle, mape also depend on y_true" in line for line in fig.caption)


def test_probability_curves_cap_the_y_axis():
    c = data.loss_curves(["bce,brier"], builtin_registry())
    assert c.y_cap is not None and 3 < c.y_cap < 5  # bce(0.02) = 3.9, not -log(eps) = 36
    fig = build.curves_figure(c)
    assert len(fig.panels) == 2 and fig.panels[0].y_range == (0.0, c.y_cap)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["curves", "-l", "mse,bce"], "cannot be mixed"),
        (["curves", "-l", "cross_entropy"], "multiclass loss depends on K"),
        (["curves", "--range", "3,-3"], "LOW < HIGH"),
        (["curves", "-l", "bce", "--range=-1,1"], "take a probability"),
        (["dist", str(REG), "-l", "mse,mae"], "draws one loss"),
        (["residuals", str(SAMPLE_DATA / "wine_multiclass.csv")], "residual plots are for"),
        (["compare", str(REG), "--pred", "y_pred"], "at least two models"),
        (["curves", "--width", "12"], "too narrow"),
    ],
)
def test_usage_errors_exit_2_with_one_line(runner, args, message):
    res = plot(runner, *args)
    assert res.exit_code == 2, res.output
    assert message in res.stderr and res.stderr.count("\n") == 1
    assert res.stderr.startswith("Error: ")


# -- terminal output ---------------------------------------------------------------------------


@pytest.mark.parametrize("width", [64, 100])
@pytest.mark.parametrize("kind", list(KINDS))
def test_terminal_plot_fits_the_width(runner, kind, width):
    args, title = KINDS[kind]
    res = plot(runner, *args, "--width", str(width))
    assert res.exit_code == 0, res.output
    lines = res.stdout.rstrip("\n").split("\n")
    assert all(cell_len(line) <= width for line in lines)
    axes = [line for line in lines if line.lstrip().startswith("└")]
    assert axes and all(cell_len(line) == width for line in axes)
    assert title in " ".join(lines[:3])
    assert "\x1b[" not in res.stdout  # no colour codes when not on a terminal


def test_terminal_legend_and_caption(runner):
    res = plot(runner, "curves", "-l", "mse,mae,huber,log_cosh", "--width", "80")
    out = res.stdout
    legend = next(line for line in out.splitlines() if " mse " in line + " ")
    assert all(name in legend for name in ("mse", "mae", "huber", "log_cosh"))
    assert "residual r = y_pred - y_true" in out and "loss per sample" in out
    # Series are told apart without colour: each has its own dash pattern glyph.
    glyphs = [terminal._line_glyph(i) for i in range(4)]
    assert len(set(glyphs)) == 4 and all(g in legend for g in glyphs)


def test_terminal_default_width_is_the_console_width(runner, monkeypatch):
    monkeypatch.setenv("COLUMNS", "72")
    from lossctl.cli import state

    state._console.cache_clear()
    try:
        res = plot(runner, "curves")
    finally:
        state._console.cache_clear()
    axis = next(line for line in res.stdout.splitlines() if line.lstrip().startswith("└"))
    assert cell_len(axis) == 72


def test_ticks_are_nice():
    assert [lab for _, lab in terminal._linear_ticks(-3, 3, 6)] == [
        "-3",
        "-2",
        "-1",
        "0",
        "1",
        "2",
        "3",
    ]
    assert [lab for _, lab in terminal._linear_ticks(0, 1, 4)] == [
        "0",
        "0.25",
        "0.50",
        "0.75",
        "1.00",
    ]
    assert [lab for _, lab in terminal._log_ticks(-4.2, 4.4, 10)] == [
        "1e-4",
        "0.001",
        "0.01",
        "0.1",
        "1",
        "10",
        "100",
        "1000",
        "10000",
    ]
    assert [lab for _, lab in terminal._log_ticks(-6, 6, 4)] == ["1e-6", "0.01", "100", "1e6"]


# -- dist --------------------------------------------------------------------------------------


def _eval_cost(runner, path: Path, spec: str, *extra: str) -> float:
    res = runner.invoke(app, ["eval", str(path), "-l", spec, "--json", *extra])
    assert res.exit_code == 0, res.output
    return json.loads(res.stdout)["losses"][spec]["cost"]


def test_dist_mean_is_the_eval_cost(runner):
    sample = data.read_sample(EvalOptions(path=str(REG), losses=["huber:delta=20"]))
    d = data.loss_distribution(sample)
    cost = _eval_cost(runner, REG, "huber:delta=20")
    assert d.mean == pytest.approx(cost, rel=1e-12) and d.cost == pytest.approx(cost, rel=1e-12)
    fig = build.dist_figure(d)
    mean_mark = next(m for m in fig.panels[0].marks if m.label.startswith("mean"))
    assert mean_mark.x == pytest.approx(cost, rel=1e-12)
    assert "= cost" in mean_mark.label
    assert fig.panels[0].marks[1].x == pytest.approx(np.median(sample.values["huber:delta=20"]))


def test_dist_weighted_and_finalized(runner, tmp_path):
    path = tmp_path / "w.csv"
    rng = np.random.default_rng(1)
    y = rng.normal(0, 1, 200)
    rows = "\n".join(f"{a},{a + rng.normal(0, 1)},{rng.uniform(0, 3)}" for a in y)
    path.write_text("y_true,y_pred,w\n" + rows + "\n")
    sample = data.read_sample(EvalOptions(path=str(path), losses=["rmse"], weight="w"))
    d = data.loss_distribution(sample)
    cost = _eval_cost(runner, path, "rmse", "-w", "w")
    assert d.cost == pytest.approx(cost, rel=1e-12)
    assert d.mean == pytest.approx(cost**2, rel=1e-12)  # the mean of r², before the sqrt
    mark = build.dist_figure(d).panels[0].marks[0]
    assert mark.x == pytest.approx(d.mean) and "sqrt(mean)" in mark.label


def test_dist_by_group_series(runner):
    sample = data.read_sample(EvalOptions(path=str(REG), losses=["mse"], by="sex"))
    d = data.loss_distribution(sample, log=True)
    assert [g.label for g in d.groups] == ["sex_1", "sex_2"]
    assert sum(g.values.shape[0] for g in d.groups) == 442
    res = runner.invoke(app, ["eval", str(REG), "-l", "mse", "--by", "sex", "--json"])
    groups = json.loads(res.stdout)["groups"]
    for g in d.groups:
        assert g.mean == pytest.approx(groups[g.label]["losses"]["mse"]["cost"], rel=1e-12)
    assert all(h.normalize for h in build.dist_figure(d).panels[0].series)


def test_dist_by_many_groups_keeps_the_largest(tmp_path):
    path = tmp_path / "g.csv"
    rows = [f"{i % 7},{i % 5},g{k}" for k in range(8) for i in range(10 + 3 * k)]
    path.write_text("y_true,y_pred,grp\n" + "\n".join(rows) + "\n")
    sample = data.read_sample(EvalOptions(path=str(path), losses=["mae"], by="grp"))
    d = data.loss_distribution(sample)
    assert d.n_groups == 8 and [g.label for g in d.groups] == [f"g{k}" for k in range(2, 8)]
    assert d.mean == pytest.approx(sample.values["mae"].mean())  # over all rows
    assert any("6 largest of 8 groups" in line for line in build.dist_figure(d).caption)


def test_dist_reads_stdin(runner):
    res = runner.invoke(app, ["plot", "dist", "-", "--width", "70"], input=REG.read_text())
    assert res.exit_code == 0, res.output
    assert "Distribution of per-sample mse" in res.stdout and "mean 2991 = cost" in res.stdout


# -- residuals and compare ---------------------------------------------------------------------


def test_residuals_highlight_the_rows_carrying_half_the_cost():
    sample = data.read_sample(EvalOptions(path=str(REG), losses=["mse"]))
    r = data.residuals(sample, share=0.5)
    assert isinstance(r, data.ResidualData)
    sq = sample.values["mse"]
    carried = sq[r.dominant].sum() / sq.sum()
    assert carried >= 0.5
    assert carried - sq[r.dominant].min() / sq.sum() < 0.5  # the fewest such rows
    assert r.threshold is not None and np.all(np.abs(r.residual[r.dominant]) >= r.threshold)
    fig = build.residuals_figure(r)
    assert f"{r.n_dominant} of 442 rows" in fig.caption[0]
    assert "carry 50% of the mse cost" in fig.caption[0]


def test_compare_matches_the_bootstrap_of_lossctl_compare():
    pair = data.read_pair(CompareOptions(files=[str(RIDGE), str(GBR)], losses=["rmse"]))
    c = data.compare_pair(pair, resamples=500, seed=3)
    fin = FINALIZERS["sqrt"]
    ref = stats.bootstrap(pair.a, pair.b, None, fin, resamples=500, seed=3)
    assert c.delta == pytest.approx(ref.delta, rel=1e-12)
    assert c.ci == pytest.approx(ref.ci, rel=1e-12) and c.p_value == ref.p_value
    assert c.b_wins + c.a_wins + c.ties == pytest.approx(1.0)
    assert c.b_wins == pytest.approx(stats.win_rate(pair.a, pair.b) - c.ties / 2)
    marks = {m.label: m.x for m in build.compare_figure(c).panels[1].marks}
    assert marks["0 = no difference"] == 0.0
    assert any(k.startswith("observed") and v == c.delta for k, v in marks.items())


def test_compare_needs_two_models(runner):
    res = plot(runner, "compare", RIDGE, GBR, REG)
    assert res.exit_code == 2 and "draws two models" in res.stderr


# -- images ------------------------------------------------------------------------------------


def _png_size(path: Path) -> tuple[int, int]:
    raw = path.read_bytes()
    assert raw[:8] == PNG_SIGNATURE and raw[12:16] == b"IHDR"
    return struct.unpack(">II", raw[16:24])


@pytest.mark.parametrize(
    ("kind", "size"),
    [
        ("curves", (800, 500)),
        ("dist", (800, 500)),
        ("residuals", (1000, 500)),
        ("compare", (1000, 500)),
        ("curves-prob", (1000, 500)),
    ],
)
def test_png_has_the_fixed_size(runner, tmp_path, kind, size):
    pytest.importorskip("matplotlib")
    out = tmp_path / "plot.png"
    res = plot(runner, *KINDS[kind][0], "--out", out)
    assert res.exit_code == 0, res.output
    assert res.stdout == ""
    assert _png_size(out) == size
    assert [p.name for p in tmp_path.iterdir()] == ["plot.png"]  # no temporary file left


def test_svg_parses_with_the_fixed_size(runner, tmp_path):
    pytest.importorskip("matplotlib")
    out = tmp_path / "dist.svg"
    res = plot(runner, "dist", REG, "-l", "huber:delta=20", "--out", out)
    assert res.exit_code == 0, res.output
    root = ET.parse(out).getroot()
    assert root.tag.endswith("svg")
    # 8 x 5 inches: 576 x 360 pt (800 x 500 px at 100 dpi).
    assert (root.get("width"), root.get("height")) == ("576pt", "360pt")
    text = out.read_text()
    assert "Distribution of per-sample huber:delta=20" in text and "mean 707 = cost" in text


def test_out_refuses_the_input_file(runner, tmp_path):
    src = tmp_path / "preds.png"  # a CSV under an image name: only the path decides
    shutil.copy(REG, src)
    before = src.read_bytes()
    res = plot(runner, "dist", src, "--input-format", "csv", "--out", src)
    assert res.exit_code == 2 and "never overwrites its input" in res.stderr
    assert src.read_bytes() == before


def test_out_needs_a_known_suffix(runner, tmp_path):
    res = plot(runner, "curves", "--out", tmp_path / "plot.pdf")
    assert res.exit_code == 2 and ".png or .svg" in res.stderr


def test_missing_matplotlib_names_the_fix(runner, tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # import matplotlib -> ImportError
    out = tmp_path / "plot.png"
    res = plot(runner, "dist", REG, "--out", out)
    assert res.exit_code == 2
    assert res.stderr.count("\n") == 1 and 'pip install "lossctl[plot]"' in res.stderr
    assert not out.exists()


def test_failed_write_leaves_nothing(runner, tmp_path, monkeypatch):
    pytest.importorskip("matplotlib")
    from matplotlib.figure import Figure

    def boom(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(Figure, "savefig", boom)
    out = tmp_path / "plot.png"
    out.write_bytes(b"old")
    res = plot(runner, "curves", "--out", out, "--force")
    assert res.exit_code == 2 and "cannot write --out" in res.stderr and "disk full" in res.stderr
    assert out.read_bytes() == b"old" and [p.name for p in tmp_path.iterdir()] == ["plot.png"]


def test_existing_image_needs_force(runner, tmp_path):
    pytest.importorskip("matplotlib")
    out = tmp_path / "plot.png"
    out.write_bytes(b"mine")
    res = plot(runner, "curves", "--out", out)
    assert res.exit_code == 2 and "exists; pass --force" in res.stderr
    assert out.read_bytes() == b"mine"
    res = plot(runner, "curves", "--out", out, "--force")
    assert res.exit_code == 0, res.stderr
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_image_through_a_symlink_replaces_the_file_and_keeps_the_link(runner, tmp_path):
    pytest.importorskip("matplotlib")
    real = tmp_path / "real.svg"
    real.write_text("old")
    link = tmp_path / "link.svg"
    link.symlink_to(real)
    res = plot(runner, "curves", "--out", link, "--force")
    assert res.exit_code == 0, res.stderr
    assert link.is_symlink() and real.read_text().lstrip().startswith("<?xml")


def test_help_imports_nothing_heavy():
    code = (
        "import sys, lossctl.cli; "
        "print(sorted(m for m in ('matplotlib', 'lossctl.plot', 'numpy.random') "
        "if m in sys.modules))"
    )
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert res.stdout.strip() == "[]"
