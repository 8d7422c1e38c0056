"""The scaled forecast errors mase, msse and rmsse through the installed CLI.

Every run is a subprocess of ``lossctl`` on files written the way users write them
(pandas ``to_csv`` with its index, columns in an unexpected order, shuffled rows,
Parquet with a Categorical series column, integer, datetime and text times). The
references are utilsforecast's ``mase`` / ``msse`` / ``rmsse`` averaged over the
series (utilsforecast is given the rows sorted by series and time, as it requires),
or a per-series computation by hand with pandas for what utilsforecast has not
(weights, groups).
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from utilsforecast.losses import mase, msse, rmsse

from tests.conftest import SAMPLE_DATA, in_parts, ok_json, refused, run_lossctl

LOSSES = ("mase", "msse", "rmsse")
REFERENCES = {"mase": mase, "msse": msse, "rmsse": rmsse}
PANEL = ("--series", "unique_id", "--time", "ds")
#: Relative tolerance between lossctl and a reference: the same sums in another order.
REL = 1e-12


# -- data --------------------------------------------------------------------------------


def ragged_panel(seed: int, season: int, n_series: int = 7) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(history, forecasts) of ``n_series`` series of different lengths, horizons,
    starting times and scales (1e-2 to 1e4), with a seasonal pattern; integer time.

    The forecasts carry ``family`` (a category of series) and ``window`` (the first
    three horizon steps are "w1", later ones "w2": a series with a long horizon spans
    both groups, a short one is in "w1" only)."""
    rng = np.random.default_rng(seed)
    hist, fc = [], []
    for i in range(n_series):
        n = season + 1 if i == 0 else int(rng.integers(season + 2, 40))  # item_0: minimal
        h = int(rng.integers(2, 9))
        scale = 10 ** rng.uniform(-2, 4)
        t0 = int(rng.integers(0, 30))
        t = np.arange(t0, t0 + n + h)
        y = scale * (np.cumsum(rng.normal(size=n + h)) + 2 * np.sin(2 * np.pi * t / 4) + 10)
        uid = f"item_{i}"
        hist.append(pd.DataFrame({"unique_id": uid, "ds": t[:n], "y": y[:n]}))
        pred = y[n:] + scale * rng.normal(0, 1.5, h)
        fc.append(
            pd.DataFrame({
                "unique_id": uid,
                "ds": t[n:],
                "y": y[n:],
                "model": pred,
                "family": "odd" if i % 2 else "even",
                "window": np.where(np.arange(h) < 3, "w1", "w2"),
                "w": rng.uniform(0.1, 3.0, h),
            })
        )  # fmt: skip
    return pd.concat(hist, ignore_index=True), pd.concat(fc, ignore_index=True)


def shuffled(df: pd.DataFrame, seed: int) -> pd.DataFrame:
    """The rows in random order, the columns reversed (target and series last)."""
    return df.sample(frac=1.0, random_state=seed)[list(reversed(df.columns))]


def write_csv(df: pd.DataFrame, path: Path, seed: int = 0) -> Path:
    """As a user does: rows shuffled, columns reordered, pandas' index written."""
    shuffled(df, seed).to_csv(path)
    return path


def as_dates(df: pd.DataFrame) -> pd.DataFrame:
    """Integer time k as the date of week k from 2000-01-03 (datetime64)."""
    out = df.copy()
    out["ds"] = pd.Timestamp("2000-01-03") + pd.to_timedelta(out["ds"] * 7, unit="D")
    return out


def sorted_panel(df: pd.DataFrame) -> pd.DataFrame:
    return df.sort_values(["unique_id", "ds"], kind="stable").reset_index(drop=True)


def reference(
    fc: pd.DataFrame, hist: pd.DataFrame, season: int, model: str = "model"
) -> dict[str, float]:
    """utilsforecast's mase, msse, rmsse, each the mean over the series."""
    fc = sorted_panel(fc.astype({"unique_id": str}))[["unique_id", "ds", "y", model]]
    hist = sorted_panel(hist.astype({"unique_id": str}))[["unique_id", "ds", "y"]]
    return {
        name: float(fn(fc, [model], season, hist)[model].mean()) for name, fn in REFERENCES.items()
    }


