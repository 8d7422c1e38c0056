"""The Dask engine and datasets: same results as the local engine, same errors.

A real ``distributed.LocalCluster`` with two worker processes on loopback is
started once for the module.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from lossctl.cli import app
from tests.conftest import SAMPLE_DATA, close, sample_args, sample_files

distributed = pytest.importorskip("distributed")


@pytest.fixture(scope="module")
def scheduler():
    import logging

    cluster = distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
        dashboard_address=None, silence_logs=logging.CRITICAL,
    )  # fmt: skip
    yield cluster.scheduler_address
    cluster.close()


def run_json(runner, *args):
    res = runner.invoke(app, [*map(str, args), "--json"])
    assert res.exit_code == 0, res.output
    return json.loads(res.stdout)


def assert_same(a: dict, b: dict) -> None:
    assert a["n_used"] == b["n_used"] and a["n_rows"] == b["n_rows"]
    for key, s in a["losses"].items():
        for stat in ("cost", "sum", "std", "min", "max"):
            assert b["losses"][key][stat] == close(s[stat]), (key, stat)
    for g, gs in a.get("groups", {}).items():
        for key, s in gs["losses"].items():
            assert b["groups"][g]["losses"][key]["cost"] == pytest.approx(s["cost"], rel=1e-12)


@pytest.mark.parametrize("path", sample_files("csv"), ids=lambda p: p.name)
def test_every_sample_file_same_as_local(runner, scheduler, path):
    local = run_json(runner, "eval", *sample_args(path))
    dask = run_json(
        runner, "eval", *sample_args(path), "--engine", "dask", "--scheduler", scheduler
    )
    assert_same(local, dask)


@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    """The diabetes predictions cut into 9 Parquet files under hive folders batch=0..2."""
    root = tmp_path_factory.mktemp("ds")
    df = pd.read_csv(SAMPLE_DATA / "diabetes_regression.csv")
    df["w"] = np.random.default_rng(0).uniform(0, 2, len(df))
    for i, part in df.groupby(df.index // 50):
        folder = root / f"batch={i % 3}"
        folder.mkdir(exist_ok=True)
        part.to_parquet(folder / f"part-{i:02d}.parquet", index=False)
    (root / "_SUCCESS").write_text("")
    return root, df


def test_dataset_grouped_weighted_same_as_local(runner, scheduler, dataset):
    root, df = dataset
    args = ["eval", root, "-l", "mse,rmse,huber:delta=20", "-w", "w", "--by", "batch"]
    local = run_json(runner, *args)
    dask = run_json(runner, *args, "--engine", "dask", "--scheduler", scheduler)
    assert_same(local, dask)
    assert set(local["groups"]) == {"0", "1", "2"}
    assert local["n_used"] == len(df)
    assert local["losses"]["mse"]["cost"] == pytest.approx(
        np.average((df.y_pred - df.y_true) ** 2, weights=df.w), rel=1e-12
    )
    by_sex = run_json(
        runner, "eval", root, "--by", "sex", "--engine", "dask", "--scheduler", scheduler
    )
    assert set(by_sex["groups"]) == {"sex_1", "sex_2"}


def test_glob_dataset(runner, dataset):
    root, df = dataset
    doc = run_json(runner, "eval", f"{root}/batch=1/*.parquet", "-l", "mae")
    rows = df[(df.index // 50) % 3 == 1]
    assert doc["n_used"] == len(rows)
    assert doc["losses"]["mae"]["cost"] == pytest.approx((rows.y_pred - rows.y_true).abs().mean())


def test_fsspec_url_dataset(runner):
    import fsspec

    fs = fsspec.filesystem("memory")
    df = pd.read_csv(SAMPLE_DATA / "diabetes_regression.csv")
    for i in range(3):
        with fs.open(f"/preds/part-{i}.csv", "wb") as f:
            f.write(df.iloc[i * 150 : (i + 1) * 150].to_csv(index=False).encode())
    doc = run_json(runner, "eval", "memory://preds/", "-l", "mse")
    assert doc["n_used"] == 442
    assert doc["losses"]["mse"]["cost"] == pytest.approx(((df.y_pred - df.y_true) ** 2).mean())


def test_missing_fsspec_backend_names_the_package(runner):
    res = runner.invoke(app, ["eval", "s3://no-such-bucket/preds/"])
    assert res.exit_code == 2
    assert "s3fs" in res.stderr and "pip install" in res.stderr


@pytest.mark.parametrize("engine", ["local", "dask"])
def test_bad_value_in_part_7_names_the_file_and_row(runner, scheduler, tmp_path, engine):
    df = pd.read_csv(SAMPLE_DATA / "diabetes_regression.csv")
    for i, part in df.groupby(df.index // 50):
        part = part.astype({"y_pred": object})
        if i == 7:
            part.iloc[11, part.columns.get_loc("y_pred")] = "oops"
        part.to_csv(tmp_path / f"part-{i}.csv", index=False)
    extra = ["--engine", "dask", "--scheduler", scheduler] if engine == "dask" else []
    res = runner.invoke(app, ["eval", str(tmp_path), *extra])
    assert res.exit_code == 2, res.output
    assert res.stderr.strip() == (
        f"Error: column 'y_pred' of {tmp_path / 'part-7.csv'} must be numeric; found 'oops' at "
        "row 12. Fix the value, or pick another column."
    )


def test_nan_in_a_part_on_dask_counts_every_part(runner, scheduler, tmp_path):
    df = pd.read_csv(SAMPLE_DATA / "diabetes_regression.csv")
    df.loc[[10, 300], "y_pred"] = np.nan
    for i, part in df.groupby(df.index // 100):
        part.to_parquet(tmp_path / f"p{i}.parquet", index=False)
    res = runner.invoke(app, ["eval", str(tmp_path), "--engine", "dask", "--scheduler", scheduler])
    assert res.exit_code == 2
    assert "2 rows of" in res.stderr and f"{tmp_path / 'p0.parquet'}:11" in res.stderr
    doc = run_json(
        runner, "eval", tmp_path, "--engine", "dask", "--scheduler", scheduler, "--nan", "omit"
    )
    assert doc["n_dropped"] == 2 and doc["n_used"] == 440


def test_big_csv_byte_ranges_on_dask(runner, scheduler, tmp_path, monkeypatch):
    from lossctl.inputs import readers

    monkeypatch.setattr(readers, "PARALLEL_MIN_BYTES", 0)
    monkeypatch.setattr(readers, "PART_BYTES", 4000)
    df = pd.read_csv(SAMPLE_DATA / "diabetes_regression.csv")
    path = tmp_path / "one.csv"
    df.to_csv(path, index=False)
    local = run_json(runner, "eval", path, "--by", "sex")
    dask = run_json(
        runner, "eval", path, "--by", "sex", "--engine", "dask", "--scheduler", scheduler
    )
    assert_same(local, dask)
    bad = df.astype({"y_pred": object})
    bad.iloc[400, bad.columns.get_loc("y_pred")] = "x"
    bad.to_csv(path, index=False)
    res = runner.invoke(app, ["eval", str(path), "--engine", "dask", "--scheduler", scheduler])
    assert res.exit_code == 2 and "found 'x' at row 401." in res.stderr


def test_per_sample_writes_a_partitioned_dataset(runner, scheduler, dataset, tmp_path):
    root, df = dataset
    out = tmp_path / "per_sample"
    res = runner.invoke(
        app,
        [
            "eval",
            str(root),
            "-l",
            "mae",
            "--per-sample",
            str(out),
            "--engine",
            "dask",
            "--scheduler",
            scheduler,
            "-q",
        ],
    )
    assert res.exit_code == 0, res.output
    parts = sorted(out.glob("part-*.parquet"))
    assert len(parts) == 9
    got = pd.concat([pd.read_parquet(p) for p in parts])
    assert len(got) == len(df) and {"file", "row_1based", "mae"} <= set(got.columns)
    np.testing.assert_allclose(np.sort(got.mae), np.sort((df.y_pred - df.y_true).abs()))


@pytest.mark.parametrize("test", ["ttest", "dm", "none"])
def test_compare_on_dask_same_as_local(runner, scheduler, dataset, test):
    root, _ = dataset
    args = [
        "compare",
        root,
        "-p",
        "y_pred",
        "-p",
        "y_pred_gbr",
        "-l",
        "mse,rmse,mae",
        "--test",
        test,
        "--horizon",
        "2",
    ]
    local = run_json(runner, *args)
    dask = run_json(runner, *args, "--engine", "dask", "--scheduler", scheduler)
    for key, comp in local["losses"].items():
        other = dask["losses"][key]
        for name, cost in comp["costs"].items():
            assert other["costs"][name] == pytest.approx(cost, rel=1e-12)
        for name, v in comp["vs_baseline"].items():
            w = other["vs_baseline"][name]
            for field in ("delta", "p_value", "win_rate"):
                if v[field] is None:  # --test none: no p-value on either engine
                    assert w[field] is None, (key, field)
                else:
                    assert w[field] == pytest.approx(v[field], rel=1e-9), (key, field)
            if v["ci"] is not None:
                assert w["ci"] == pytest.approx(v["ci"], rel=1e-9)


def test_bootstrap_on_dask_is_refused_with_the_alternatives(runner, scheduler, dataset):
    root, _ = dataset
    res = runner.invoke(
        app,
        [
            "compare",
            str(root),
            "-p",
            "y_pred",
            "-p",
            "y_pred_gbr",
            "--engine",
            "dask",
            "--scheduler",
            scheduler,
        ],
    )
    assert res.exit_code == 2
    assert "--test ttest, dm or none" in res.stderr


def test_unreachable_scheduler_fails_fast(runner):
    t0 = time.monotonic()
    res = runner.invoke(
        app,
        [
            "eval",
            str(SAMPLE_DATA / "diabetes_regression.csv"),
            "--engine",
            "dask",
            "--scheduler",
            "tcp://127.0.0.1:9",
        ],
    )
    assert res.exit_code == 2
    assert "cannot reach the Dask scheduler at tcp://127.0.0.1:9" in res.stderr
    assert time.monotonic() - t0 < 15


def test_scheduler_from_the_environment_is_read_by_the_cli(runner, monkeypatch):
    from lossctl.engines import dask_engine

    monkeypatch.setenv("DASK_SCHEDULER_ADDRESS", "tcp://127.0.0.1:9")
    res = runner.invoke(
        app, ["eval", str(SAMPLE_DATA / "diabetes_regression.csv"), "--engine", "dask"]
    )
    assert res.exit_code == 2
    assert "cannot reach the Dask scheduler at tcp://127.0.0.1:9" in res.stderr
    # The engine itself reads no environment: without an address it starts a local
    # cluster whatever DASK_SCHEDULER_ADDRESS says.
    import types

    class Started(Exception):
        pass

    def local_cluster(**kw):
        raise Started("local")

    fake = types.SimpleNamespace(LocalCluster=local_cluster, Client=None)
    monkeypatch.setattr(dask_engine, "_require_dask", lambda: fake)
    # (A failed start closes the cluster it half-started: here there is none.)
    monkeypatch.setattr(dask_engine, "_drop_half_started_clusters", lambda before: None)
    with pytest.raises(Started, match="local"), dask_engine.client(None):
        pass


def test_missing_dask_names_the_extra(runner, monkeypatch):
    monkeypatch.setitem(sys.modules, "distributed", None)
    res = runner.invoke(
        app, ["eval", str(SAMPLE_DATA / "diabetes_regression.csv"), "--engine", "dask"]
    )
    assert res.exit_code == 2
    assert 'pip install "lossctl[dask]"' in res.stderr


def test_local_engine_never_imports_dask():
    import subprocess

    code = (
        "import sys; import lossctl; "
        f"lossctl.evaluate(r'{SAMPLE_DATA / 'diabetes_regression.csv'}'); "
        "print(sorted(m for m in ('dask', 'distributed', 'fsspec') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_engine_from_config(runner, tmp_path, monkeypatch):
    # The config's engine and scheduler are used: this address does not answer.
    (tmp_path / "lossctl.toml").write_text('engine = "dask"\nscheduler = "tcp://127.0.0.1:9"\n')
    monkeypatch.chdir(tmp_path)
    res = runner.invoke(app, ["eval", str(SAMPLE_DATA / "diabetes_regression.csv")])
    assert res.exit_code == 2
    assert "cannot reach the Dask scheduler at tcp://127.0.0.1:9" in res.stderr
    # The command line wins over the config file.
    doc = run_json(runner, "eval", SAMPLE_DATA / "diabetes_regression.csv", "--engine", "local")
    assert doc["n_used"] == 442


def test_plugin_loss_runs_on_dask_workers(runner, scheduler):
    # The plugin module exists only in this process: it is shipped to the workers by value.
    plugin = Path(__file__).resolve().parent.parent / "examples" / "my_losses.py"
    args = [
        "eval",
        SAMPLE_DATA / "diabetes_regression.csv",
        "--plugin",
        plugin,
        "-l",
        "asymmetric_mse:under=3",
    ]
    local = run_json(runner, *args)
    dask = run_json(runner, *args, "--engine", "dask", "--scheduler", scheduler)
    assert_same(local, dask)


def test_dask_checks_what_only_all_parts_tell(runner, scheduler, tmp_path):
    """The checks that need every row (a --pos-label absent from the data, probabilities
    clipped, hard 0/1 predictions) run on Dask as on the local engine."""
    df = pd.read_csv(SAMPLE_DATA / "breast_cancer_binary.csv")
    df["animal"] = np.where(df["y_true"] == 1, "dog", "cat")
    df.loc[300, "prob"] = 1 + 1e-12  # float rounding in someone's pipeline
    for i, part in df.groupby(df.index // 200):
        part.to_parquet(tmp_path / f"p{i}.parquet", index=False)
    dask = ["--engine", "dask", "--scheduler", scheduler]
    for engine in (dask, ["--engine", "local"]):  # local: parts read in parallel threads
        res = runner.invoke(
            app,
            ["eval", str(tmp_path), "-t", "animal", "-p", "prob", "--pos-label", "Dog", *engine],
        )
        assert res.exit_code == 2, res.output
        assert "--pos-label 'Dog' is not a label" in res.stderr and "'cat', 'dog'" in res.stderr
    args = ("eval", tmp_path, "-t", "animal", "-p", "prob", "--pos-label", "dog")
    local = run_json(runner, *args)
    remote = run_json(runner, *args, *dask)
    assert remote["losses"]["bce"]["cost"] == pytest.approx(local["losses"]["bce"]["cost"])
    assert remote["warnings"] == local["warnings"]
    where = f"row 101 of {tmp_path / 'p1.parquet'})"
    assert any("clipped into [0, 1]" in w and where in w for w in remote["warnings"])


def test_dask_and_threads_number_a_clipped_row_in_the_file(
    runner, scheduler, tmp_path, monkeypatch
):
    from lossctl.inputs import readers

    monkeypatch.setattr(readers, "PARALLEL_MIN_BYTES", 0)
    monkeypatch.setattr(readers, "PART_BYTES", 4000)  # several parts: rows counted per part
    df = pd.read_csv(SAMPLE_DATA / "breast_cancer_binary.csv")
    df.loc[450, "prob"] = 1 + 1e-12
    path = tmp_path / "one.csv"
    df.to_csv(path, index=False)
    for engine in (["--engine", "dask", "--scheduler", scheduler], []):
        doc = run_json(runner, "eval", path, "-p", "prob", *engine)
        assert [w for w in doc["warnings"] if "clipped" in w] == [
            f"1 row(s) of prob have probabilities within 1e-09 outside [0, 1] (float rounding; "
            f"first at row 451 of {path}); clipped into [0, 1]."
        ]


# -- the prediction layouts ------------------------------------------------------------


def test_layouts_same_as_local_with_diagnostics_and_outputs(runner, scheduler, tmp_path):
    """Quantile diagnostics, per-output costs and a ratio loss merge across Dask parts."""
    frame = pd.concat([pd.read_csv(SAMPLE_DATA / "diabetes_quantiles.csv")] * 30)
    path = tmp_path / "q.csv"
    frame.to_csv(path, index=False)
    dask_args = ("--engine", "dask", "--scheduler", scheduler, "--chunk-size", "997")
    local = run_json(runner, "eval", path, "-l", "quantile,wis,interval_score:coverage=0.5")
    dask = run_json(runner, "eval", path, "-l", "quantile,wis,interval_score:coverage=0.5",
                    *dask_args)  # fmt: skip
    assert_same(local, dask)
    assert dask["diagnostics"]["coverage"] == pytest.approx(
        local["diagnostics"]["coverage"], rel=1e-12
    )
    assert dask["warnings"] == local["warnings"]
    lin = SAMPLE_DATA / "linnerud_multioutput.parquet"
    args = ("-t", "y_*", "-p", "pred_*", "-l", "rmse,wape,mae")
    local = run_json(runner, "eval", lin, *args)
    dask = run_json(runner, "eval", lin, *args, *dask_args)
    assert_same(local, dask)
    for key in ("rmse", "wape"):
        assert dask["losses"][key]["outputs"] == pytest.approx(
            local["losses"][key]["outputs"], rel=1e-12
        )


def test_compare_layouts_on_dask_same_as_local(runner, scheduler, tmp_path):
    frame = pd.read_csv(SAMPLE_DATA / "linnerud_multioutput.csv")
    for n in ("Weight", "Waist", "Pulse"):
        frame[f"flat_{n}"] = frame[f"y_{n}"].mean()
    path = tmp_path / "two.csv"
    pd.concat([frame] * 50).to_csv(path, index=False)
    args = ("compare", path, "-t", "y_*", "-p", "pred_*", "-p", "flat_*", "-l", "rmse,mae",
            "--test", "ttest")  # fmt: skip
    on_dask = ("--engine", "dask", "--scheduler", scheduler)
    local = run_json(runner, *args)
    dask = run_json(runner, *args, *on_dask)
    for key in ("rmse", "mae"):
        lc, dc = local["losses"][key], dask["losses"][key]
        assert dc["costs"] == pytest.approx(lc["costs"], rel=1e-12)
        lv, dv = lc["vs_baseline"]["flat"], dc["vs_baseline"]["flat"]
        assert dv["delta"] == pytest.approx(lv["delta"], rel=1e-12)
        assert dv["p_value"] == pytest.approx(lv["p_value"], rel=1e-9, abs=1e-300)
        assert (dv["ci"] is None) == (key == "rmse")
        assert dv["win_rate"] == pytest.approx(lv["win_rate"])
    # wape over K outputs weighs each output by its total: not a mergeable t statistic.
    ratio = ("compare", path, "-t", "y_*", "-p", "pred_*", "-p", "flat_*", "-l", "wape")
    res = runner.invoke(app, [*map(str, ratio), "--test", "ttest", *on_dask])
    assert res.exit_code == 2 and "over 3 outputs" in res.stderr
    costs = run_json(runner, *ratio, "--test", "none", *on_dask)
    local = run_json(runner, *ratio, "--test", "none")
    assert costs["losses"]["wape"]["costs"] == pytest.approx(local["losses"]["wape"]["costs"])
