"""compare on one file with K prediction columns reads the file once, with the results and
messages of K reads."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

import lossctl
from lossctl.inputs.frames import FrameSource
from lossctl.inputs.readers import Source
from tests.conftest import SAMPLE_DATA, ok_json


def _file_reads(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    reads: list[str] = []
    chunks = Source.chunks

    def counted(self: Source, *args: Any, **kwargs: Any) -> Any:
        if not isinstance(self, FrameSource):
            reads.append(self.name)
        return chunks(self, *args, **kwargs)

    monkeypatch.setattr(Source, "chunks", counted)
    return reads


def test_one_file_three_models_is_read_once(monkeypatch: pytest.MonkeyPatch) -> None:
    reads = _file_reads(monkeypatch)
    path = SAMPLE_DATA / "diabetes_regression.csv"
    report = lossctl.compare(str(path), "mse,mae", pred=["y_pred", "y_pred_gbr"], resamples=200)
    assert reads == [str(path)]
    # By hand: the mean squared errors of the two columns.
    df = pd.read_csv(path)
    assert report.cost("mse", "y_pred_gbr") == pytest.approx(
        float(((df.y_pred_gbr - df.y_true) ** 2).mean()), rel=1e-13
    )
    assert report.to_dict()["models"]["y_pred"]["source"] == str(path)


def test_several_files_are_each_read_once(monkeypatch: pytest.MonkeyPatch) -> None:
    reads = _file_reads(monkeypatch)
    files = [str(SAMPLE_DATA / f"diabetes_{m}.csv") for m in ("ridge", "gbr")]
    lossctl.compare(files, "mse", resamples=100)
    assert sorted(reads) == sorted(files)


def test_messages_still_name_the_file_and_its_rows(tmp_path: Path) -> None:
    pd.DataFrame({"y": [1, 0, 1], "a": [0.5, 0.3, 0.9], "b": [0.2, 1.4, 0.6]}).to_csv(
        tmp_path / "p.csv", index=False
    )
    res = subprocess.run(
        ["lossctl", "compare", "p.csv", "-t", "y", "-p", "a", "-p", "b", "-l", "bce"],
        cwd=tmp_path, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert res.returncode == 2
    assert res.stderr.strip() == (
        "Error: loss 'bce': column 'b' of p.csv must be a probability in [0, 1]; 1 bad row "
        "(row 2) (first value: 1.4). If these are logits or margin scores, use bce_logits or "
        "hinge instead."
    )


def test_a_parquet_file_with_a_group_column(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    n = 500
    y = rng.normal(size=n)
    df = pd.DataFrame({"region": pd.Categorical(rng.choice(["n", "s"], n)), "y_true": y,
                       "m1": y + rng.normal(size=n), "m2": y + rng.normal(0, 2, n)})  # fmt: skip
    df.to_parquet(tmp_path / "p.parquet")
    doc = ok_json(tmp_path, "compare", "p.parquet", "-p", "m1", "-p", "m2", "-l", "mae",
                  "--test", "none")  # fmt: skip
    for m in ("m1", "m2"):
        assert doc["losses"]["mae"]["costs"][m] == pytest.approx(
            float((df[m] - df.y_true).abs().mean()), rel=1e-13
        )
