"""Reference values of the binned calibration errors ``ece``, ``mce`` and ``rmsce``.

The torchmetrics values below were computed once in a throwaway environment (CI has no
torch) with torch 2.13.0+cpu, torchmetrics 1.9.0 and numpy 2.4.6, and pasted here as
literals. The inputs are the literal arrays P, Y (binary) and PR, L (multiclass) of this
file; the generator converted them with ``torch.tensor(x, dtype=torch.float64)`` (labels
with ``torch.tensor(x)``, int64). The same script recomputed every value with an
independent plain-numpy implementation of the catalogue's formula (equal-width bins,
``[k/B, (k+1)/B)``, the last one closed):

* binary: torchmetrics stays in float64; numpy agreed to 9.6e-16 relative at worst.
* multiclass: ``multiclass_calibration_error`` casts the top-1 confidences to float32
  (``confidences.float()`` in ``_multiclass_calibration_error_update``), so its public
  value carries float32 rounding: numpy (float64) differed from it by 1.9e-7 relative at
  worst. Those values are checked at ``TORCH_F32_RTOL``. To get float64 references the
  generator also fed torchmetrics' own binning code, ``_ce_compute`` (the function
  ``multiclass_calibration_error`` ends in), the float64 top-1 confidences directly;
  numpy agreed with those to 2.2e-16 relative at worst, and they are checked at ``RTOL``.

Every input value is at least 1e-3 away from every bin edge k/B for B in 5, 10 and 15,
and no confidence is 1.0: on those two points torchmetrics differs from the catalogue on
purpose (torch's float32 ``linspace`` edges, and an extra bin for a confidence of 1.0).
The catalogue's own conventions there, and the sample weights (torchmetrics has none),
are checked against hand-worked values further down, with the working in comments.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest

import lossctl
from lossctl.errors import UsageError

RTOL = 1e-9  # float64 references (binary torchmetrics; multiclass via _ce_compute)
TORCH_F32_RTOL = 1e-6  # multiclass_calibration_error as shipped (float32); worst seen 1.9e-7
SAME_RTOL = 1e-12  # two lossctl computations that differ only in summation order
ZERO_ABS = 1e-15  # an exact zero of the formula, up to float64 rounding of the means

NAMES = ("ece", "mce", "rmsce")
NORM = {"ece": "l1", "mce": "max", "rmsce": "l2"}  # lossctl name -> torchmetrics norm
BINS = (5, 10, 15)


def approx(expected: float, rel: float = RTOL) -> Any:
    """pytest.approx with a relative tolerance only (its default abs=1e-12 would accept
    any tiny value)."""
    return pytest.approx(expected, rel=rel, abs=0.0)


def cost(name: str, task: str, y_true: Any, y_pred: Any, weight: Any = None, **kw: int) -> float:
    spec = name + "".join(f":{k}={v}" for k, v in kw.items())
    loss = lossctl.get_loss(spec, task=task)
    t = np.asarray(y_true)
    p = np.asarray(y_pred, dtype=np.float64)
    if weight is None:
        return float(loss.cost(t, p))
    return float(loss.cost(t, p, weight=np.asarray(weight, dtype=np.float64)))


# ---------------------------------------------------------------------------------------
# Literal inputs. Generated with numpy.random.default_rng(20240611): P uniform on
# (0.01, 0.99) rounded to 6 decimals, redrawn when within 1e-3 of any k/B (B = 5, 10, 15);
# Y ~ Bernoulli(P**1.5) (a miscalibrated truth, so the errors are not tiny). PR: Dirichlet
# rows rounded to 6 decimals with the last entry set to 1 - (sum of the others) (every
# row sums to 1 within 1.2e-16), kept only when the top probability is unique (at least
# 0.022 above the second), is not 1.0 and is 1e-3 away from every edge; L drawn from each
# row's own distribution (19 of the 30 argmaxes are right).
# ---------------------------------------------------------------------------------------

# fmt: off
P = [
    0.195848, 0.989874, 0.584928, 0.828399, 0.270398, 0.120232, 0.780305, 0.519543,
    0.927539, 0.641597, 0.201806, 0.508151, 0.673791, 0.776565, 0.290615, 0.785726,
    0.423015, 0.840051, 0.592528, 0.163736, 0.925123, 0.643404, 0.135543, 0.913747,
    0.889998, 0.34874, 0.877774, 0.282827, 0.689609, 0.063496, 0.32543, 0.914687,
    0.154399, 0.226465, 0.467984, 0.980823, 0.545418, 0.067889, 0.501653, 0.49189,
]
Y = [
    1, 1, 0, 1, 0, 0, 1, 0, 1, 0, 0, 0, 1, 1, 1, 0, 0, 1, 0, 0,
    0, 1, 0, 1, 1, 0, 1, 0, 1, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 0,
]
PR = [
    [0.85099, 0.083101, 0.006918, 0.058991],
    [0.035814, 0.075795, 0.712052, 0.176339],
    [0.725499, 0.070913, 0.146749, 0.056839],
    [0.028515, 0.34065, 0.040282, 0.590553],
    [0.36023, 0.314342, 0.107315, 0.218113],
    [0.3047, 0.082935, 0.209988, 0.402377],
    [0.465371, 0.183521, 0.337871, 0.013237],
    [0.120637, 0.031907, 0.186602, 0.660854],
    [0.786972, 0.107716, 0.064969, 0.040343],
    [0.016581, 0.312489, 0.614239, 0.056691],
    [0.909787, 0.054104, 0.020401, 0.015708],
    [0.134144, 0.43881, 0.398701, 0.028345],
    [0.744956, 0.080292, 0.134143, 0.040609],
    [0.147836, 0.22995, 0.072152, 0.550062],
    [0.556347, 0.218528, 0.160802, 0.064323],
    [0.473481, 0.321549, 0.097981, 0.106989],
    [0.355083, 0.377191, 0.099761, 0.167965],
    [0.099092, 0.050513, 0.692007, 0.158388],
    [0.129848, 0.349598, 0.520497, 5.7e-05],
    [0.12461, 0.181735, 0.080461, 0.613194],
    [0.16127, 0.220807, 0.343078, 0.274845],
    [0.481996, 0.238764, 0.018408, 0.260832],
    [0.350899, 0.171391, 0.397909, 0.079801],
    [0.183393, 0.053478, 0.494499, 0.26863],
    [0.7263, 0.061532, 0.192863, 0.019305],
    [0.462588, 0.18874, 0.335632, 0.01304],
    [0.702205, 0.027934, 0.250238, 0.019623],
    [0.025507, 0.617988, 0.232316, 0.124189],
    [0.528175, 0.260421, 0.011452, 0.199952],
    [0.023627, 0.213596, 0.50705, 0.255727],
]
L = [0, 2, 0, 1, 0, 0, 1, 3, 0, 2, 0, 1, 0, 3, 0, 1, 1, 0, 2, 1, 0, 0, 3, 2, 0, 0, 2, 2, 0, 1]
# Integer weights for the duplication tests: numpy.random.default_rng(7).integers(1, 4, 40),
# then .integers(1, 4, 30) from the same generator.
W = [
    3, 2, 3, 3, 2, 3, 3, 1, 1, 1, 1, 3, 3, 1, 2, 3, 1, 3, 1, 2,
    3, 1, 2, 1, 3, 1, 3, 2, 2, 2, 2, 2, 2, 3, 3, 3, 3, 2, 2, 3,
]
WM = [2, 1, 3, 1, 3, 2, 1, 1, 2, 1, 1, 2, 3, 2, 3, 3, 3, 2, 2, 2, 1, 2, 2, 1, 3, 1, 1, 1, 3, 3]
# fmt: on

# torchmetrics 1.9.0, torch 2.13.0+cpu:
#   binary_calibration_error(torch.tensor(P, dtype=torch.float64), torch.tensor(Y),
#                            n_bins=B, norm=NORM)                    -> float64 tensor
# keyed by (B, norm); numpy agreed to <= 9.6e-16 relative.
TORCH_BINARY: dict[tuple[int, str], float] = {
    (5, "l1"): 0.14443165000000008,
    (5, "max"): 0.5150122222222222,
    (5, "l2"): 0.2508606062066827,
    (10, "l1"): 0.19631959999999998,
    (10, "max"): 0.5420368333333334,
    (10, "l2"): 0.2684155154569784,
    (15, "l1"): 0.206435,
    (15, "max"): 0.5742913333333334,
    (15, "l2"): 0.27621919522367255,
}

# torchmetrics 1.9.0, torch 2.13.0+cpu, float64 top-1 confidences through torchmetrics'
# own binning (the last step of multiclass_calibration_error, without its float32 cast):
#   from torchmetrics.functional.classification.calibration_error import _ce_compute
#   conf, pred = torch.tensor(PR, dtype=torch.float64).max(dim=1)
#   acc = pred.eq(torch.tensor(L)).to(torch.float64)
#   _ce_compute(conf, acc, B, norm=NORM)                              -> float64 tensor
# numpy agreed to <= 2.2e-16 relative.
TORCH_MULTICLASS_F64: dict[tuple[int, str], float] = {
    (5, "l1"): 0.0961758333333333,
    (5, "max"): 0.13039799999999996,
    (5, "l2"): 0.10142221113172117,
    (10, "l1"): 0.13631023333333328,
    (10, "max"): 0.2396564,
    (10, "l2"): 0.14446764479984972,
    (15, "l1"): 0.12738063333333335,
    (15, "max"): 0.23403600000000002,
    (15, "l2"): 0.1345331294169313,
}

# torchmetrics 1.9.0, torch 2.13.0+cpu, the public function:
#   multiclass_calibration_error(torch.tensor(PR, dtype=torch.float64), torch.tensor(L),
#                                num_classes=4, n_bins=B, norm=NORM)  -> float32 tensor
# (.item() of the float32 result). numpy (float64) differed by <= 1.9e-7 relative.
TORCH_MULTICLASS_F32: dict[tuple[int, str], float] = {
    (5, "l1"): 0.09617584943771362,
    (5, "max"): 0.1303979754447937,
    (5, "l2"): 0.10142222791910172,
    (10, "l1"): 0.13631021976470947,
    (10, "max"): 0.23965635895729065,
    (10, "l2"): 0.14446762204170227,
    (15, "l1"): 0.1273806244134903,
    (15, "max"): 0.23403596878051758,
    (15, "l2"): 0.1345331221818924,
}

CASES = [(name, b) for name in NAMES for b in BINS]


# ---------------------------------------------------------------------------------------
# Against torchmetrics
# ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(("name", "bins"), CASES)
def test_binary_matches_torchmetrics(name: str, bins: int) -> None:
    expected = TORCH_BINARY[(bins, NORM[name])]
    assert cost(name, "binary", Y, P, bins=bins) == approx(expected)


@pytest.mark.parametrize(("name", "bins"), CASES)
def test_multiclass_matches_torchmetrics_float64(name: str, bins: int) -> None:
    expected = TORCH_MULTICLASS_F64[(bins, NORM[name])]
    assert cost(name, "multiclass", L, PR, bins=bins) == approx(expected)


@pytest.mark.parametrize(("name", "bins"), CASES)
def test_multiclass_matches_torchmetrics_public_float32(name: str, bins: int) -> None:
    expected = TORCH_MULTICLASS_F32[(bins, NORM[name])]
    assert cost(name, "multiclass", L, PR, bins=bins) == approx(expected, rel=TORCH_F32_RTOL)


@pytest.mark.parametrize("name", NAMES)
def test_default_bins_is_15(name: str) -> None:
    assert cost(name, "binary", Y, P) == approx(TORCH_BINARY[(15, NORM[name])])
    assert cost(name, "multiclass", L, PR) == approx(TORCH_MULTICLASS_F64[(15, NORM[name])])


# ---------------------------------------------------------------------------------------
# Bin edges (hand-worked; torchmetrics differs here, see the module docstring)
# ---------------------------------------------------------------------------------------

# bins=10, two rows each. The right convention puts both rows of a case in one bin; the
# wrong one splits them, and since their gaps have opposite signs that changes the value.
#   0.3 edge: (0.3, y=0), (0.35, y=1) both in [0.3, 0.4): acc 0.5, conf 0.325,
#     ece = mce = rmsce = 0.175. With 0.3 in [0.2, 0.3) instead (numpy's linspace edge
#     is 0.30000000000000004): gaps 0.3 and 0.65, ece 0.475, mce 0.65.
#   0.0: (0.0, y=1), (0.06, y=0) both in [0, 0.1): acc 0.5, conf 0.03, 0.47.
#     With 0.0 alone: gaps 1 and 0.06, ece 0.53, mce 1.
#   1.0: (1.0, y=0), (0.92, y=1) both in [0.9, 1]: acc 0.5, conf 0.96, 0.46.
#     With 1.0 in an extra bin (torchmetrics): gaps 1 and 0.08, ece 0.54, mce 1.
EDGE_CASES = {
    "0.3 in [0.3, 0.4)": ([0.3, 0.35], [0, 1], 0.175),
    "0.0 in the first bin": ([0.0, 0.06], [1, 0], 0.47),
    "1.0 in the last bin": ([1.0, 0.92], [0, 1], 0.46),
}


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("case", list(EDGE_CASES))
def test_bin_edge_placement(case: str, name: str) -> None:
    p, y, expected = EDGE_CASES[case]
    # one occupied bin: its gap is ece, mce and rmsce alike
    assert cost(name, "binary", y, p, bins=10) == approx(expected)


def test_bin_edges_together() -> None:
    # The six rows of the three cases above: bins 0, 3 and 9 hold two rows each (N = 6),
    # gaps 0.47, 0.175, 0.46.
    #   ece   = (2/6) * (0.47 + 0.175 + 0.46) = 1.105 / 3 = 0.368333...
    #   mce   = 0.47
    #   rmsce = sqrt((2/6) * (0.47**2 + 0.175**2 + 0.46**2)) = sqrt(0.463125 / 3)
    p = [0.0, 0.06, 0.3, 0.35, 1.0, 0.92]
    y = [1, 0, 0, 1, 0, 1]
    assert cost("ece", "binary", y, p, bins=10) == approx(1.105 / 3)
    assert cost("mce", "binary", y, p, bins=10) == approx(0.47)
    assert cost("rmsce", "binary", y, p, bins=10) == approx(math.sqrt(0.463125 / 3))


@pytest.mark.parametrize(("bins", "k"), [(b, k) for b in BINS for k in range(1, b)])
def test_every_inner_edge_opens_its_bin(bins: int, k: int) -> None:
    # Rows (k/B, y=0) and ((k + 0.5)/B, y=1), with k/B the float nearest to k/B (what a
    # file's decimal parses to for B = 5 and 10). Both belong to [k/B, (k+1)/B): acc 0.5,
    # conf (k + 0.25)/B, so mce = |0.5 - (k + 0.25)/B|. Split across two bins instead it
    # would be max(k/B, 1 - (k + 0.5)/B), never the same value for 1 <= k <= B-1.
    p = [k / bins, (k + 0.5) / bins]
    expected = abs(0.5 - (p[0] + p[1]) / 2)
    assert cost("mce", "binary", [0, 1], p, bins=bins) == approx(expected, rel=SAME_RTOL)


# ---------------------------------------------------------------------------------------
# Sample weights (torchmetrics has none)
# ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(("name", "bins"), CASES)
def test_integer_weights_equal_duplicated_rows_binary(name: str, bins: int) -> None:
    weighted = cost(name, "binary", Y, P, W, bins=bins)
    repeated = cost(name, "binary", np.repeat(Y, W), np.repeat(P, W), bins=bins)
    assert weighted == approx(repeated, rel=SAME_RTOL)


@pytest.mark.parametrize(("name", "bins"), CASES)
def test_integer_weights_equal_duplicated_rows_multiclass(name: str, bins: int) -> None:
    weighted = cost(name, "multiclass", L, PR, WM, bins=bins)
    repeated = cost(
        name, "multiclass", np.repeat(L, WM), np.repeat(np.asarray(PR), WM, axis=0), bins=bins
    )
    assert weighted == approx(repeated, rel=SAME_RTOL)


@pytest.mark.parametrize(("name", "bins"), CASES)
def test_equal_weights_equal_no_weights(name: str, bins: int) -> None:
    w = np.full(len(P), 2.5)
    assert cost(name, "binary", Y, P, w, bins=bins) == approx(
        cost(name, "binary", Y, P, bins=bins), rel=SAME_RTOL
    )
    wm = np.full(len(L), 0.7)
    assert cost(name, "multiclass", L, PR, wm, bins=bins) == approx(
        cost(name, "multiclass", L, PR, bins=bins), rel=SAME_RTOL
    )


def test_weighted_hand_worked() -> None:
    # bins=10. Rows (p, y, w): (0.22, 1, 3), (0.25, 0, 1) in [0.2, 0.3); (0.83, 1, 1) in
    # [0.8, 0.9). N = 5.
    #   bin 2: n = 4, acc = 3/4 = 0.75, conf = (3*0.22 + 0.25)/4 = 0.2275, gap 0.5225
    #   bin 8: n = 1, acc = 1, conf = 0.83, gap 0.17
    #   ece   = 0.8*0.5225 + 0.2*0.17 = 0.418 + 0.034 = 0.452
    #   mce   = 0.5225
    #   rmsce = sqrt(0.8*0.5225**2 + 0.2*0.17**2) = sqrt(0.218405 + 0.00578) = sqrt(0.224185)
    p = [0.22, 0.25, 0.83]
    y = [1, 0, 1]
    w = [3.0, 1.0, 1.0]
    assert cost("ece", "binary", y, p, w, bins=10) == approx(0.452)
    assert cost("mce", "binary", y, p, w, bins=10) == approx(0.5225)
    assert cost("rmsce", "binary", y, p, w, bins=10) == approx(math.sqrt(0.224185))


# ---------------------------------------------------------------------------------------
# Other hand-worked properties
# ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("bins", [*BINS, None])
def test_constant_predictor_at_base_rate_is_calibrated(name: str, bins: int | None) -> None:
    # 3 positives in 10 rows and p = 0.3 everywhere: one bin, acc = conf = 0.3, gap 0.
    # (For bins=10, 0.3 is an edge; all rows still share one bin.)
    kw = {} if bins is None else {"bins": bins}
    y = [1, 1, 1, 0, 0, 0, 0, 0, 0, 0]
    assert cost(name, "binary", y, [0.3] * 10, **kw) == pytest.approx(0.0, abs=ZERO_ABS)
    # Multiclass: every row [0.5, 0.3, 0.2], labels 0 in half the rows: top-1 confidence
    # 0.5, accuracy 0.5, gap 0.
    labels = [0, 1, 0, 2, 0, 1, 0, 2, 0, 1]
    rows = [[0.5, 0.3, 0.2]] * 10
    assert cost(name, "multiclass", labels, rows, **kw) == pytest.approx(0.0, abs=ZERO_ABS)


def test_mce_ignores_empty_bins() -> None:
    # bins=10: only bins 1 and 8 hold rows, the eight others are empty.
    #   bin 1: (0.12, 0) x2 -> acc 0, conf 0.12, gap 0.12
    #   bin 8: (0.87, 1) x4 -> acc 1, conf 0.87, gap 0.13
    #   mce = 0.13 (an empty bin given conf = its centre, or nan, would change it)
    #   ece = (2/6)*0.12 + (4/6)*0.13 = 0.38/3
    #   rmsce = sqrt((2*0.12**2 + 4*0.13**2)/6) = sqrt(0.0964/6)
    p = [0.12, 0.12, 0.87, 0.87, 0.87, 0.87]
    y = [0, 0, 1, 1, 1, 1]
    assert cost("mce", "binary", y, p, bins=10) == approx(0.13)
    assert cost("ece", "binary", y, p, bins=10) == approx(0.38 / 3)
    assert cost("rmsce", "binary", y, p, bins=10) == approx(math.sqrt(0.0964 / 6))


@pytest.mark.parametrize("bins", BINS)
def test_single_occupied_bin_gives_its_gap(bins: int) -> None:
    # p = 0.55 for four rows, two positives: one bin for B = 5, 10, 15 (0.55 is no edge),
    # acc 0.5, conf 0.55: mce = ece = rmsce = 0.05, the B - 1 empty bins add nothing.
    p = [0.55] * 4
    y = [1, 0, 1, 0]
    for name in NAMES:
        assert cost(name, "binary", y, p, bins=bins) == approx(0.05, rel=SAME_RTOL)


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("task", ["binary", "multiclass"])
def test_per_sample_is_refused(name: str, task: str) -> None:
    loss = lossctl.get_loss(f"{name}:bins=10", task=task)
    if task == "binary":
        y_true, y_pred = np.asarray(Y), np.asarray(P, dtype=np.float64)
    else:
        y_true, y_pred = np.asarray(L), np.asarray(PR, dtype=np.float64)
    with pytest.raises(UsageError, match="per-sample"):
        loss.per_sample(y_true, y_pred)