def by_hand(
    fc: pd.DataFrame,
    hist: pd.DataFrame,
    season: int,
    by: str | None = None,
    weight: str | None = None,
    model: str = "model",
) -> dict[str | None, dict[str, float]]:
    """Per group (None: overall), the mean over the group's series of each series' value
    (its weighted mean of |r|/s or r²/s², rmsse the root per series), and the count of
    series under ``series``."""
    scale_abs, scale_sq = {}, {}
    for uid, g in hist.sort_values("ds").groupby("unique_id", observed=True):
        y = g["y"].to_numpy()
        d = y[season:] - y[:-season]
        scale_abs[str(uid)], scale_sq[str(uid)] = np.mean(np.abs(d)), np.mean(d * d)
    f = fc.assign(unique_id=fc["unique_id"].astype(str))
    r = f["y"] - f[model]
    f = f.assign(
        _abs=r.abs() / f["unique_id"].map(scale_abs),
        _sq=r * r / f["unique_id"].map(scale_sq),
        _w=1.0 if weight is None else f[weight],
    )
    out: dict[str | None, dict[str, float]] = {}
    groups = [(None, f)] if by is None else list(f.groupby(by))
    for label, g in groups:
        per = g.groupby("unique_id").apply(
            lambda s: pd.Series({
                "mase": np.average(s["_abs"], weights=s["_w"]),
                "msse": np.average(s["_sq"], weights=s["_w"]),
            }),
            include_groups=False,
        )  # fmt: skip
        out[label] = {
            "mase": float(per["mase"].mean()),
            "msse": float(per["msse"].mean()),
            "rmsse": float(np.sqrt(per["msse"]).mean()),
            "series": float(len(per)),
        }
    return out


def costs(doc: dict[str, Any]) -> dict[str, float]:
    return {key: doc["losses"][key]["cost"] for key in LOSSES}


def assert_costs(got: dict[str, float], expected: dict[str, float], rel: float = REL) -> None:
    for key in LOSSES:
        assert got[key] == pytest.approx(expected[key], rel=rel, abs=0.0), key


def scaled(fc: Path, hist: Path, season: int, *extra: object) -> tuple[object, ...]:
    """The arguments of an eval of the three scaled losses on -p model."""
    return ("eval", fc, "-p", "model", "-l", ",".join(LOSSES), *PANEL, "--train", hist,
            "--season", season, *extra)  # fmt: skip


@pytest.fixture
def panel4(tmp_path: Path) -> tuple[pd.DataFrame, pd.DataFrame, Path, Path]:
    """A season-4 ragged panel as shuffled CSV files with their index."""
    hist, fc = ragged_panel(11, 4)
    return hist, fc, write_csv(fc, tmp_path / "fc.csv", 1), write_csv(hist, tmp_path / "h.csv", 2)


# -- against utilsforecast ------------------------------------------------------------------


@pytest.mark.parametrize("chunk", [1, 7, None], ids=["chunk1", "chunk7", "default"])
@pytest.mark.parametrize("season", [1, 4])
def test_ragged_shuffled_panel_equals_utilsforecast(
    tmp_path: Path, season: int, chunk: int | None
) -> None:
    hist, fc = ragged_panel(season * 100 + 3, season)
    fc_path = write_csv(fc, tmp_path / "forecasts.csv", 1)
    hist_path = write_csv(hist, tmp_path / "history.csv", 2)
    extra = () if chunk is None else ("--chunk-size", chunk)
    doc = ok_json(tmp_path, *scaled(fc_path, hist_path, season, *extra))
    expected = reference(fc, hist, season)
    assert_costs(costs(doc), expected)
    assert doc["n_used"] == len(fc)
    assert all(doc["losses"][k]["series"] == 7 for k in LOSSES)
    # The same history sorted by series and time streams chunk by chunk (no warning).
    sorted_path = tmp_path / "history_sorted.csv"
    sorted_panel(hist).to_csv(sorted_path)
    streamed = ok_json(tmp_path, *scaled(fc_path, sorted_path, season, *extra))
    assert_costs(costs(streamed), expected)
    assert not [w for w in streamed["warnings"] if "time order" in w]


@pytest.mark.parametrize("suffix", ["csv", "parquet"])
def test_sample_panel_reference_numbers(tmp_path: Path, suffix: str) -> None:
    fc = pd.read_csv(SAMPLE_DATA / "macro_forecasts.csv")
    hist = pd.read_csv(SAMPLE_DATA / "macro_train.csv")
    for model in ("SeasonalNaive", "HoltWinters", "GBR"):
        doc = ok_json(
            tmp_path, "eval", SAMPLE_DATA / f"macro_forecasts.{suffix}", "-p", model,
            "-l", "mase,msse,rmsse", *PANEL, "--train", SAMPLE_DATA / f"macro_train.{suffix}",
            "--season", 4,
        )  # fmt: skip
        assert_costs(costs(doc), reference(fc, hist, 4, model))
        assert doc["warnings"] == []
        if model == "HoltWinters":  # the README's numbers
            assert doc["losses"]["mase"]["cost"] == pytest.approx(2.520840, abs=1e-6)
            assert doc["losses"]["rmsse"]["cost"] == pytest.approx(2.556093, abs=1e-6)


