"""``lossctl eval``: formats, columns, tasks, weights, groups, outputs, gates and errors.

Reference numbers are computed in the tests with scikit-learn / numpy on the same
data the command reads.
"""

from __future__ import annotations

import gzip
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn import metrics

from lossctl.cli import app
from tests.conftest import SAMPLE_DATA, close, sample_args, sample_files

REG = SAMPLE_DATA / "diabetes_regression.csv"
BIN = SAMPLE_DATA / "breast_cancer_binary.csv"
WINE = SAMPLE_DATA / "wine_multiclass.csv"
IRIS = SAMPLE_DATA / "iris_multiclass_logits.csv"


def ev(runner, *args: str, input: str | bytes | None = None):
    return runner.invoke(app, ["eval", *map(str, args)], input=input)


def ev_json(runner, *args: str, input: str | bytes | None = None) -> dict:
    res = ev(runner, *args, "--json", input=input)
    assert res.exit_code == 0, res.output
    return json.loads(res.stdout)


def cost(doc: dict, key: str) -> float:
    return doc["losses"][key]["cost"]


# --- every sample file ----------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    sample_files("csv") + sample_files("parquet"),
    ids=lambda p: p.name,
)
def test_every_sample_file_with_default_losses(runner, path):
    doc = ev_json(runner, *sample_args(path))
    small = {"linnerud_multioutput": 20, "macro_forecasts": 64}  # 20 athletes; 8 series x 8
    assert doc["n_used"] == doc["n_rows"] >= small.get(path.stem, 100)
    assert doc["losses"] and all(v["cost"] is not None for v in doc["losses"].values())
    layouts = {
        "quantiles": ["quantile", "wis", "interval_score"],
        "gaussian": ["crps_gaussian", "gaussian_nll"],
        "ensemble": ["crps_ensemble", "crps_ensemble:estimator=fair"],
    }
    expected = (
        layouts.get(doc["prediction_kind"])
        or {
            "regression": ["mse", "rmse", "mae", "huber"],
            "multilabel": ["bce", "brier", "zero_one", "subset_zero_one"],
            "binary": (
                ["bce", "brier", "zero_one"],
                ["bce_logits", "hinge", "zero_one:threshold=0"],
            ),
            "multiclass": (
                ["cross_entropy", "brier", "zero_one"],
                ["softmax_cross_entropy", "multiclass_hinge", "zero_one"],
            ),
        }[doc["task"]]
    )
    keys = set(doc["losses"])  # JSON keys are sorted; compare as sets
    assert keys == set(expected) if isinstance(expected, list) else keys in map(set, expected)


def test_regression_matches_sklearn(runner):
    df = pd.read_csv(REG)
    doc = ev_json(runner, REG)
    assert doc["task"] == "regression"
    assert doc["columns"] == {"target": "y_true", "pred": ["y_pred"], "weight": None}
    assert cost(doc, "mse") == pytest.approx(
        metrics.mean_squared_error(df.y_true, df.y_pred), rel=1e-12
    )
    assert cost(doc, "rmse") == pytest.approx(
        metrics.root_mean_squared_error(df.y_true, df.y_pred), rel=1e-12
    )
    assert cost(doc, "mae") == pytest.approx(
        metrics.mean_absolute_error(df.y_true, df.y_pred), rel=1e-12
    )
    r = (df.y_pred - df.y_true).to_numpy()
    assert doc["losses"]["mse"]["sum"] == pytest.approx(np.sum(r**2), rel=1e-12)
    assert doc["losses"]["mse"]["std"] == pytest.approx(np.std(r**2), rel=1e-9)
    assert doc["losses"]["mae"]["min"] == pytest.approx(np.abs(r).min())
    assert doc["losses"]["mae"]["max"] == pytest.approx(np.abs(r).max())


