"""The Python API on in-memory data: the same results as the CLI's JSON, for every sample
file and every kind of input (path, pandas, polars, Arrow table, Arrow stream, PyCapsule
stream, DuckDB relation, dict of arrays); reports, per-sample frames, errors, warnings."""

from __future__ import annotations

import json
import subprocess
import sys
import warnings
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pcsv
import pytest

import lossctl
from tests.conftest import SAMPLE_DATA, SAMPLE_OPTIONS, ok_json, sample_files

#: The CLI's short and long options of SAMPLE_OPTIONS as API keywords.
KEYWORDS = {"-p": "pred", "-t": "target", "--std": "std", "--kind": "kind"}


def api_options(stem: str) -> dict[str, Any]:
    """SAMPLE_OPTIONS of a sample file as keyword arguments (``-p a -p b`` -> a list)."""
    args = SAMPLE_OPTIONS.get(stem, ())
    out: dict[str, Any] = {}
    for flag, value in zip(args[::2], args[1::2], strict=True):
        key = KEYWORDS[flag]
        if key in ("pred", "target"):
            out.setdefault(key, []).append(value)
        else:
            out[key] = value
    return out


@cache
def cli_json(*args: str) -> dict[str, Any]:
    return ok_json(SAMPLE_DATA, *args, "--no-config")


def without_source(doc: dict[str, Any]) -> dict[str, Any]:
    """A result without the name of its input (a path for the CLI, 'the DataFrame' ...),
    also where a warning names it."""
    doc = dict(doc)
    source = doc.pop("source")
    text = json.dumps(doc)
    for name in (f"{source} (rows counted from 1)", source):
        text = text.replace(json.dumps(name)[1:-1], "<source>")
    return json.loads(text)  # type: ignore[no-any-return]


class Capsule:
    """Only the Arrow PyCapsule stream interface, as a third-party table offers it."""

    def __init__(self, table: pa.Table) -> None:
        self._table = table

    def __arrow_c_stream__(self, requested_schema: object = None) -> object:
        return self._table.__arrow_c_stream__(requested_schema)


def _arrow(path: Path) -> pa.Table:
    return pcsv.read_csv(path)


def _duckdb(path: Path) -> object:
    duckdb = pytest.importorskip("duckdb", reason="duckdb is not installed")
    return duckdb.from_arrow(_arrow(path))


def _polars(path: Path) -> object:
    pl = pytest.importorskip("polars", reason="polars is not installed")
    return pl.read_csv(path, infer_schema_length=None)


#: How each kind of input is made from a sample CSV, as a user would make it.
INPUTS: dict[str, Callable[[Path], object]] = {
    "path": str,
    "pathlib": lambda p: p,
    "pandas": lambda p: pd.read_csv(p),
    "polars": _polars,
    "arrow": _arrow,
    "batches": lambda p: _arrow(p).to_reader(max_chunksize=97),
    "capsule": lambda p: Capsule(_arrow(p)),
    "duckdb": _duckdb,
    "dict": lambda p: {c: col.to_numpy() for c, col in pd.read_csv(p).items()},
}


@pytest.mark.parametrize("kind", sorted(INPUTS))
@pytest.mark.parametrize("path", sample_files("csv"), ids=lambda p: p.stem)
def test_evaluate_equals_the_cli_json(path: Path, kind: str) -> None:
    expected = cli_json("eval", str(path), *SAMPLE_OPTIONS.get(path.stem, ()))
    data = INPUTS[kind](path)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", lossctl.LossctlWarning)
        report = lossctl.evaluate(data, **api_options(path.stem))
    got = report.to_dict()
    assert without_source(got) == without_source(expected)
    assert got["source"] == (str(path) if kind in ("path", "pathlib") else got["source"])
    assert json.loads(report.to_json()) == got