def test_parquet_categorical_series_and_datetime_time(tmp_path: Path) -> None:
    hist, fc = ragged_panel(5, 4)
    hist, fc = as_dates(hist), as_dates(fc)
    for df in (hist, fc):
        df["unique_id"] = df["unique_id"].astype("category")
    shuffled(fc, 3).to_parquet(tmp_path / "fc.parquet")  # a RangeIndex is metadata only
    shuffled(hist, 4).to_parquet(tmp_path / "h.parquet", index=True)  # index as a column
    doc = ok_json(tmp_path, *scaled(tmp_path / "fc.parquet", tmp_path / "h.parquet", 4))
    assert_costs(costs(doc), reference(fc, hist, 4))
    # History as Parquet, forecasts as a CSV with ISO dates, and the other way round.
    write_csv(fc, tmp_path / "fc.csv", 5)
    write_csv(hist, tmp_path / "h.csv", 6)
    for f, h in (("fc.csv", "h.parquet"), ("fc.parquet", "h.csv")):
        doc = ok_json(tmp_path, *scaled(tmp_path / f, tmp_path / h, 4, "--chunk-size", 5))
        assert_costs(costs(doc), reference(fc, hist, 4))


def test_text_iso_dates_sort_as_time(tmp_path: Path) -> None:
    hist, fc = ragged_panel(6, 4)
    hist, fc = as_dates(hist), as_dates(fc)
    expected = reference(fc, hist, 4)
    for df in (hist, fc):
        df["ds"] = df["ds"].dt.strftime("%Y-%m-%dT%H:%M")  # text, not parsed as a date
    shuffled(hist, 1).to_parquet(tmp_path / "h.parquet")
    write_csv(fc, tmp_path / "fc.csv")
    doc = ok_json(tmp_path, *scaled(tmp_path / "fc.csv", tmp_path / "h.parquet", 4))
    assert_costs(costs(doc), expected)
    assert any("holds text" in w and "the history" in w for w in doc["warnings"])


def test_history_dataset_folder(tmp_path: Path) -> None:
    hist, fc = ragged_panel(7, 4)
    fc_path = write_csv(fc, tmp_path / "fc.csv")
    expected = reference(fc, hist, 4)
    # Cut by time: each file a later stretch of every series, in name order (streams).
    by_time = tmp_path / "by_time"
    by_time.mkdir()
    cuts = np.quantile(hist["ds"], [0.3, 0.6])
    part = np.searchsorted(cuts, hist["ds"], side="right")
    for i in range(3):
        shuffled(hist[part == i], i).to_parquet(by_time / f"part-{i}.parquet")
    doc = ok_json(tmp_path, *scaled(fc_path, by_time, 4))
    assert_costs(costs(doc), expected)
    assert not [w for w in doc["warnings"] if "time order" in w]
    assert doc["forecast"]["train"] == str(by_time)
    # Cut row by row: every file has every stretch of time (read whole and sorted).
    mixed = tmp_path / "mixed"
    mixed.mkdir()
    for i in range(3):
        hist.iloc[i::3].to_parquet(mixed / f"part-{i}.parquet")
    doc = ok_json(tmp_path, *scaled(fc_path, mixed, 4))
    assert_costs(costs(doc), expected)
    assert len([w for w in doc["warnings"] if "read whole into memory and sorted" in w]) == 1