def test_binary_matches_sklearn(runner):
    df = pd.read_csv(BIN)
    doc = ev_json(runner, BIN, "--pred", "prob")
    assert doc["task"] == "binary" and doc["prediction_kind"] == "probability"
    assert cost(doc, "bce") == pytest.approx(metrics.log_loss(df.y_true, df.prob), rel=1e-9)
    assert cost(doc, "brier") == pytest.approx(
        metrics.brier_score_loss(df.y_true, df.prob), rel=1e-12
    )
    assert cost(doc, "zero_one") == pytest.approx(
        metrics.zero_one_loss(df.y_true, (df.prob >= 0.5).astype(int)), rel=1e-12
    )


def test_multiclass_class_names_match_sklearn(runner):
    df = pd.read_csv(WINE)
    probs = df[["prob_class_0", "prob_class_1", "prob_class_2"]].to_numpy()
    doc = ev_json(runner, WINE)
    assert doc["task"] == "multiclass"
    assert doc["columns"]["classes"] == ["class_0", "class_1", "class_2"]
    labels = ["class_0", "class_1", "class_2"]
    assert cost(doc, "cross_entropy") == pytest.approx(
        metrics.log_loss(df.y_true, probs, labels=labels), rel=1e-9
    )
    y_idx = df.y_true.map({name: i for i, name in enumerate(labels)}).to_numpy()
    assert cost(doc, "zero_one") == pytest.approx(
        metrics.zero_one_loss(y_idx, probs.argmax(axis=1)), rel=1e-12
    )


def test_multiclass_logits_and_explicit_glob(runner):
    df = pd.read_csv(IRIS)
    logits = df[["logit_setosa", "logit_versicolor", "logit_virginica"]].to_numpy()
    doc = ev_json(runner, IRIS, "--pred", "logit_*", "-l", "softmax_cross_entropy,multiclass_hinge")
    z = logits - logits.max(axis=1, keepdims=True)
    logp = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
    expected = -logp[np.arange(len(df)), df.y_true].mean()
    assert cost(doc, "softmax_cross_entropy") == pytest.approx(expected, rel=1e-12)
    assert cost(doc, "multiclass_hinge") == pytest.approx(
        metrics.hinge_loss(df.y_true, logits, labels=[0, 1, 2]), rel=1e-12
    )


def test_multiclass_target_probability_columns(runner, tmp_path):
    rng = np.random.default_rng(0)
    y = rng.dirichlet(np.ones(3), 30)
    p = rng.dirichlet(np.ones(3), 30)
    df = pd.DataFrame(
        {
            **{f"t_{c}": y[:, i] for i, c in enumerate("abc")},
            **{f"prob_{c}": p[:, i] for i, c in enumerate("cab")},
        }
    )  # other order
    path = tmp_path / "soft.csv"
    df.to_csv(path, index=False)
    doc = ev_json(runner, path, "--target", "t_*", "-l", "kl_div")
    # Pairing by class name: prob_c is the third target column.
    q = df[["prob_a", "prob_b", "prob_c"]].to_numpy()
    expected = np.mean(np.sum(y * (np.log(y) - np.log(q)), axis=1))
    assert cost(doc, "kl_div") == pytest.approx(expected, rel=1e-12)


# --- formats -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def reg_frame() -> pd.DataFrame:
    return pd.read_csv(REG)