def test_evaluate_by_a_categorical_column_equals_the_cli(tmp_path: Path) -> None:
    df = pd.read_csv(SAMPLE_DATA / "diabetes_regression.csv")
    rng = np.random.default_rng(3)
    df["segment"] = pd.Categorical(rng.choice(["north", "south", "east"], len(df)))
    df = df[["segment", "y_pred", "y_true"]]  # columns in a surprising order
    df.index = [f"patient-{i}" for i in rng.permutation(len(df))]
    df.to_csv(tmp_path / "seg.csv")  # with its index, as pandas writes it
    expected = ok_json(
        tmp_path, "eval", "seg.csv", "--by", "segment", "-l", "mse,mae", "--no-config"
    )
    report = lossctl.evaluate(df, ["mse", "mae"], by="segment")
    assert without_source(report.to_dict()) == without_source(expected)
    # By hand: the mean squared error of each segment.
    err = (df.y_pred - df.y_true) ** 2
    for seg, group in err.groupby(df.segment, observed=True):
        assert report.cost("mse", seg) == pytest.approx(group.mean(), rel=1e-13)
    frame = report.to_frame()
    assert frame.shape == (6, 8)
    assert list(frame.index.names) == ["group", "loss"]
    assert frame.loc[("north", "mae"), "cost"] == report.cost("mae", "north")
    overall = report.to_frame(groups=False)
    assert list(overall.index) == ["mse", "mae"]
    assert overall.loc["mse", "cost"] == pytest.approx(err.mean(), rel=1e-13)


def test_forecast_with_a_dataframe_history_equals_the_cli() -> None:
    args = ("--series", "unique_id", "--time", "ds", "--season", "4", "-l", "mase,rmsse,mae")
    expected = cli_json(
        "eval", str(SAMPLE_DATA / "macro_forecasts.csv"), "-p", "HoltWinters", *args,
        "--train", str(SAMPLE_DATA / "macro_train.csv"),
    )  # fmt: skip
    forecasts = pd.read_parquet(SAMPLE_DATA / "macro_forecasts.parquet")
    train = pd.read_parquet(SAMPLE_DATA / "macro_train.parquet")
    report = lossctl.evaluate(
        forecasts.sample(frac=1.0, random_state=1),  # shuffled rows: the same cost
        ["mase", "rmsse", "mae"], pred="HoltWinters", series="unique_id", time="ds",
        train=train, season=4,
    )  # fmt: skip
    got = report.to_dict()
    for key in ("mase", "rmsse", "mae"):
        assert got["losses"][key]["cost"] == pytest.approx(
            expected["losses"][key]["cost"], rel=1e-12
        )
    assert got["signature"]["data"]["fingerprint"] == expected["signature"]["data"]["fingerprint"]
    assert got["forecast"]["train"] == "the train history"


def test_compare_dict_of_dataframes_equals_the_cli() -> None:
    ridge, gbr = (SAMPLE_DATA / f"diabetes_{m}.csv" for m in ("ridge", "gbr"))
    expected = cli_json("compare", str(ridge), str(gbr), "-l", "mse,mae", "--resamples", "500")
    frames = {m: pd.read_csv(p) for m, p in
              (("diabetes_ridge", ridge), ("diabetes_gbr", gbr))}  # fmt: skip
    report = lossctl.compare(frames, ["mse", "mae"], resamples=500)
    got = report.to_dict()
    for doc in (got, expected):
        for model in doc["models"].values():
            model.pop("source")
    assert got == expected
    frame = report.to_frame()
    assert frame.shape == (4, 10)
    assert frame.loc[("mse", "diabetes_ridge"), "cost"] == report.cost("mse")
    assert report.cost("mae", "diabetes_gbr") == got["losses"]["mae"]["costs"]["diabetes_gbr"]
    assert report.passed


def test_compare_one_frame_several_predictions_equals_the_cli() -> None:
    path = SAMPLE_DATA / "macro_forecasts.csv"
    train = SAMPLE_DATA / "macro_train.csv"
    opts = ("--series", "unique_id", "--time", "ds", "--season", "4", "-l", "mase,mae")
    expected = cli_json(
        "compare", str(path), "-p", "SeasonalNaive", "-p", "HoltWinters", *opts,
        "--train", str(train),
    )  # fmt: skip
    batches = pcsv.read_csv(path).to_reader(max_chunksize=10)  # a stream, read once
    report = lossctl.compare(
        batches, ["mase", "mae"], pred=["SeasonalNaive", "HoltWinters"], series="unique_id",
        time="ds", season=4, train=pd.read_csv(train),
    )  # fmt: skip
    got, want = report.to_dict(), expected
    for doc in (got, want):
        for model in doc["models"].values():
            model.pop("source")
        doc["signature"]["columns"].pop("train")
    assert got["losses"] == want["losses"]
    assert got["signature"] == want["signature"]