def test_history_dataset_files_with_other_timestamp_units(tmp_path: Path) -> None:
    """One file written with timestamp[ns], the next with timestamp[us] (two writers):
    the same date is the same time in both."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    hist, fc = ragged_panel(8, 4)
    hist, fc = as_dates(hist), as_dates(fc)
    fc_path = write_csv(fc, tmp_path / "fc.csv")
    folder = tmp_path / "hist"
    folder.mkdir()
    ordered = sorted_panel(hist)
    half = len(ordered) // 2
    for name, rows, unit in (("a", ordered.iloc[:half], "ns"), ("b", ordered.iloc[half:], "us")):
        table = pa.Table.from_pandas(rows, preserve_index=False)
        i = table.schema.get_field_index("ds")
        table = table.set_column(i, "ds", table.column("ds").cast(pa.timestamp(unit)))
        pq.write_table(table, folder / f"{name}.parquet")
    doc = ok_json(tmp_path, *scaled(fc_path, folder, 4))
    assert_costs(costs(doc), reference(fc, hist, 4))
    assert doc["warnings"] == []
    # ISO dates as text in the second file are read as the first file's timestamps.
    rest = ordered.iloc[half:]
    rest.assign(ds=rest["ds"].dt.strftime("%Y-%m-%d")).to_parquet(folder / "b.parquet")
    doc = ok_json(tmp_path, *scaled(fc_path, folder, 4))
    assert_costs(costs(doc), reference(fc, hist, 4))
    # Day-first text is no timestamp: the files' times have no one order.
    rest.assign(ds=rest["ds"].dt.strftime("%d/%m/%Y")).to_parquet(folder / "b.parquet")
    msg = refused(tmp_path, *scaled(fc_path, folder, 4))
    assert f"column 'ds' of the history {folder / 'b.parquet'} holds" in msg
    assert f"in {folder / 'a.parquet'}" in msg


def test_history_dataset_errors_name_the_file_and_its_row(tmp_path: Path) -> None:
    hist, fc = ragged_panel(9, 4)
    fc_path = write_csv(fc, tmp_path / "fc.csv")
    ordered = sorted_panel(hist)
    first, second = ordered.iloc[:60], ordered.iloc[60:].reset_index(drop=True)
    folder = tmp_path / "nan"
    folder.mkdir()
    first.to_parquet(folder / "a.parquet")
    second.assign(y=lambda d: d["y"].where(d.index != 2)).to_parquet(folder / "b.parquet")
    msg = refused(tmp_path, *scaled(fc_path, folder, 4))
    assert msg.startswith(
        f"Error: column 'y' of the history {folder / 'b.parquet'} has 1 NaN, inf or empty "
        "value (first at row 3);"
    )
    folder = tmp_path / "dup"
    folder.mkdir()
    first.to_parquet(folder / "a.parquet")
    pd.concat([second, first.iloc[[4]]]).to_parquet(folder / "b.parquet")
    msg = refused(tmp_path, *scaled(fc_path, folder, 4))
    uid, ds = first["unique_id"].iloc[4], first["ds"].iloc[4]
    assert msg.startswith(
        f"Error: the history {folder}: series '{uid}' has two rows at time {ds} (row 5 of "
        f"{folder / 'a.parquet'} and row {len(second) + 1} of {folder / 'b.parquet'});"
    ), msg


# -- parallel parts and Dask ------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_parallel_parts_equal_one_pass(
    tmp_path: Path, panel4: tuple[pd.DataFrame, pd.DataFrame, Path, Path], fmt: str
) -> None:
    hist, fc, fc_csv, hist_csv = panel4
    if fmt == "parquet":
        frame = shuffled(fc, 8).assign(unique_id=lambda d: d["unique_id"].astype("category"))
        fc_path = tmp_path / "fc.parquet"
        frame.to_parquet(fc_path, row_group_size=5)
    else:
        fc_path = fc_csv
    args = scaled(fc_path, hist_csv, 4, "-w", "w", "--by", "window")
    one = ok_json(tmp_path, *args, "--chunk-size", 3)  # too small a file for parts
    many = in_parts(tmp_path, 300, *args, "--chunk-size", 3)
    assert_costs(costs(many), costs(one))
    for g, group in one["groups"].items():
        for key in LOSSES:
            got = many["groups"][g]["losses"][key]
            assert got["cost"] == pytest.approx(group["losses"][key]["cost"], rel=REL)
            assert got["series"] == group["losses"][key]["series"]
    hand = by_hand(fc, hist, 4, weight="w")[None]
    assert_costs(costs(many), hand)


def test_prediction_dataset_folder_in_parallel(
    tmp_path: Path, panel4: tuple[pd.DataFrame, pd.DataFrame, Path, Path]
) -> None:
    """Every file of a folder is a part; a series is spread over several files."""
    hist, fc, _, hist_csv = panel4
    folder = tmp_path / "preds"
    folder.mkdir()
    for i in range(4):
        write_csv(fc.iloc[i::4], folder / f"part-{i}.csv", i)
    doc = ok_json(tmp_path, *scaled(folder, hist_csv, 4))
    assert_costs(costs(doc), reference(fc, hist, 4))
    assert doc["losses"]["mase"]["series"] == 7


def test_dask_equals_local(
    tmp_path: Path, scheduler: str, panel4: tuple[pd.DataFrame, pd.DataFrame, Path, Path]
) -> None:
    hist, fc, fc_csv, hist_csv = panel4
    folder = tmp_path / "preds"
    folder.mkdir()
    for i in range(3):
        fc.iloc[i::3].to_parquet(folder / f"part-{i}.parquet")
    dask = ("--engine", "dask", "--scheduler", scheduler)
    for path in (fc_csv, folder):
        args = scaled(path, hist_csv, 4, "--by", "family", "-w", "w", "--chunk-size", 4)
        local = ok_json(tmp_path, *args)
        remote = ok_json(tmp_path, *args, *dask)
        assert_costs(costs(remote), costs(local))
        assert set(remote["groups"]) == set(local["groups"]) == {"even", "odd"}
        for g in local["groups"]:
            for key in LOSSES:
                assert remote["groups"][g]["losses"][key]["cost"] == pytest.approx(
                    local["groups"][g]["losses"][key]["cost"], rel=REL
                )
        hand = by_hand(fc, hist, 4, by="family", weight="w")
        assert_costs(costs(remote), by_hand(fc, hist, 4, weight="w")[None])
        for g in ("even", "odd"):
            assert_costs({k: remote["groups"][g]["losses"][k]["cost"] for k in LOSSES}, hand[g])
    # A series without a scale is the same error on Dask.
    partial = tmp_path / "partial.csv"
    hist[hist["unique_id"] != "item_3"].to_csv(partial)
    msg = refused(tmp_path, *scaled(fc_csv, partial, 4, *dask))
    assert "'item_3' (not in the history)" in msg


# -- groups and weights ------------------------------------------------------------------------


@pytest.mark.parametrize("by", ["family", "window"])
def test_by_group_is_the_mean_over_the_groups_series(
    tmp_path: Path, panel4: tuple[pd.DataFrame, pd.DataFrame, Path, Path], by: str
) -> None:
    hist, fc, fc_csv, hist_csv = panel4
    doc = ok_json(tmp_path, *scaled(fc_csv, hist_csv, 4, "--by", by, "--chunk-size", 5))
    hand = by_hand(fc, hist, 4, by=by)
    assert set(doc["groups"]) == set(hand) - {None}
    for g, expected in hand.items():
        if g is None:
            continue
        losses = doc["groups"][g]["losses"]
        assert_costs({k: losses[k]["cost"] for k in LOSSES}, expected)
        assert all(losses[k]["series"] == expected["series"] for k in LOSSES)
        assert doc["groups"][g]["n_used"] == int((fc[by] == g).sum())
    # Overall: every series once, whatever the groups.
    assert_costs(costs(doc), reference(fc, hist, 4))
    if by == "window":  # a series with a long horizon is in both windows
        spans = fc.groupby("unique_id")["window"].nunique()
        assert (spans == 2).any() and (spans == 1).any()
        assert doc["groups"]["w1"]["losses"]["mase"]["series"] == 7
        assert doc["groups"]["w2"]["losses"]["mase"]["series"] == int((spans == 2).sum())


def test_weights_give_each_series_its_weighted_mean(
    tmp_path: Path, panel4: tuple[pd.DataFrame, pd.DataFrame, Path, Path]
) -> None:
    hist, fc, fc_csv, hist_csv = panel4
    plain = ok_json(tmp_path, *scaled(fc_csv, hist_csv, 4))
    weighted = ok_json(tmp_path, *scaled(fc_csv, hist_csv, 4, "-w", "w"))
    assert_costs(costs(weighted), by_hand(fc, hist, 4, weight="w")[None])
    assert_costs(costs(plain), by_hand(fc, hist, 4)[None])
    assert all(abs(costs(weighted)[k] - costs(plain)[k]) > 1e-6 for k in LOSSES)
    # Scaling all weights of one series changes nothing: a series' value is its mean.
    fc2 = fc.assign(w=np.where(fc["unique_id"] == "item_2", fc["w"] * 1000, fc["w"]))
    path = write_csv(fc2, tmp_path / "fc2.csv")
    again = ok_json(tmp_path, *scaled(path, hist_csv, 4, "-w", "w"))
    assert_costs(costs(again), costs(weighted))


# -- errors ------------------------------------------------------------------------------------


def test_series_missing_from_the_history(
    tmp_path: Path, panel4: tuple[pd.DataFrame, pd.DataFrame, Path, Path]
) -> None:
    hist, _, fc_csv, _ = panel4
    path = write_csv(hist[hist["unique_id"] != "item_3"], tmp_path / "partial.csv")
    msg = refused(tmp_path, *scaled(fc_csv, path, 4))
    assert msg.startswith(f"Error: 1 series of {fc_csv} has no scale from the history {path}:")
    assert "'item_3' (not in the history)" in msg


@pytest.mark.parametrize("nan", ["raise", "omit"])
def test_constant_history_is_a_zero_scale(
    tmp_path: Path, panel4: tuple[pd.DataFrame, pd.DataFrame, Path, Path], nan: str
) -> None:
    hist, _, fc_csv, _ = panel4
    const = hist.assign(y=np.where(hist["unique_id"] == "item_2", 42.0, hist["y"]))
    path = write_csv(const, tmp_path / "const.csv")
    msg = refused(tmp_path, *scaled(fc_csv, path, 4, "--nan", nan))
    assert "'item_2' (a constant history: zero scale)" in msg
    assert "--nan omit does not skip them" in msg


def test_history_shorter_than_season_plus_one(
    tmp_path: Path, panel4: tuple[pd.DataFrame, pd.DataFrame, Path, Path]
) -> None:
    hist, _, fc_csv, hist_csv = panel4
    # item_0 has exactly season + 1 = 5 rows: usable at season 4, too short at season 5.
    assert (hist["unique_id"] == "item_0").sum() == 5
    ok_json(tmp_path, *scaled(fc_csv, hist_csv, 4))
    msg = refused(tmp_path, *scaled(fc_csv, hist_csv, 5))
    assert "'item_0' (5 history rows; season 5 needs at least 6)" in msg


def test_seven_bad_series_names_five_and_counts_the_rest(tmp_path: Path) -> None:
    hist, fc = ragged_panel(21, 4, n_series=9)
    # item_2, 3, 7, 8 have no history; item_4, 5 a constant one; item_6 three rows.
    keep = hist[hist["unique_id"].isin(["item_0", "item_1", "item_4", "item_5"])]
    keep = keep.assign(y=np.where(keep["unique_id"].isin(["item_4", "item_5"]), 1.0, keep["y"]))
    keep = pd.concat([keep, hist[hist["unique_id"] == "item_6"].head(3)])
    fc_path = write_csv(fc, tmp_path / "fc.csv")
    path = write_csv(keep, tmp_path / "h.csv")
    msg = refused(tmp_path, *scaled(fc_path, path, 4))
    assert msg == (
        f"Error: 7 series of {fc_path} have no scale from the history {path}: 'item_2' (not "
        "in the history), 'item_3' (not in the history), 'item_4' (a constant history: zero "
        "scale), 'item_5' (a constant history: zero scale), 'item_6' (3 history rows; "
        "season 4 needs at least 5) and 2 more. A scaled loss divides by each series' "
        "seasonal-naive error on its history: give every series at least season + 1 "
        "history rows that are not constant, or leave those series out (--nan omit does not "
        "skip them)."
    )


def test_scaled_loss_without_train_names_the_option(
    tmp_path: Path, panel4: tuple[pd.DataFrame, pd.DataFrame, Path, Path]
) -> None:
    _, _, fc_csv, _ = panel4
    msg = refused(tmp_path, "eval", fc_csv, "-p", "model", "-l", "mase", *PANEL)
    assert "--train" in msg and "mase" in msg


@pytest.mark.parametrize("season", ["0", "1.5", "-4"])
def test_bad_season(
    tmp_path: Path, panel4: tuple[pd.DataFrame, pd.DataFrame, Path, Path], season: str
) -> None:
    _, _, fc_csv, hist_csv = panel4
    msg = refused(tmp_path, *scaled(fc_csv, hist_csv, season))
    assert "--season" in msg and season in msg


def test_series_column_missing_from_the_history(
    tmp_path: Path, panel4: tuple[pd.DataFrame, pd.DataFrame, Path, Path]
) -> None:
    hist, _, fc_csv, _ = panel4
    path = write_csv(hist.rename(columns={"unique_id": "item"}), tmp_path / "renamed.csv")
    msg = refused(tmp_path, *scaled(fc_csv, path, 4))
    assert f"column 'unique_id' not found in the history {path}" in msg
    assert "--series" in msg and "item" in msg


@pytest.mark.parametrize("time", ["int", "date_csv", "datetime_parquet"])
def test_duplicate_series_time_in_the_history(
    tmp_path: Path, panel4: tuple[pd.DataFrame, pd.DataFrame, Path, Path], time: str
) -> None:
    hist, fc, _, _ = panel4
    dup = sorted_panel(hist)
    dup = pd.concat([dup, dup.iloc[[7]]], ignore_index=True)  # row 8 again, as row len+1
    uid, ds = dup["unique_id"].iloc[7], dup["ds"].iloc[7]
    shown = str(ds)  # an integer time read as float64: shown as the file has it
    if time != "int":
        dup, fc = as_dates(dup), as_dates(fc)
        stamp = dup["ds"].iloc[7]
        # A CSV date is read as a date; a Parquet datetime64 as a timestamp.
        shown = str(stamp.date()) if time == "date_csv" else str(stamp)
    fc_path = write_csv(fc, tmp_path / "fc.csv")
    if time == "datetime_parquet":
        path = tmp_path / "dup.parquet"
        dup.to_parquet(path)
    else:
        path = tmp_path / "dup.csv"
        dup.to_csv(path)
    msg = refused(tmp_path, *scaled(fc_path, path, 4))
    assert msg.startswith(
        f"Error: the history {path}: series '{uid}' has two rows at time {shown}"
    ), msg
    assert f"(rows 8 and {len(dup)})" in msg


@pytest.mark.parametrize("chunk", [5, None], ids=["chunk5", "default"])
def test_nan_in_the_history_target(
    tmp_path: Path, panel4: tuple[pd.DataFrame, pd.DataFrame, Path, Path], chunk: int | None
) -> None:
    hist, fc, fc_csv, _ = panel4
    bad = sorted_panel(hist)
    bad.loc[[12, 30], "y"] = np.nan  # in different chunks of 5 rows: both are counted
    path = tmp_path / "nan.csv"
    bad.to_csv(path)
    extra = () if chunk is None else ("--chunk-size", chunk)
    msg = refused(tmp_path, *scaled(fc_csv, path, 4, *extra))
    assert f"column 'y' of the history {path} has 2 NaN, inf or empty values" in msg
    assert "first at row 13" in msg and "--nan omit" in msg
    doc = ok_json(tmp_path, *scaled(fc_csv, path, 4, "--nan", "omit", *extra))
    # The seasonal differences skip over the dropped rows, as on the history without them.
    assert_costs(costs(doc), reference(fc, bad.dropna(), 4))
    assert doc["n_dropped"] == 0 and doc["n_used"] == len(fc)
    notes = [w for w in doc["warnings"] if "history row(s)" in w]
    assert notes == [
        f"--nan omit dropped 2 history row(s) of {path} with NaN, inf or empty values; the "
        "seasonal differences skip over them."
    ]


def test_bad_history_value_names_the_history(
    tmp_path: Path, panel4: tuple[pd.DataFrame, pd.DataFrame, Path, Path]
) -> None:
    hist, _, fc_csv, _ = panel4
    bad = sorted_panel(hist).astype({"y": object})
    bad.loc[9, "y"] = "n/a?"
    path = tmp_path / "bad.csv"
    bad.to_csv(path)
    msg = refused(tmp_path, *scaled(fc_csv, path, 4))
    assert f"column 'y' of the history {path} must be numeric; found 'n/a?' at row 10" in msg


@pytest.mark.parametrize("where", ["history", "forecasts"])
def test_empty_time_value(
    tmp_path: Path, panel4: tuple[pd.DataFrame, pd.DataFrame, Path, Path], where: str
) -> None:
    hist, fc, fc_csv, hist_csv = panel4
    frame = sorted_panel(hist if where == "history" else fc).astype({"ds": object})
    frame.loc[6, "ds"] = None
    path = tmp_path / f"{where}.csv"
    frame.to_csv(path)
    args = scaled(path, hist_csv, 4) if where == "forecasts" else scaled(fc_csv, path, 4)
    msg = refused(tmp_path, *args)
    name = f"the history {path}" if where == "history" else str(path)
    assert msg == (
        f"Error: column 'ds' of {name} has an empty time at row 7; every row of a series "
        "needs its time (--time)."
    )


# -- warnings ----------------------------------------------------------------------------------


def test_history_out_of_order_across_chunks_is_sorted_whole(
    tmp_path: Path, panel4: tuple[pd.DataFrame, pd.DataFrame, Path, Path]
) -> None:
    hist, fc, fc_csv, hist_csv = panel4
    whole = ok_json(tmp_path, *scaled(fc_csv, hist_csv, 4))  # one chunk: sorted in memory
    assert whole["warnings"] == []
    res = run_lossctl(tmp_path, *scaled(fc_csv, hist_csv, 4, "--chunk-size", 6), "--json")
    assert res.returncode == 0, res.stderr
    doc = json.loads(res.stdout)
    note = (
        f"the history {hist_csv} is not in time order within each series: it was read whole "
        "into memory and sorted by --time (sort it by series and time to stream it)."
    )
    assert doc["warnings"] == [note]
    assert res.stderr.count("read whole into memory") == 1
    assert costs(doc) == pytest.approx(costs(whole), rel=REL)
    assert_costs(costs(doc), reference(fc, hist, 4))


def test_history_on_standard_input(
    tmp_path: Path, panel4: tuple[pd.DataFrame, pd.DataFrame, Path, Path]
) -> None:
    """Sorted, it streams from a pipe; out of order across chunks, it cannot be read again
    to sort it: a clear error, not "standard input is empty"."""
    hist, fc, fc_csv, hist_csv = panel4
    sorted_text = sorted_panel(hist).to_csv()
    args = ["lossctl", *map(str, scaled(fc_csv, "-", 4, "--chunk-size", 5))]
    res = subprocess.run([*args, "--json"], input=sorted_text, capture_output=True, text=True,
                         cwd=tmp_path, timeout=60)  # fmt: skip
    assert res.returncode == 0, res.stderr
    doc = json.loads(res.stdout)
    assert_costs(costs(doc), reference(fc, hist, 4))
    assert doc["forecast"]["train"] == "<stdin>"
    res = subprocess.run(args, input=hist_csv.read_text(), capture_output=True, text=True,
                         cwd=tmp_path, timeout=60)  # fmt: skip
    assert res.returncode == 2, res.stderr
    assert res.stderr.strip() == (
        "Error: the history <stdin> is not in time order within each series, and standard "
        "input cannot be read a second time to sort it: sort it by series and time first, "
        "or pass it as a file (--train FILE)."
    )


def test_per_sample_writes_the_scaled_errors(
    tmp_path: Path, panel4: tuple[pd.DataFrame, pd.DataFrame, Path, Path]
) -> None:
    hist, _, _, hist_csv = panel4
    _, fc = ragged_panel(11, 4)
    fc = sorted_panel(fc)  # in file order, so that the rows line up with the output
    path = tmp_path / "fc_sorted.csv"
    fc.to_csv(path)
    out = tmp_path / "scaled.csv"
    res = run_lossctl(tmp_path, *scaled(path, hist_csv, 4, "--per-sample", out))
    assert res.returncode == 0, res.stderr
    assert "--per-sample has no column for rmsse" in res.stderr
    rows = pd.read_csv(out)
    assert "rmsse" not in rows.columns and len(rows) == len(fc)
    y = hist.sort_values("ds")
    d = {u: g["y"].to_numpy()[4:] - g["y"].to_numpy()[:-4] for u, g in y.groupby("unique_id")}
    r = fc["y"] - fc["model"]
    s_abs = fc["unique_id"].map({u: np.abs(v).mean() for u, v in d.items()})
    s_sq = fc["unique_id"].map({u: (v * v).mean() for u, v in d.items()})
    np.testing.assert_allclose(rows["mase"], r.abs() / s_abs, rtol=1e-13)
    np.testing.assert_allclose(rows["msse"], r * r / s_sq, rtol=1e-13)


def test_train_without_scaled_losses_is_ignored_with_a_warning(
    tmp_path: Path, panel4: tuple[pd.DataFrame, pd.DataFrame, Path, Path]
) -> None:
    _, fc, fc_csv, hist_csv = panel4
    doc = ok_json(tmp_path, "eval", fc_csv, "-p", "model", "-l", "mae", "--train", hist_csv)
    assert doc["warnings"] == [
        "--train only matters for the scaled losses (mase, msse, rmsse), and none is "
        "evaluated; ignored."
    ]
    assert doc["losses"]["mae"]["cost"] == pytest.approx((fc["y"] - fc["model"]).abs().mean())
    assert doc.get("forecast") is None


# -- JSON --------------------------------------------------------------------------------------


def test_json_series_count_and_forecast_block(
    tmp_path: Path, panel4: tuple[pd.DataFrame, pd.DataFrame, Path, Path]
) -> None:
    _, fc, fc_csv, hist_csv = panel4
    doc = ok_json(tmp_path, *scaled(fc_csv, hist_csv, 4, "-l", "mae"))
    assert doc["forecast"] == {
        "series": "unique_id", "time": "ds", "train": str(hist_csv), "season": 4,
    }  # fmt: skip
    for key in LOSSES:
        assert doc["losses"][key]["series"] == fc["unique_id"].nunique() == 7
        assert doc["losses"][key]["n"] == len(fc)
    assert doc["losses"]["mae"].get("series") is None
    # rmsse's per-sample values are squared scaled errors: no spread in the cost's units.
    assert [doc["losses"]["rmsse"][s] for s in ("std", "min", "max")] == [None, None, None]