@pytest.mark.parametrize(
    "name",
    [
        "d.csv",
        "d.tsv",
        "d.parquet",
        "d.pq",
        "d.jsonl",
        "d.ndjson",
        "d.feather",
        "d.arrow",
        "d.csv.gz",
        "d.csv.bz2",
        "d.csv.xz",
        "d.csv.zst",
        "d.jsonl.gz",
        "d.parquet.gz",
        "d.tsv.zst",
    ],
)
def test_formats_give_identical_results(runner, tmp_path, reg_frame, name):
    path = tmp_path / name
    base, *comp = name.split(".")[1:]
    compression = (
        {"gz": "gzip", "bz2": "bz2", "xz": "xz", "zst": "zstd"}.get(comp[0]) if comp else None
    )
    if compression == "zstd":  # written with pyarrow's codec (pandas would need zstandard)
        import pyarrow as pa

        text = reg_frame.to_csv(sep="\t" if base == "tsv" else ",", index=False).encode()
        with pa.CompressedOutputStream(str(path), "zstd") as out:
            out.write(text)
    elif base in ("csv", "tsv"):
        reg_frame.to_csv(
            path, sep="\t" if base == "tsv" else ",", index=False, compression=compression
        )
    elif base == "jsonl" or base == "ndjson":
        reg_frame.to_json(
            path, orient="records", lines=True, compression=compression, double_precision=15
        )
    elif base in ("parquet", "pq"):
        if compression:
            raw = tmp_path / "raw.parquet"
            reg_frame.to_parquet(raw)
            path.write_bytes(gzip.compress(raw.read_bytes()))
        else:
            reg_frame.to_parquet(path)
    else:
        reg_frame.to_feather(path)
    doc = ev_json(runner, path, "-l", "mse,mae")
    ref = ev_json(runner, REG, "-l", "mse,mae")
    rel = 1e-12 if "json" in name else 1e-15  # JSON text keeps 15 significant digits
    assert cost(doc, "mse") == pytest.approx(cost(ref, "mse"), rel=rel)
    assert cost(doc, "mae") == pytest.approx(cost(ref, "mae"), rel=rel)
    assert doc["n_used"] == 442


def test_stdin_csv_and_input_format(runner, tmp_path):
    text = REG.read_text()
    doc = ev_json(runner, "-", "-l", "mse", input=text)
    assert doc["source"] == "<stdin>"
    assert cost(doc, "mse") == pytest.approx(cost(ev_json(runner, REG, "-l", "mse"), "mse"))
    pq = SAMPLE_DATA / "diabetes_regression.parquet"
    doc = ev_json(runner, "-", "--input-format", "parquet", "-l", "mse", input=pq.read_bytes())
    assert doc["n_used"] == 442


def test_installed_command_reads_a_pipe_and_writes_json():
    exe = Path(sys.executable).with_name("lossctl")
    cmd = [str(exe)] if exe.exists() else [sys.executable, "-m", "lossctl"]
    res = subprocess.run(
        [*cmd, "eval", "-", "--json", "-l", "mse,huber:delta=2"],
        input=REG.read_bytes(),
        capture_output=True,
        check=False,
    )
    assert res.returncode == 0, res.stderr
    doc = json.loads(res.stdout)
    assert set(doc["losses"]) == {"mse", "huber:delta=2"}
    assert doc["losses"]["huber:delta=2"]["params"] == {"delta": 2.0}
    bad = subprocess.run([*cmd, "eval", "missing.csv"], capture_output=True, text=True, check=False)
    assert bad.returncode == 2
    assert bad.stderr == "Error: file missing.csv not found; check the path.\n"


# --- columns, tasks, labels ----------------------------------------------------------


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_explicit_columns_case_insensitive_detection(runner, tmp_path):
    path = write(tmp_path, "a.csv", "Truth,Forecast,other\n1,2,9\n2,2,9\n")
    doc = ev_json(runner, path, "-l", "mae")
    assert doc["columns"]["target"] == "Truth" and doc["columns"]["pred"] == ["Forecast"]
    doc = ev_json(runner, path, "-t", "other", "-p", "Truth", "-l", "mae")
    assert cost(doc, "mae") == 7.5