@pytest.mark.parametrize(
    "stem, options",
    [
        ("diabetes_regression", {}),
        ("breast_cancer_binary", {}),
        ("wine_multiclass", {}),
        ("diabetes_quantiles", {}),
    ],
)
def test_recommend_equals_the_cli(stem: str, options: dict[str, Any]) -> None:
    path = SAMPLE_DATA / f"{stem}.csv"
    expected = cli_json("recommend", str(path))
    report = lossctl.recommend(pd.read_csv(path), **options)
    assert without_source(report.to_dict()) == without_source(expected)
    frame = report.to_frame()
    assert list(frame.columns) == ["loss", "name", "cost", "reasons"]
    assert len(frame) == len(expected["recommendations"])
    first = expected["recommendations"][0]
    assert report.cost(first["loss"]) == pytest.approx(first["cost"], rel=1e-15)


# -- per_sample ---------------------------------------------------------------------------


def test_per_sample_is_on_the_dataframes_own_index(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    n = 1000
    df = pd.DataFrame({
        "y_pred": rng.normal(size=n), "y": rng.normal(size=n),
    }, index=pd.Index([f"id-{i}" for i in rng.permutation(n)], name="key"))  # fmt: skip
    df.iloc[[5, 17], 0] = np.nan
    out = lossctl.per_sample(df, ["mse", "mae"], target="y", nan="omit", chunk_size=64)
    assert list(out.columns) == ["mse", "mae"]
    kept = df.dropna()
    assert out.index.equals(kept.index)
    np.testing.assert_array_equal(out["mse"].to_numpy(), (kept.y_pred - kept.y).to_numpy() ** 2)
    np.testing.assert_array_equal(out["mae"], (kept.y_pred - kept.y).abs())
    # The CLI's --per-sample file of the same data holds the same values.
    df.to_csv(tmp_path / "d.csv")
    res = subprocess.run(
        ["lossctl", "eval", "d.csv", "-t", "y", "-l", "mse,mae", "--nan", "omit",
         "--per-sample", "rows.csv", "--quiet"],
        cwd=tmp_path, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert res.returncode == 0, res.stderr
    cli = pd.read_csv(tmp_path / "rows.csv")
    np.testing.assert_allclose(cli["mse"], out["mse"], rtol=1e-15)
    arrays = lossctl.per_sample(df, "mse", target="y", nan="omit", as_numpy=True)
    assert set(arrays) == {"mse", "row"}
    np.testing.assert_array_equal(arrays["mse"], out["mse"].to_numpy())
    assert arrays["row"].tolist() == [i for i in range(n) if i not in (5, 17)]


def test_per_sample_of_a_table_is_on_positions_and_leaves_out_rmse() -> None:
    table = pa.table({"y_true": [1.0, 2.0, 3.0], "y_pred": [1.5, 2.0, 5.0]})
    with pytest.warns(lossctl.LossctlWarning, match="no column for rmse"):
        out = lossctl.per_sample(table, ["mse", "rmse"])
    assert list(out.columns) == ["mse"]
    assert out.index.tolist() == [0, 1, 2]
    assert out["mse"].tolist() == [0.25, 0.0, 4.0]


def test_per_sample_in_parallel_parts_keeps_the_order() -> None:
    rng = np.random.default_rng(1)
    n = 2_500_000  # several parts of 2**20 rows, evaluated on threads
    df = pd.DataFrame({"y_true": rng.normal(size=n), "y_pred": rng.normal(size=n)},
                      index=rng.permutation(n))  # fmt: skip
    out = lossctl.per_sample(df, "mae", workers=2)
    assert out.index.equals(df.index)
    np.testing.assert_array_equal(out["mae"].to_numpy(), np.abs(df.y_pred - df.y_true).to_numpy())


# -- options, errors, warnings --------------------------------------------------------------


def test_max_as_dict_and_list_are_the_same_gate() -> None:
    df = pd.read_csv(SAMPLE_DATA / "diabetes_regression.csv")
    as_dict = lossctl.evaluate(df, max={"mae": 40, "mse": 1e9})
    as_list = lossctl.evaluate(df, max=["mae=40", "mse=1e9"])
    mse = float(((df.y_pred - df.y_true) ** 2).mean())
    as_text = lossctl.evaluate(df, max=f"mse={mse * 1.001}")
    assert as_dict.to_dict()["gate"] == as_list.to_dict()["gate"]
    assert not as_dict.passed  # mae is 43.3 on this file
    assert as_dict.to_dict()["gate"]["failures"][0]["loss"] == "mae"
    assert as_text.passed
    with pytest.raises(lossctl.UsageError, match="must be a number"):
        lossctl.evaluate(df, max={"mse": [1]})


def test_bce_gate_with_a_dict() -> None:
    df = pd.read_csv(SAMPLE_DATA / "breast_cancer_binary.csv")
    report = lossctl.evaluate(df, "bce", max={"bce": 0.1})
    assert report.passed == (report.cost("bce") <= 0.1)


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda: lossctl.evaluate(pd.DataFrame({"y_true": [1.0], "y_pred": ["a"]})), "y_pred"),
        (lambda: lossctl.evaluate(pd.DataFrame({"a": [1.0]})), "no prediction column"),
        (lambda: lossctl.evaluate(pd.DataFrame({"y_true": [], "y_pred": []})), "no rows"),
        (lambda: lossctl.evaluate(pd.DataFrame({"y_true": [np.nan], "y_pred": [1.0]})), "row 1"),
        (lambda: lossctl.evaluate({"y_true": [1, 2], "y_pred": [1.0]}), "differ in length"),
        (lambda: lossctl.evaluate({"y_true": np.ones((2, 2)), "y_pred": [1, 2]}), "shape"),
        (lambda: lossctl.evaluate([1, 2, 3]), "not one table"),
        (lambda: lossctl.evaluate(object()), "cannot read"),
        (lambda: lossctl.evaluate(pd.Series([1.0])), "not one Series"),
        (lambda: lossctl.evaluate("no/such/file.csv"), "not found"),
        (lambda: lossctl.evaluate({"y_true": [1.0], "y_pred": [1.0]}, "nope"), "unknown loss"),
        (lambda: lossctl.evaluate({"y_true": [0, 1], "y_pred": [0.5, 1.5]}, "bce"), "row 2"),
        (lambda: lossctl.evaluate({"y_true": [1.0], "y_pred": [1.0]}, nan="drop"), "--nan"),
        (lambda: lossctl.compare({"y_true": [1.0], "y_pred": [1.0]}), "at least two models"),
        (lambda: lossctl.evaluate({"y_true": [1.0], "y_pred": [1.0]}, chunk_size=0.5), "chunk"),
    ],
)
def test_errors_are_lossctl_errors_and_value_errors(
    call: Callable[[], object], match: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(lossctl.LossctlError, match=match) as info:
        call()
    assert isinstance(info.value, ValueError)
    assert capsys.readouterr() == ("", "")


def test_a_row_number_names_the_dataframe_and_counts_from_one() -> None:
    df = pd.DataFrame({"y_true": [0, 1, 1], "y_pred": [0.2, 1.4, 0.7]}, index=["a", "b", "c"])
    with pytest.raises(lossctl.InputError) as info:
        lossctl.evaluate(df, "bce")
    assert "of the DataFrame (rows counted from 1)" in str(info.value)
    assert "row 2" in str(info.value)
    with pytest.raises(lossctl.InputError, match="of my preds"):
        lossctl.evaluate(df, "bce", name="my preds")


def test_nothing_is_printed_and_warnings_are_python_warnings(
    capsys: pytest.CaptureFixture[str],
) -> None:
    df = pd.DataFrame({"y_true": [1.0, 2.0, np.nan], "y_pred": [1.0, 2.5, 3.0]})
    with pytest.warns(lossctl.LossctlWarning, match="dropped 1 of 3 rows"):
        report = lossctl.evaluate(df, "mse", nan="omit")
    assert report.warnings == ("--nan omit dropped 1 of 3 rows.",)
    assert report.to_dict()["warnings"] == list(report.warnings)
    assert "warning: --nan omit dropped 1 of 3 rows." in repr(report)
    assert capsys.readouterr() == ("", "")


def test_repr_and_html_show_the_table_and_mark_significance() -> None:
    df = pd.read_csv(SAMPLE_DATA / "diabetes_regression.csv")
    df["worse"] = df.y_pred + 30.0
    report = lossctl.compare(df, "mae", pred=["y_pred", "worse"], resamples=200)
    text = repr(report)
    assert "y_pred" in text and "(baseline)" in text and "*" in text
    html = report._repr_html_()
    assert html.startswith('<pre class="lossctl-report"') and "worse" in html
    assert "<span" in html  # styled cells
    evaluation = lossctl.evaluate(df, ["mse", "mae"])
    assert "mae" in repr(evaluation) and "signature:" in repr(evaluation)
    assert "mae" in evaluation._repr_html_()


def test_report_fields_read_through() -> None:
    report = lossctl.evaluate({"y_true": [1.0, 3.0], "y_pred": [2.0, 3.0]}, "mse,mae")
    assert report.task == "regression"
    assert report.n_used == 2
    assert report.losses["mae"].cost == 0.5 == report.cost("mae")
    assert report.source == "the dict of arrays"
    with pytest.raises(lossctl.UsageError, match="no loss 'rmse'"):
        report.cost("rmse")
    with pytest.raises(lossctl.UsageError, match="no by= groups"):
        report.cost("mse", "north")


def test_a_stream_is_read_once() -> None:
    reader = pa.table({"y_true": [1.0], "y_pred": [2.0]}).to_reader()
    assert lossctl.evaluate(reader, "mse").cost("mse") == 1.0
    with pytest.raises(lossctl.InputError, match="read once"):
        lossctl.evaluate(reader, "mse")


def test_polars_lazy_frame_and_string_view_columns() -> None:
    pl = pytest.importorskip("polars", reason="polars is not installed")
    lazy = pl.LazyFrame({"label": ["cat", "dog", "cat"], "prob_cat": [0.9, 0.2, 0.6],
                         "prob_dog": [0.1, 0.8, 0.4]})  # fmt: skip
    report = lossctl.evaluate(lazy, "cross_entropy", target="label", pred="prob_*")
    assert report.task == "multiclass"
    assert report.cost("cross_entropy") == pytest.approx(
        -np.mean(np.log([0.9, 0.8, 0.6])), rel=1e-15
    )


def test_api_keywords_are_the_options_fields() -> None:
    """Every option of the CLI's option objects is a keyword of the function (no drift)."""
    import inspect
    from dataclasses import fields

    from lossctl.options import CompareOptions, EvalOptions

    internal = {"path", "files"}
    # per_sample returns the values: no gates, no file, the local engine.
    returned = {"max", "max_group", "baseline", "tolerance", "allow_missing", "per_sample",
                "force", "engine", "scheduler"}  # fmt: skip
    for func, options, left_out in (
        (lossctl.evaluate, EvalOptions, set()),
        (lossctl.compare, CompareOptions, set()),
        (lossctl.per_sample, EvalOptions, returned),
    ):
        params = set(inspect.signature(func).parameters)
        wanted = {f.name for f in fields(options)} - internal - left_out
        assert wanted <= params, (func.__name__, wanted - params)


def test_import_lossctl_is_cheap() -> None:
    code = (
        "import sys, lossctl\n"
        "lossctl.evaluate, lossctl.EvalReport\n"
        "print(sorted(m for m in ('numpy', 'pyarrow', 'pandas', 'scipy', 'rich', 'typer', "
        "'polars') if m in sys.modules))"
    )
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert res.returncode == 0, res.stderr
    assert res.stdout.strip() == "[]"


def test_py_typed_marker_is_shipped() -> None:
    assert (Path(lossctl.__file__).parent / "py.typed").is_file()


def test_the_dask_engine_refuses_in_memory_data() -> None:
    df = pd.DataFrame({"y_true": [1.0, 2.0], "y_pred": [1.0, 2.5]})
    with pytest.raises(lossctl.UsageError, match="local engine"):
        lossctl.evaluate(df, "mse", engine="dask")
    with pytest.raises(lossctl.UsageError, match="local engine"):
        lossctl.compare({"a": df, "b": df}, "mse", engine="dask")


def _series_kinds() -> list[Callable[[list[float]], object]]:
    kinds: list[Callable[[list[float]], object]] = [
        list, tuple, np.array, pd.Series,
        lambda v: np.asarray(v, dtype=np.float32),
        lambda v: pd.Series(v, dtype="Float64"),
        lambda v: pa.array(v),
        lambda v: np.asarray(v).reshape(-1, 1),  # Keras' predict: (n, 1)
    ]  # fmt: skip
    try:
        import polars as pl
    except ImportError:  # pragma: no cover - polars is a test dependency
        return kinds
    return [*kinds, pl.Series]


@pytest.mark.parametrize("make", _series_kinds())
def test_get_loss_takes_array_likes(make: Callable[[list[float]], object]) -> None:
    y, p = [1.0, 2.0, 4.0], [1.5, 2.0, 3.0]
    mse = lossctl.get_loss("mse")
    # By hand: (0.25 + 0 + 1) / 3; float32 holds these values exactly.
    assert mse.cost(make(y), make(p)) == pytest.approx(1.25 / 3, rel=1e-15)
    assert mse.per_sample(make(y), make(p)).tolist() == [0.25, 0.0, 1.0]


def test_get_loss_integer_and_bool_labels() -> None:
    bce = lossctl.get_loss("bce")
    labels = [True, False, True]
    probs = [0.9, 0.2, 0.6]
    expected = -np.mean(np.log([0.9, 0.8, 0.6]))
    for y in (labels, np.array(labels, dtype=np.int8), np.array(labels, dtype=np.uint64),
              pd.Series(labels)):  # fmt: skip
        assert bce.cost(y, probs) == pytest.approx(expected, rel=1e-15)


@pytest.mark.parametrize(
    "y, p, match",
    [
        ([1.0, 2.0], [1.0, 2.0, 3.0], "shape"),
        (np.ones((3, 2)), np.ones(3), "shape"),
        (["a", "b"], [1.0, 2.0], "must be numbers"),
        (pd.Series(["a", "b"]), [1.0, 2.0], "must be numbers"),
    ],
)
def test_get_loss_refuses_mismatches_and_text(y: object, p: object, match: str) -> None:
    with pytest.raises(lossctl.LossctlError, match=match) as info:
        lossctl.get_loss("mse").cost(y, p)
    assert isinstance(info.value, ValueError)


def test_get_loss_domain_errors_are_the_clis() -> None:
    with pytest.raises(lossctl.DomainError, match=r"probability in \[0, 1\]; 1 bad row") as info:
        lossctl.get_loss("bce").cost(pd.Series([0, 1]), pd.Series([0.5, 1.5]))
    assert isinstance(info.value, ValueError)


def test_a_named_index_is_a_column_as_to_csv_writes_it(tmp_path: Path) -> None:
    df = pd.read_csv(SAMPLE_DATA / "diabetes_regression.csv", index_col="id")
    ridge = df[["y_true", "y_pred"]]
    gbr = df[["y_true", "y_pred_gbr"]].rename(columns={"y_pred_gbr": "y_pred"})
    gbr = gbr.sample(frac=1.0, random_state=0)  # another row order: aligned by the id
    ridge.to_csv(tmp_path / "ridge.csv")
    gbr.to_csv(tmp_path / "gbr.csv")
    args = ("compare", "ridge.csv", "gbr.csv", "--id", "id", "-l", "mse", "--resamples", "300")
    expected = ok_json(tmp_path, *args, "--no-config")
    report = lossctl.compare({"ridge": ridge, "gbr": gbr}, "mse", id="id", resamples=300)
    assert report.to_dict()["losses"] == expected["losses"]
    assert report.cost("mse", "gbr") == pytest.approx(
        float(((df.y_pred_gbr - df.y_true) ** 2).mean()), rel=1e-13
    )
    rows = lossctl.per_sample(gbr, "mae", id="id")
    assert rows.index.name == "id" and rows.index.tolist() == gbr.index.tolist()