@pytest.mark.parametrize(
    ("labels", "extra"),
    [
        (["0", "1", "1", "0"], []),
        (["-1", "1", "1", "-1"], []),
        (["false", "true", "true", "false"], []),
        (["no", "yes", "yes", "no"], []),
        (["ham", "spam", "spam", "ham"], ["--pos-label", "spam"]),
    ],
)
def test_binary_label_encodings_agree(runner, tmp_path, labels, extra):
    probs = [0.2, 0.7, 0.9, 0.4]
    path = write(
        tmp_path,
        "b.csv",
        "y_true,prob\n" + "".join(f"{a},{b}\n" for a, b in zip(labels, probs, strict=True)),
    )
    doc = ev_json(runner, path, *extra)
    assert doc["task"] == "binary"
    assert cost(doc, "bce") == pytest.approx(metrics.log_loss([0, 1, 1, 0], probs), rel=1e-12)


def test_hinge_with_minus_one_labels_matches_sklearn(runner):
    df = pd.read_csv(SAMPLE_DATA / "breast_cancer_scores.csv")
    doc = ev_json(runner, SAMPLE_DATA / "breast_cancer_scores.csv", "-l", "hinge")
    assert cost(doc, "hinge") == pytest.approx(metrics.hinge_loss(df.y_true, df.score), rel=1e-12)


def test_task_override_and_default_sets(runner, tmp_path):
    path = write(tmp_path, "t.csv", "y_true,y_pred\n0,0.5\n1,0.25\n1,1\n")
    assert ev_json(runner, path)["task"] == "binary"
    doc = ev_json(runner, path, "--task", "regression")
    assert doc["task"] == "regression" and set(doc["losses"]) == {"mse", "rmse", "mae", "huber"}
    scores = write(tmp_path, "s.csv", "y_true,score\n0,-2.5\n1,3\n1,-0.5\n")
    assert set(ev_json(runner, scores)["losses"]) == {"bce_logits", "hinge", "zero_one:threshold=0"}


# --- weights, groups, chunking ---------------------------------------------------------


def test_weights_match_sklearn(runner, tmp_path):
    df = pd.read_csv(REG)
    df["w"] = np.random.default_rng(1).uniform(0, 3, len(df))
    path = tmp_path / "w.parquet"
    df.to_parquet(path)
    doc = ev_json(runner, path, "-w", "w", "-l", "mse,rmse,mae")
    kw = {"sample_weight": df.w}
    assert doc["columns"]["weight"] == "w"
    assert cost(doc, "mse") == pytest.approx(
        metrics.mean_squared_error(df.y_true, df.y_pred, **kw), rel=1e-12
    )
    assert cost(doc, "rmse") == pytest.approx(
        metrics.root_mean_squared_error(df.y_true, df.y_pred, **kw), rel=1e-12
    )
    assert cost(doc, "mae") == pytest.approx(
        metrics.mean_absolute_error(df.y_true, df.y_pred, **kw), rel=1e-12
    )


def test_groups_match_pandas(runner):
    df = pd.read_csv(REG)
    doc = ev_json(runner, REG, "--by", "sex", "-l", "mse,rmse")
    assert doc["by"] == "sex"
    for name, g in df.groupby("sex"):
        assert doc["groups"][name]["n_used"] == len(g)
        assert doc["groups"][name]["losses"]["mse"]["cost"] == pytest.approx(
            metrics.mean_squared_error(g.y_true, g.y_pred), rel=1e-12
        )
        assert doc["groups"][name]["losses"]["rmse"]["cost"] == pytest.approx(
            metrics.root_mean_squared_error(g.y_true, g.y_pred), rel=1e-12
        )
    table = ev(runner, REG, "--by", "sex")
    assert "cost by sex" in table.stdout and "overall" in table.stdout


@pytest.mark.parametrize("chunk", ["1", "7", "100", "441", "442", "100000"])
def test_chunked_equals_one_pass(runner, chunk):
    args = [REG, "-l", "mse,rmse,mae,huber,log_cosh", "--by", "sex"]
    one = ev_json(runner, *args)
    chunked = ev_json(runner, *args, "--chunk-size", chunk)
    for key, v in one["losses"].items():
        for stat in ("cost", "sum", "std", "min", "max"):
            assert chunked["losses"][key][stat] == close(v[stat]), (key, stat)
    for g in one["groups"]:
        for key in one["losses"]:
            assert chunked["groups"][g]["losses"][key]["cost"] == pytest.approx(
                one["groups"][g]["losses"][key]["cost"], rel=1e-12
            )


# --- outputs -----------------------------------------------------------------------------


def test_precision_is_significant_digits(runner, tmp_path):
    path = write(tmp_path, "small.csv", "y_true,y_pred\n0,0.003847\n0,0.003847\n")
    res = ev(runner, path, "-l", "mse")
    assert "1.47994e-05" in res.stdout  # 0.003847² = 1.4799409e-05; never printed as 0
    res = ev(runner, path, "-l", "mse", "--precision", "3", "--format", "csv")
    assert res.stdout.splitlines()[1].split(",")[3] == "1.48e-05"


def test_markdown_csv_tsv(runner):
    md = ev(runner, REG, "--format", "markdown", "-l", "mse")
    assert md.stdout.startswith("**lossctl eval**")
    assert "| `mse` | 2991.03 |" in md.stdout
    csv_out = ev(runner, REG, "--format", "csv", "-l", "mse,mae", "--by", "sex").stdout.splitlines()
    assert csv_out[0] == "group,loss,name,cost,std,min,max,sum,n"
    assert len(csv_out) == 1 + 2 + 4
    tsv = ev(runner, REG, "--format", "tsv", "-l", "mse").stdout
    assert tsv.splitlines()[1].split("\t")[1] == "mse"


def test_quiet_prints_nothing(runner):
    res = ev(runner, REG, "-q")
    assert res.exit_code == 0 and res.stdout == "" and res.stderr == ""


def test_json_has_no_nan(runner, tmp_path):
    path = write(tmp_path, "n.csv", "y_true,y_pred,w\n1,2,1\n2,3,1\n")
    res = ev(runner, path, "--json", "-l", "mse")
    assert "NaN" not in res.stdout and "Infinity" not in res.stdout
    doc = json.loads(res.stdout)
    assert doc["schema_version"] == 1 and doc["command"] == "eval"


@pytest.mark.parametrize("suffix", [".csv", ".tsv", ".parquet"])
def test_per_sample_round_trip(runner, tmp_path, suffix):
    out = tmp_path / f"per{suffix}"
    res = ev(runner, REG, "-l", "mse,huber:delta=2", "--per-sample", out, "--chunk-size", "100")
    assert res.exit_code == 0, res.output
    got = (
        pd.read_parquet(out)
        if suffix == ".parquet"
        else pd.read_csv(out, sep="\t" if suffix == ".tsv" else ",")
    )
    df = pd.read_csv(REG)
    assert list(got.columns) == ["row_1based", "y_true", "y_pred", "mse", "huber:delta=2"]
    assert got["row_1based"].tolist() == list(range(1, 443))
    np.testing.assert_allclose(got["mse"], (df.y_pred - df.y_true) ** 2, rtol=1e-12)
    assert not list(tmp_path.glob(".per*"))  # no temporary file left


def test_per_sample_with_id_and_stdout(runner):
    res = ev(runner, REG, "-l", "mae", "--id", "id", "--per-sample", "-")
    assert res.exit_code == 0
    lines = res.stdout.splitlines()
    assert lines[0] == '"id","y_true","y_pred","mae"'
    assert len(lines) == 443


def test_per_sample_omit_keeps_row_numbers(runner, tmp_path):
    path = write(tmp_path, "n.csv", "y_true,y_pred\n1,2\n2,\n3,5\n")
    out = tmp_path / "out.csv"
    res = ev(runner, path, "--nan", "omit", "-l", "mae", "--per-sample", out)
    assert res.exit_code == 0
    assert "dropped 1 of 3 rows" in res.stderr
    assert pd.read_csv(out)["row_1based"].tolist() == [1, 3]


def test_per_sample_refuses_input_and_is_atomic(runner, tmp_path):
    src = tmp_path / "in.csv"
    src.write_text(REG.read_text())
    before = src.read_bytes()
    res = ev(runner, src, "--per-sample", src)
    assert res.exit_code == 2 and "never overwrites its input" in res.stderr
    assert src.read_bytes() == before
    bad = write(tmp_path, "bad.csv", "y_true,y_pred\n1,2\n" * 5 + "-5,1\n")
    out = tmp_path / "out.csv"
    out.write_text("old content\n")
    res = ev(runner, bad, "-l", "msle", "--per-sample", out, "--chunk-size", "2", "--force")
    assert res.exit_code == 2
    assert out.read_text() == "old content\n"  # whole or not at all
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".out")] == []


# --- gates and config ------------------------------------------------------------------------


def test_max_gate_exit_1_with_report(runner):
    res = ev(runner, REG, "--max", "rmse=50", "--max", "mae=50", "--json")
    assert res.exit_code == 1
    doc = json.loads(res.stdout)
    assert doc["gate"]["passed"] is False
    assert doc["gate"]["failures"] == [
        {"loss": "rmse", "cost": doc["losses"]["rmse"]["cost"], "max": 50.0, "kind": "max"}
    ]
    assert res.stderr == "Gate failed: rmse = 54.6903 > max 50\n"
    ok = ev(runner, REG, "--max", "rmse=60")
    assert ok.exit_code == 0 and "gates passed" in ok.stdout


def test_gate_on_loss_not_listed_is_added(runner):
    doc = json.loads(ev(runner, REG, "-l", "mse", "--max", "huber:delta=5=1000", "--json").stdout)
    assert set(doc["losses"]) == {"mse", "huber:delta=5"}
    assert doc["gate"]["passed"] is True


def test_quiet_gate_failure_still_on_stderr(runner):
    res = ev(runner, REG, "--max", "mse=1", "-q")
    assert res.exit_code == 1 and res.stdout == ""
    assert res.stderr.startswith("Gate failed: mse = ")


def test_config_defaults_and_cli_wins(runner, tmp_path, monkeypatch):
    (tmp_path / "lossctl.toml").write_text('loss = ["mae"]\nformat = "json"\n[max]\nmae = 1.0\n')
    monkeypatch.chdir(tmp_path)
    res = ev(runner, REG)
    assert res.exit_code == 1
    doc = json.loads(res.stdout)
    assert list(doc["losses"]) == ["mae"]
    res = ev(runner, REG, "-l", "mse", "--max", "mse=1e9", "--format", "csv")
    assert res.exit_code == 0 and res.stdout.startswith("group,loss")


# --- bad input: one line, exit 2, names file/column/row and the fix ---------------------


BAD = [
    ("missing.csv", None, [], "file missing.csv not found"),
    ("x.txt", "a\n1\n", [], "cannot tell the format of"),
    ("empty.csv", "", [], "is empty"),
    ("header.csv", "y_true,y_pred\n", [], "has a header but no data rows"),
    ("bad.parquet", "PAR1 not really", [], "cannot read"),
    ("cols.csv", "a,b\n1,2\n", [], "no prediction column found"),
    ("cols2.csv", "y_true,pred\n1,2\n", ["--pred", "prd"], "column 'prd' not found"),
    (
        "amb.csv",
        "y_true,prob_a,prob_b,logit_a,logit_b\n0,0.5,0.5,1,1\n",
        [],
        "several prediction columns",
    ),
    ("num.csv", "y_true,y_pred\n1,2\n2,x1\n", [], "must be numeric; found 'x1' at row 2"),
    ("nan.csv", "y_true,y_pred\n1,2\n2,\n3,inf\n", [], "2 rows of"),
    ("prob.csv", "y_true,prob\n0,0.2\n1,1.5\n", [], "must be a probability in [0, 1]"),
    ("lab.csv", "y_true,prob\n0,0.2\n2,0.5\n1,0.1\n", ["-l", "bce"], "column 'y_true'"),
    ("negw.csv", "y_true,y_pred,w\n1,2,1\n1,2,-3\n", ["-w", "w"], "negative weight"),
    ("zerow.csv", "y_true,y_pred,w\n1,2,0\n1,2,0\n", ["-w", "w"], "all weights are 0"),
    ("msle.csv", "y_true,y_pred\n1,2\n1,-3\n", ["-l", "msle"], "must be > -1; 1 bad row (row 2)"),
    ("dev.csv", "y_true,y_pred\n1,2\n1,0\n", ["-l", "poisson_deviance"], "must be > 0"),
    ("mix.csv", "y_true,y_pred\n1,2\n", ["-l", "mse,bce"], "cannot be mixed"),
    ("unk.csv", "y_true,y_pred\n1,2\n", ["-l", "msee"], "Did you mean 'mse'"),
    ("par.csv", "y_true,y_pred\n1,2\n", ["-l", "huber:delta=-1"], "must be > 0"),
    ("txt.csv", "y_true,prob\nham,0.2\nspam,0.5\n", [], "pass --pos-label"),
    ("mc.csv", "y_true,prob_a,prob_b\nc,0.5,0.5\n", [], "not one of the 2 classes"),
    ("zeroneg.csv", "y_true,score\n0,1\n-1,2\n1,3\n", ["-l", "hinge"], "mixes labels 0 and -1"),
    ("gate.csv", "y_true,y_pred\n1,2\n", ["--max", "mse"], "expected KEY=VALUE"),
]


@pytest.mark.parametrize(("name", "content", "args", "message"), BAD, ids=[b[0] for b in BAD])
def test_bad_input_exit_2_one_line(runner, tmp_path, monkeypatch, name, content, args, message):
    monkeypatch.chdir(tmp_path)
    if content is not None:
        (tmp_path / name).write_text(content)
    res = ev(runner, name, *args)
    assert res.exit_code == 2, res.output
    lines = res.stderr.splitlines()
    assert len(lines) == 1, res.stderr
    assert lines[0].startswith("Error: ")
    assert message in lines[0]
    assert "Traceback" not in res.stderr
    if content is not None:
        assert (tmp_path / name).read_text() == content  # the input is never modified


def test_nan_raise_counts_all_rows_and_names_first(runner, tmp_path):
    lines = ["y_true,y_pred"] + [f"{i},{'' if i % 10 == 3 else i}" for i in range(100)]
    path = write(tmp_path, "n.csv", "\n".join(lines) + "\n")
    res = ev(runner, path, "--chunk-size", "7")
    assert res.exit_code == 2
    assert "10 rows of" in res.stderr and "first at rows 4, 14, 24, 34, 44, ..." in res.stderr
    assert "--nan omit" in res.stderr
    doc = ev_json(runner, path, "--nan", "omit")
    assert doc["n_dropped"] == 10 and doc["n_used"] == 90


def test_non_numeric_value_after_the_first_block(tmp_path, runner):
    n = 1_200_000  # more than one pyarrow block (16 MiB) of CSV
    y = np.arange(n) % 7
    df = pd.DataFrame({"y_true": y * 1.5, "y_pred": y * 1.25})
    path = tmp_path / "big.csv"
    df.to_csv(path, index=False)
    with open(path, "a") as f:
        f.write("1.0,oops\n")
    res = ev(runner, path, "-l", "mse")
    assert res.exit_code == 2
    assert f"found 'oops' at row {n + 1}" in res.stderr


def test_markdown_embeds_plot_images(runner):
    res = ev(runner, REG, "--format", "markdown", "-l", "mse", "--embed", "docs/images/dist.png")
    assert res.stdout.rstrip().endswith("![dist](docs/images/dist.png)")
